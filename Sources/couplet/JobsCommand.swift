import ArgumentParser
import CommandSupport
import Foundation
import Logging
import Postgres
import Queue
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

extension JobStatus: ExpressibleByArgument {}

/// `couplet jobs list`: the newest jobs, one line each.
struct JobsListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List jobs, newest first.")

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("Only jobs in this state, or with this status (see couplet jobs --help).", valueName: "state"))
    var state: JobStatus?

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
        let jobs = try await JobList.jobs(JobFilter(status: state, kind: kind, queue: queue, limit: limit), on: connection)
        guard !jobs.isEmpty else { return print("No jobs match.") }
        var table = TextTable(header: ["ID", "KIND", "MAPPING", "QUEUE", "STATUS", "PRI", "ATTEMPT", "AGE", "RUN AT", "WORKER", "LAST ERROR"])
        table.rows = jobs.map(Self.cells)
        table.lines().forEach { print($0) }
    }

    /// One table row for one job.
    private static func cells(_ job: JobSummary) -> [String] {
        [
            String(job.id), job.kind, job.mapping ?? "-", job.queue, job.waitingOnJob.map { "waiting on \($0)" } ?? job.status,
            String(job.priority), "\(job.attempt)/\(job.maxAttempts)", JobDuration(seconds: Int(job.ageSeconds)).description,
            RelativeTime.describe(secondsFromNow: job.runAtFromNowSeconds), job.workerHost ?? "-", job.lastError?.oneLine(limit: 60) ?? "-",
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
        guard let job = try await JobList.detail(id, on: connection) else { throw CommandFailure(description: "job \(id) does not exist") }
        JobFields(job).lines.forEach { print($0) }
        Self.errorLines(try await JobList.errors(of: id, on: connection)).forEach { print($0) }
        Self.attemptLines(try await JobList.attempts(of: id, on: connection)).forEach { print($0) }
        try await runLines(on: connection).forEach { print($0) }
    }

    /// The passes a sync job logged, with their counts (nothing for a job that logged none).
    private func runLines(on connection: PostgresConnection) async throws -> [String] {
        let runs = try await MappingStore.runs(ofJob: id, on: connection)
        return runs.isEmpty ? [] : MappingText.runs(runs)
    }

    /// The job's errors, oldest first, each with its attempt and time.
    private static func errorLines(_ errors: [JobErrorEntry]) -> [String] {
        guard !errors.isEmpty else { return [JobFields.line("errors", "none")] }
        return ["errors (\(errors.count))"] + errors.flatMap { error in
            let lines = error.message.split(whereSeparator: \.isNewline).map(String.init)
            return ["  attempt \(error.attempt ?? "?") at \(error.at ?? "?"): \(lines.first ?? "")"] + lines.dropFirst().map { "      " + $0 }
        }
    }

    /// The job's attempts, as a table.
    private static func attemptLines(_ attempts: [JobAttemptRecord]) -> [String] {
        guard !attempts.isEmpty else { return [JobFields.line("attempts", "none")] }
        var table = TextTable(header: ["ATTEMPT", "OUTCOME", "WORKER", "STARTED", "FINISHED", "TOOK", "ERROR"])
        table.rows = attempts.map { attempt in
            [
                String(attempt.attempt), attempt.outcome, attempt.worker, attempt.startedAt?.formatted(.iso8601) ?? "-",
                attempt.finishedAt.formatted(.iso8601), attempt.tookSeconds.map { JobDuration(seconds: Int($0)).description } ?? "-",
                attempt.error?.oneLine(limit: 80) ?? "-",
            ]
        }
        return ["attempts (\(attempts.count))"] + table.lines(indent: "  ")
    }
}

/// The fields of one job, as labelled lines for `couplet jobs show`.
struct JobFields {
    /// The lines, in the order a person reads them.
    let lines: [String]

    /// Lays out the job's fields; ages are told from the server's clock, so they do not depend on this machine's.
    init(_ job: JobDetail) {
        let moment = { (date: Date?) in RelativeTime.moment(date, now: job.serverNow) }
        let fields: [(String, String)] = [
            ("status", job.status + (job.waitingOnJob.map { " on job \($0)" } ?? "") + (job.status == job.state ? "" : " (state \(job.state))")),
            ("priority", String(job.priority)),
            ("attempt", "\(job.attempt) of \(job.maxAttempts)"),
            ("created", moment(job.createdAt)),
            ("run at", moment(job.runAt)),
            ("attempted", moment(job.attemptedAt)),
            ("finished", moment(job.finishedAt)),
            ("worker", Self.worker(id: job.workerID, host: job.workerHost)),
            ("lease expires", moment(job.leaseExpiresAt)),
            ("cancel requested", moment(job.cancelRequestedAt)),
            ("timeout", job.timeout ?? "-"),
            ("expires", moment(job.expiresAt)),
            ("unique key", job.uniqueKey ?? "-"),
            ("concurrency key", job.concurrencyKey ?? "-"),
            ("schedule", job.scheduleName ?? "-"),
            ("last error", (job.lastError ?? "-").oneLine(limit: 200)),
        ]
        let header = "Job \(job.id): \(job.kind) on queue \(job.queue)"
        lines = [header] + fields.map(Self.line)
            + Self.block("args", job.prettyArguments) + Self.block("result", job.prettyResult ?? "-")
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
