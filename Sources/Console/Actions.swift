import Cron
import Foundation
import Logging
import Postgres
import Queue
import Sync

/// The console's POST actions. Each runs in one transaction on the person's connection together
/// with its line in `couplet.console_actions`, so an action the database refuses leaves no trace but
/// the log's, and one it allows is never unrecorded.
enum Actions {
    /// Every action, by path.
    static let all: [(String, ActionHandler)] = [
        ("/jobs/change", changeJob), ("/jobs/bulk", changeMatchingJobs), ("/schedules/enabled", setScheduleEnabled),
        ("/mappings/action", mappingAction), ("/review/start", startReview),
    ]

    /// Retry, cancel, hold or resume one job.
    static func changeJob(_ context: ActionContext, _ connection: PostgresConnection) async throws -> ActionOutcome {
        let change = try jobChange(context)
        guard let id = Int64(try context.required("id")) else { throw ConsoleFailure.badRequest("A job id is a number.") }
        let target = "job \(id)"
        do {
            let state = try await connection.withTransaction { tx in
                let state = try await change.apply(to: id, on: tx)
                try await context.record("\(change.rawValue) job", target: target, outcome: "now \(state)", on: tx)
                return state
            }
            return ActionOutcome(message: "Job \(id) is now \(state).", location: "/job?id=\(id)")
        } catch let refusal as JobChangeRefused {
            try await context.record("\(change.rawValue) job", target: target, outcome: "refused: \(refusal.message)", on: connection)
            throw ConsoleFailure(status: .conflict, message: refusal.description)
        }
    }

    /// Retry, cancel, hold or resume every job matching the filter; refuses when the number of
    /// matching jobs grew past the one the person confirmed.
    static func changeMatchingJobs(_ context: ActionContext, _ connection: PostgresConnection) async throws -> ActionOutcome {
        let change = try jobChange(context)
        let filter = try JobsPage.filter(context.fields)
        guard let expected = Int(try context.required("expected")) else { throw ConsoleFailure.badRequest("The confirmed count is a number.") }
        let target = "every job " + JobsPage.describe(filter)
        let report = try await connection.withTransaction { tx in
            let matching = try await JobList.count(filter, on: tx)
            guard matching <= expected else {
                throw ConsoleFailure(status: .conflict, message: "\(matching) jobs match now, more than the \(expected) you confirmed: look again.")
            }
            let report = try await change.applyToMatching(filter, on: tx)
            try await context.record("\(change.rawValue) jobs", target: target, outcome: summary(report), on: tx)
            return report
        }
        let location = "/jobs" + Layout.query(JobsPage.fields(of: JobFilter(kind: filter.kind, queue: filter.queue, mapping: filter.mapping)))
        return ActionOutcome(message: "\(change.rawValue.capitalized) \(target): \(summary(report)).", location: location)
    }

    /// `3 changed, 2 refused (1 it is running, 1 it is completed)`.
    static func summary(_ report: BulkChangeReport) -> String {
        let reasons = report.refused.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        return "\(report.changed) changed, \(report.refusedCount) refused" + (reasons.isEmpty ? "" : " (\(reasons))")
    }

    private static func jobChange(_ context: ActionContext) throws -> JobChange {
        guard let change = JobChange(rawValue: try context.required("change")) else {
            throw ConsoleFailure.badRequest("Choose retry, cancel, hold or resume.")
        }
        return change
    }

    /// Enable or disable a schedule.
    static func setScheduleEnabled(_ context: ActionContext, _ connection: PostgresConnection) async throws -> ActionOutcome {
        let name = try context.required("name")
        let enabled = try context.required("enabled") == "true"
        try await connection.withTransaction { tx in
            guard try await ScheduleStore.setEnabled(name, enabled, on: tx) else { throw ConsoleFailure.notFound("There is no schedule \(name).") }
            try await context.record(enabled ? "enable schedule" : "disable schedule", target: "schedule \(name)", outcome: "done", on: tx)
        }
        return ActionOutcome(message: "Schedule \(name) is \(enabled ? "enabled" : "disabled").", location: "/schedules")
    }

    /// Sync now, full sync, retry skipped or verify a mapping: the same library calls as `couplet sync`,
    /// `couplet sync --full`, `couplet sync retry-skipped` and `couplet verify`.
    static func mappingAction(_ context: ActionContext, _ connection: PostgresConnection) async throws -> ActionOutcome {
        let mapping = try context.required("mapping")
        let action = try context.required("action")
        let location = "/mapping" + Layout.query([("name", mapping)])
        let message = try await connection.withTransaction { tx -> String in
            let message: String
            switch action {
            case "sync", "full-sync":
                let kind: SyncKind = action == "sync" ? .delta : .full
                let job = try await enqueueSync(mapping, kind: kind, on: tx)
                message = "Enqueued \(kind == .full ? "full" : "delta") sync of \(mapping) as job \(job)."
            case "retry-skipped":
                let released = try await CouplingStore.retrySkipped(mapping: mapping, on: tx)
                message = "Released \(released) skipped record(s) of \(mapping); the next run retries them first."
            case "verify":
                let report = try await MappingVerifier(coordination: tx, logger: context.logger).verify(mapping: mapping, options: .init(limit: 0))
                message = "\(mapping): \(report.checked) coupled pairs checked: \(report.inStep) in step, \(report.differing) differ, "
                    + "\(report.pending) pending, \(report.orphaned) orphaned, \(report.notComparable) not comparable."
            default:
                throw ConsoleFailure.badRequest("There is no mapping action \(action).")
            }
            try await context.record(action, target: "mapping \(mapping)", outcome: message, on: tx)
            return message
        }
        return ActionOutcome(message: message, location: location)
    }

    private static func enqueueSync(_ mapping: String, kind: SyncKind, on connection: PostgresConnection) async throws -> Int64 {
        do {
            return try await SyncJobs.enqueue(mapping, kind: kind, on: connection)
        } catch SyncRequestRefusal.noSuchMapping {
            throw ConsoleFailure.notFound("There is no mapping \(mapping).")
        } catch SyncRequestRefusal.disabled {
            throw ConsoleFailure(status: .conflict, message: "\(mapping) is disabled (enabled: false in its mappings file); its jobs do nothing.")
        }
    }

    /// Start the full synchronization review (`couplet review run --no-wait`).
    static func startReview(_ context: ActionContext, _ connection: PostgresConnection) async throws -> ActionOutcome {
        let message = try await connection.withTransaction { tx in
            let started: [String]
            do {
                started = try await SyncReview.start(on: tx)
            } catch let failure as SyncFailure {
                throw ConsoleFailure(status: .conflict, message: failure.message)
            }
            let message = "Review started: \(started.joined(separator: ", ")) first."
            try await context.record("start review", target: "every enabled mapping", outcome: message, on: tx)
            return message
        }
        return ActionOutcome(message: message, location: "/review")
    }
}
