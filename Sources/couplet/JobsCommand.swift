import ArgumentParser
import CommandSupport
import Foundation
import Logging
import Postgres
import Sync

/// `couplet jobs`: look at the jobs in the queue and change them, through `couplet.job_status` and
/// the `couplet.*_job` functions a DBA would use from psql.
struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "List, inspect, retry, cancel, hold and resume jobs.",
        discussion: """
            A job's status is its state, or: waiting (due, but another job with its concurrency key \
            is running), scheduled (not due yet), cancelling (running, cancel requested) or expired \
            (pending past its expiry). The same is available in SQL from the view couplet.job_status.
            """,
        subcommands: [
            JobsListCommand.self, JobsShowCommand.self, JobsRetryCommand.self, JobsCancelCommand.self,
            JobsHoldCommand.self, JobsResumeCommand.self,
        ])
}

/// The states and statuses `couplet jobs list --state` filters on.
enum JobStatusFilter: String, ExpressibleByArgument, CaseIterable {
    case scheduled, available, running, retryable, completed, failed, cancelled
    case onHold = "on_hold"
    case waiting, cancelling, expired
}

/// `couplet jobs list`: the newest jobs, one line each.
struct JobsListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List jobs, newest first.")

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("Only jobs in this state, or with this status (see couplet jobs --help).", valueName: "state"))
    var state: JobStatusFilter?

    @Option(help: ArgumentHelp("Only jobs on this queue.", valueName: "queue"))
    var queue: String?

    @Option(help: ArgumentHelp("Only jobs of this kind.", valueName: "kind"))
    var kind: String?

    @Option(help: ArgumentHelp("Show at most this many jobs.", valueName: "n"))
    var limit = 50

    /// Refuses a limit outside 1…10000.
    func validate() throws {
        guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be from 1 to 10000, not \(limit).") }
    }

    /// Prints the matching jobs as a table, or says that none match.
    func run() async throws {
        let logger = try global.makeLogger("couplet.jobs")
        let connection = try await global.connect(logger, applicationName: "couplet jobs list")
        let rows = try await connection.query("""
            SELECT id, kind, args ->> 'mapping', queue, status, waiting_on_job, priority, attempt, max_attempts,
                   extract(epoch FROM age)::float8, extract(epoch FROM run_at - now())::float8, worker_host, last_error
            FROM couplet.job_status
            WHERE \(filter)
            ORDER BY id DESC
            LIMIT \(limit)
            """, name: "list jobs")
        guard !rows.isEmpty else { return print("No jobs match.") }
        var table = TextTable(header: ["ID", "KIND", "MAPPING", "QUEUE", "STATUS", "PRI", "ATTEMPT", "AGE", "RUN AT", "WORKER", "LAST ERROR"])
        table.rows = try rows.map(Self.cells)
        table.lines().forEach { print($0) }
    }

    /// The WHERE condition for the options given (`true` when none).
    private var filter: PostgresQuery {
        var conditions: [PostgresQuery] = ["true"]
        if let state { conditions.append("(state = \(state.rawValue) OR status = \(state.rawValue))") }
        if let queue { conditions.append("queue = \(queue)") }
        if let kind { conditions.append("kind = \(kind)") }
        return PostgresQuery.joined(conditions, separator: " AND ")
    }

    /// One table row from one result row.
    private static func cells(_ row: PostgresRow) throws -> [String] {
        let (id, kind, mapping, queue, status, waitingOn, priority, attempt, maxAttempts, age, runAt, worker, lastError) = try row.decode(
            (Int64, String, String?, String, String, Int64?, Int, Int, Int, Double, Double, String?, String?).self)
        return [
            String(id), kind, mapping ?? "-", queue, waitingOn.map { "waiting on \($0)" } ?? status, String(priority),
            "\(attempt)/\(maxAttempts)", JobDuration(seconds: Int(age)).description,
            RelativeTime.describe(secondsFromNow: runAt), worker ?? "-", lastError?.oneLine(limit: 60) ?? "-",
        ]
    }
}

/// `couplet jobs show ID`: everything about one job, its errors and its attempts.
struct JobsShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one job: every field, its arguments, every error and attempt, and a sync job's runs with their counts.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The job's id.", valueName: "id"))
    var id: Int64

    /// Prints the job's fields, errors and attempts; fails when there is no such job.
    func run() async throws {
        let logger = try global.makeLogger("couplet.jobs")
        let connection = try await global.connect(logger, applicationName: "couplet jobs show")
        let rows = try await connection.query("""
            SELECT *, CASE WHEN args = '{}' THEN '{}' ELSE jsonb_pretty(args) END AS pretty_args,
                   jsonb_pretty(result) AS pretty_result, now() AS server_now
            FROM couplet.job_status WHERE id = \(id)
            """, name: "show job")
        guard let row = rows.first else { throw CommandFailure(description: "job \(id) does not exist") }
        let now = try row.decode(Date.self, column: "server_now")
        try JobFields(row: row, now: now).lines.forEach { print($0) }
        try await errorLines(on: connection).forEach { print($0) }
        try await attemptLines(on: connection).forEach { print($0) }
        try await runLines(on: connection).forEach { print($0) }
    }

    /// The passes a sync job logged, with their counts (nothing for a job that logged none).
    private func runLines(on connection: PostgresConnection) async throws -> [String] {
        let runs = try await MappingStore.runs(ofJob: id, on: connection)
        return runs.isEmpty ? [] : MappingText.runs(runs)
    }

    /// The job's errors, oldest first, each with its attempt and time.
    private func errorLines(on connection: PostgresConnection) async throws -> [String] {
        let rows = try await connection.query("""
            SELECT element ->> 'attempt', element ->> 'at', coalesce(element ->> 'error', element #>> '{}')
            FROM couplet.jobs,
                 jsonb_array_elements(CASE jsonb_typeof(errors) WHEN 'array' THEN errors ELSE jsonb_build_array(errors) END) AS element
            WHERE id = \(id)
            """, name: "job errors")
        guard !rows.isEmpty else { return [JobFields.line("errors", "none")] }
        return try ["errors (\(rows.count))"] + rows.flatMap { row in
            let (attempt, at, message) = try row.decode((String?, String?, String?).self)
            let lines = (message ?? "").split(whereSeparator: \.isNewline).map(String.init)
            return ["  attempt \(attempt ?? "?") at \(at ?? "?"): \(lines.first ?? "")"] + lines.dropFirst().map { "      " + $0 }
        }
    }

    /// The job's attempts from `couplet.job_attempts`, as a table.
    private func attemptLines(on connection: PostgresConnection) async throws -> [String] {
        let rows = try await connection.query("""
            SELECT attempt, outcome, coalesce(worker_id::text, '-'), started_at, finished_at,
                   extract(epoch FROM finished_at - started_at)::float8, coalesce(error ->> 'error', error #>> '{}')
            FROM couplet.job_attempts WHERE job_id = \(id) ORDER BY attempt, id
            """, name: "job attempts")
        guard !rows.isEmpty else { return [JobFields.line("attempts", "none")] }
        var table = TextTable(header: ["ATTEMPT", "OUTCOME", "WORKER", "STARTED", "FINISHED", "TOOK", "ERROR"])
        table.rows = try rows.map { row in
            let (attempt, outcome, worker, started, finished, took, error) = try row.decode(
                (Int, String, String, Date?, Date, Double?, String?).self)
            return [
                String(attempt), outcome, worker, started?.formatted(.iso8601) ?? "-", finished.formatted(.iso8601),
                took.map { JobDuration(seconds: Int($0)).description } ?? "-", error?.oneLine(limit: 80) ?? "-",
            ]
        }
        return ["attempts (\(rows.count))"] + table.lines(indent: "  ")
    }
}

/// The fields of one `couplet.job_status` row, as labelled lines for `couplet jobs show`.
struct JobFields {
    /// The lines, in the order a person reads them.
    let lines: [String]

    /// Reads the row; `now` is the server's clock, so ages do not depend on this machine's.
    init(row: PostgresRow, now: Date) throws {
        func text(_ column: String) throws -> String { try row.decode(String?.self, column: column) ?? "-" }
        func moment(_ column: String) throws -> String { RelativeTime.moment(try row.decode(Date?.self, column: column), now: now) }
        let status = try row.decode(String.self, column: "status")
        let state = try row.decode(String.self, column: "state")
        let waitingOn = try row.decode(Int64?.self, column: "waiting_on_job")
        let fields: [(String, String)] = [
            ("status", status + (waitingOn.map { " on job \($0)" } ?? "") + (status == state ? "" : " (state \(state))")),
            ("priority", try text("priority")),
            ("attempt", "\(try text("attempt")) of \(try text("max_attempts"))"),
            ("created", try moment("created_at")),
            ("run at", try moment("run_at")),
            ("attempted", try moment("attempted_at")),
            ("finished", try moment("finished_at")),
            ("worker", try Self.worker(id: row.decode(String?.self, column: "worker_id"), host: row.decode(String?.self, column: "worker_host"))),
            ("lease expires", try moment("lease_expires_at")),
            ("cancel requested", try moment("cancel_requested_at")),
            ("timeout", try text("timeout")),
            ("expires", try moment("expires_at")),
            ("unique key", try text("unique_key")),
            ("concurrency key", try text("concurrency_key")),
            ("schedule", try text("schedule_name")),
            ("last error", try text("last_error").oneLine(limit: 200)),
        ]
        let header = "Job \(try text("id")): \(try text("kind")) on queue \(try text("queue"))"
        lines = [header] + fields.map(Self.line)
            + Self.block("args", try text("pretty_args")) + Self.block("result", try text("pretty_result"))
    }

    /// One labelled line, values aligned.
    static func line(_ label: String, _ value: String) -> String { label.padded(to: 18) + value }

    /// The worker's host and id while it is live, its id alone once it is gone.
    private static func worker(id: String?, host: String?) -> String {
        guard let id else { return "-" }
        return host.map { "\($0)  (worker \(id))" } ?? "\(id)  (no longer live)"
    }

    /// A label followed by multi-line text, indented under it.
    private static func block(_ label: String, _ text: String) -> [String] {
        guard text.contains("\n") else { return [line(label, text)] }
        return [label] + text.split(whereSeparator: \.isNewline).map { "  " + $0 }
    }
}
