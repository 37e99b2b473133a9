import ArgumentParser
import CommandSupport
import Logging
import Postgres
import Queue

/// A `couplet jobs retry|cancel|hold|resume ID` command: one `JobChange` (a `couplet.*_job` function) applied to one job.
///
/// The SQL function decides and locks, so the command behaves exactly as the same call from psql;
/// a refused change (no such job, wrong state, unique key taken) exits non-zero with the server's
/// message and hint.
protocol JobChangeCommand: AsyncParsableCommand {
    /// The change, e.g. `.retry` (`couplet.retry_job`).
    static var change: JobChange { get }
    /// Where the database is and how to log.
    var global: GlobalOptions { get }
    /// The job to change.
    var id: Int64 { get }
}

extension JobChangeCommand {
    /// Calls the function and prints the job's new state.
    func run() async throws {
        let logger = try global.makeLogger("couplet.jobs")
        let connection = try await global.connect(logger, applicationName: "couplet jobs \(Self.configuration.commandName ?? "")")
        let state: String
        do {
            state = try await Self.change.apply(to: id, on: connection)
        } catch let refusal as JobChangeRefused {
            throw CommandFailure(description: refusal.description)
        }
        print(Self.describe(state, of: id))
    }

    /// A sentence for the job's new state.
    static func describe(_ state: String, of id: Int64) -> String {
        switch state {
        case "available": "Job \(id) is available: a worker will pick it up."
        case "cancelling": "Job \(id) is cancelling: its worker has been asked to stop it."
        case "on_hold": "Job \(id) is on hold until couplet jobs resume \(id)."
        case "scheduled": "Job \(id) is scheduled: it runs when its run_at comes (couplet jobs show \(id))."
        default: "Job \(id) is \(state)."
        }
    }
}

/// `couplet jobs retry ID`.
struct JobsRetryCommand: JobChangeCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Run a failed, cancelled, completed or pending job again now.",
        discussion: "Raises max-attempts when the job has used them all. Refuses a running or held job, and a job whose unique key another pending job holds.")
    static let change = JobChange.retry

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The job's id.", valueName: "id"))
    var id: Int64
}

/// `couplet jobs cancel ID`.
struct JobsCancelCommand: JobChangeCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel a pending or held job, or ask a running job's worker to stop it.",
        discussion: "Refuses a job that has already finished.")
    static let change = JobChange.cancel

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The job's id.", valueName: "id"))
    var id: Int64
}

/// `couplet jobs hold ID`.
struct JobsHoldCommand: JobChangeCommand {
    static let configuration = CommandConfiguration(
        commandName: "hold",
        abstract: "Keep a pending job from running until it is resumed.")
    static let change = JobChange.hold

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The job's id.", valueName: "id"))
    var id: Int64
}

/// `couplet jobs resume ID`.
struct JobsResumeCommand: JobChangeCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Release a held job: it runs when due.")
    static let change = JobChange.resume

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The job's id.", valueName: "id"))
    var id: Int64
}
