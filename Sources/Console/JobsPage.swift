import Foundation
import Postgres
import Queue
import Sync

/// The jobs: a filtered list with actions for one job or every job matching the filter, and a
/// job's page with its attempts as a timeline.
enum JobsPage {
    /// The filter from a query string or form (unknown states are refused, values are bounded).
    static func filter(_ fields: FormFields) throws -> JobFilter {
        let status = try fields.nonEmpty("state").map { text in
            guard let status = JobStatus(rawValue: text) else { throw ConsoleFailure.badRequest("There is no job state or status \(text).") }
            return status
        }
        let limit = fields.nonEmpty("limit").flatMap { Int($0) } ?? 100
        return JobFilter(
            status: status, kind: fields.nonEmpty("kind"), queue: fields.nonEmpty("queue"), mapping: fields.nonEmpty("mapping"), limit: limit)
    }

    /// The filter's fields, to carry it in a link or a form.
    static func fields(of filter: JobFilter) -> [(String, String?)] {
        [("state", filter.status?.rawValue), ("kind", filter.kind), ("queue", filter.queue), ("mapping", filter.mapping)]
    }

    /// `/jobs`: the filter form, the bulk actions and the matching jobs, newest first.
    static func list(_ context: PageContext, _ connection: PostgresConnection) async throws -> Page {
        let filter = try filter(context.query)
        let jobs = try await JobList.jobs(filter, on: connection)
        let rows = jobs.map { job -> [HTML] in
            [
                Layout.jobLink(job.id), "\(job.kind)", "\(job.mapping ?? "-")", "\(job.queue)",
                job.waitingOnJob.map { "waiting on \(Layout.jobLink($0))" } ?? Layout.badge(job.status), "\(job.attempt)/\(job.maxAttempts)",
                "\(Layout.duration(job.ageSeconds))", "<span class=\"muted\">\((job.lastError ?? "").prefix(120))</span>",
                actions(id: job.id, status: job.status, context),
            ]
        }
        let main: HTML = """
            \(filterForm(filter))\(bulkActions(filter, context))
            \(Layout.table(["ID", "Kind", "Mapping", "Queue", "Status", "Attempt", "Age", "Last error", ""], rows, empty: "No jobs match."))
            <p class="muted">Newest \(filter.limit) at most.</p>
            """
        return Page(title: "Jobs", main: main)
    }

    private static func filterForm(_ filter: JobFilter) -> HTML {
        let options = ([""] + JobStatus.allCases.map(\.rawValue)).map { state -> HTML in
            let selected: HTML = state == (filter.status?.rawValue ?? "") ? " selected" : ""
            return "<option value=\"\(state)\"\(selected)>\(state.isEmpty ? "any" : state)</option>"
        }
        return """
            <form method="get" action="/jobs" class="filters" id="filters">
            <label>State <select name="state" id="filter-state">\(options)</select></label>
            <label>Kind <input name="kind" id="filter-kind" value="\(filter.kind ?? "")" maxlength="200"></label>
            <label>Queue <input name="queue" id="filter-queue" value="\(filter.queue ?? "")" maxlength="200"></label>
            <label>Mapping <input name="mapping" id="filter-mapping" value="\(filter.mapping ?? "")" maxlength="200"></label>
            <button type="submit" id="apply-filter">Filter</button></form>
            """
    }

    /// Links to the confirmation of each change for every matching job.
    private static func bulkActions(_ filter: JobFilter, _ context: PageContext) -> HTML {
        guard !context.isReadOnly else { return .empty }
        let links = JobChange.allCases.map { change -> HTML in
            "<a href=\"/jobs/confirm\(Layout.query(fields(of: filter) + [("change", change.rawValue)]))\" id=\"bulk-\(change.rawValue)\">\(change.rawValue.capitalized) every matching job…</a>"
        }
        return "<p class=\"actions\">\(HTML.joined(links, separator: " · "))</p>"
    }

    /// The changes that make sense for the job's status, as buttons.
    private static func actions(id: Int64, status: String, _ context: PageContext) -> HTML {
        let changes: [JobChange] = switch status {
        case "failed", "cancelled", "completed", "expired": [.retry]
        case "running", "cancelling": [.cancel]
        case "on_hold": [.resume, .cancel]
        default: [.retry, .hold, .cancel]
        }
        return HTML.joined(changes.map { change in
            context.actionForm("/jobs/change", [("id", String(id)), ("change", change.rawValue)], button: change.rawValue.capitalized)
        }, separator: " ")
    }

    /// `/jobs/confirm`: how many jobs the change would cover, and the button that makes it.
    static func confirm(_ context: PageContext, _ connection: PostgresConnection) async throws -> Page {
        guard let change = context.query.nonEmpty("change").flatMap(JobChange.init(rawValue:)) else {
            throw ConsoleFailure.badRequest("Choose retry, cancel, hold or resume.")
        }
        let filter = try filter(context.query)
        let count = try await JobList.count(filter, on: connection)
        let described = describe(filter)
        let form = context.actionForm(
            "/jobs/bulk", fields(of: filter).compactMap { name, value in value.map { (name, $0) } } + [("change", change.rawValue), ("expected", String(count))],
            button: "\(change.rawValue.capitalized) \(count) job(s)", style: "primary")
        let main: HTML = """
            <p id="bulk-question">\(change.rawValue.capitalized) every job \(described): <strong id="bulk-count">\(count)</strong> job(s) match now.
            The function refuses jobs whose state does not allow it; the others change.</p>
            \(context.isReadOnly ? "<p class=\"error\">The console runs read-only.</p>" : form) <a href="/jobs\(Layout.query(fields(of: filter)))">Cancel</a>
            """
        return Page(title: "\(change.rawValue.capitalized) matching jobs", main: main, refreshes: false)
    }

    /// `with state failed, kind sync.delta`, or `of every kind and state`.
    static func describe(_ filter: JobFilter) -> String {
        let parts = fields(of: filter).compactMap { name, value in value.map { "\(name) \($0)" } }
        return parts.isEmpty ? "of every kind and state" : "with " + parts.joined(separator: ", ")
    }

    /// `/job?id=N`: every field, the arguments, the attempts as a timeline with their errors, a sync job's runs.
    static func detail(_ context: PageContext, _ connection: PostgresConnection) async throws -> Page {
        guard let id = context.query.nonEmpty("id").flatMap({ Int64($0) }) else { throw ConsoleFailure.badRequest("Which job? (/job?id=N)") }
        guard let job = try await JobList.detail(id, on: connection) else { throw ConsoleFailure.notFound("Job \(id) does not exist (it may have been pruned).") }
        let attempts = try await JobList.attempts(of: id, on: connection)
        let errors = try await JobList.errors(of: id, on: connection)
        let runs = try await MappingStore.runs(ofJob: id, on: connection)
        let fields: [(String, HTML)] = [
            ("Status", Layout.badge(job.status)), ("Kind", "\(job.kind)"), ("Queue", "\(job.queue)"), ("Mapping", "\(job.mapping ?? "-")"),
            ("Attempt", "\(job.attempt) of \(job.maxAttempts)"), ("Priority", "\(job.priority)"), ("Created", "\(Layout.moment(job.createdAt))"),
            ("Run at", "\(Layout.moment(job.runAt))"), ("Finished", "\(Layout.moment(job.finishedAt))"),
            ("Worker", "\(job.workerHost ?? job.workerID ?? "-")"), ("Concurrency key", "\(job.concurrencyKey ?? "-")"),
            ("Schedule", "\(job.scheduleName ?? "-")"),
        ]
        let table = Layout.table(["Field", "Value"], fields.map { ["\($0.0)", $0.1] }, empty: "")
        let main: HTML = """
            <p>\(actions(id: job.id, status: job.status, context))</p>
            <div class="columns"><div>\(table)<h2>Arguments</h2><pre>\(job.prettyArguments)</pre></div>
            <div><h2>Attempts</h2>\(timeline(attempts, errors: errors))</div></div>
            \(runs.isEmpty ? .empty : "<h2>Sync runs</h2>\(MappingsPage.runTable(runs))")
            """
        return Page(title: "Job \(id): \(job.kind)", main: main)
    }

    /// The attempts, oldest first, each with its outcome, worker, duration and error; errors the
    /// attempts' log no longer holds are listed after them.
    private static func timeline(_ attempts: [JobAttemptRecord], errors: [JobErrorEntry]) -> HTML {
        guard !attempts.isEmpty || !errors.isEmpty else { return "<p class=\"empty\">Not attempted yet.</p>" }
        let items = attempts.map { attempt -> HTML in
            let took = attempt.tookSeconds.map { " in \(Layout.duration($0))" } ?? ""
            let error: HTML = attempt.error.map { "<pre>\($0)</pre>" } ?? ""
            return """
                <li class="\(attempt.outcome)"><strong>Attempt \(attempt.attempt)</strong> \(Layout.badge(attempt.outcome))\
                 <span class="muted">\(Layout.moment(attempt.startedAt)) → \(Layout.moment(attempt.finishedAt))\(took), worker \(attempt.worker)</span>\(error)</li>
                """
        }
        let logged = Set(attempts.map { String($0.attempt) })
        let unlogged = errors.filter { !logged.contains($0.attempt ?? "") }.map { error -> HTML in
            "<li class=\"failed\"><strong>Attempt \(error.attempt ?? "?")</strong> <span class=\"muted\">\(error.at ?? "")</span><pre>\(error.message)</pre></li>"
        }
        return "<ol class=\"timeline\" id=\"timeline\">\(items)\(unlogged)</ol>"
    }
}
