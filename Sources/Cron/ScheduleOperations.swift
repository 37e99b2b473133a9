import Foundation
import Postgres
import Queue

extension StoredSchedule {
    /// What is ahead of a schedule.
    public enum Upcoming: Sendable, Equatable {
        /// It does not fire: it is disabled.
        case disabled
        /// It cannot fire: its expression or zone is wrong (the problems, joined).
        case invalid(String)
        /// Its next fire times, and the zone they are read in.
        case fireTimes([Date], TimeZone)
    }

    /// The next `count` fire times after `now`, computed from the expression in the schedule's own zone.
    public func upcoming(after now: Date, count: Int) -> Upcoming {
        guard isEnabled else { return .disabled }
        do {
            let definition = try definition()
            return .fireTimes(definition.expression.fireTimes(after: now, count: count, in: definition.zone), definition.zone)
        } catch {
            return .invalid(error.problems.map(\.message).joined(separator: "; "))
        }
    }
}

/// A tick a schedule fired (or skipped, held, woke), with its job.
public struct ScheduleTickRecord: Sendable, Equatable {
    /// The fire time.
    public var fireTime: Date
    /// `enqueued`, `skipped_overlap`, `held` or `woken`.
    public var outcome: String
    /// The job it enqueued (or found busy, or idle), if any.
    public var jobID: Int64?
    /// That job's state; nil when it has been pruned or there is none.
    public var jobState: String?
}

/// The scheduler process that holds the leader lease.
public struct SchedulerLeaderRecord: Sendable, Equatable {
    public var hostname: String
    public var pid: Int
    /// Since when it leads.
    public var acquiredAt: Date
    /// When its lease runs out unless renewed.
    public var expiresAt: Date
    /// Whether the lease is still valid (else a scheduler takes over at its next round).
    public var isCurrent: Bool
}

extension ScheduleStore {
    /// Enables or disables schedule `name` (the scheduler picks the change up at once); false when
    /// there is no such schedule. A disabled schedule fires nothing until enabled again, and the next
    /// `couplet schedules apply` sets the value its file says.
    public static func setEnabled(_ name: String, _ enabled: Bool, on connection: PostgresConnection) async throws -> Bool {
        try await connection.query(
            "UPDATE couplet.schedules SET enabled = \(enabled) WHERE name = \(name)", name: "enable schedule"
        ).affectedRows == 1
    }

    /// The latest `limit` ticks of schedule `name`, newest first, with their jobs' states.
    public static func recentTicks(of name: String, limit: Int = 10, on connection: PostgresConnection) async throws -> [ScheduleTickRecord] {
        try await connection.query(
            """
            SELECT t.fire_time, t.outcome, t.job_id, j.state
            FROM couplet.schedule_ticks t LEFT JOIN couplet.jobs j ON j.id = t.job_id
            WHERE t.schedule_name = \(name)
            ORDER BY t.fire_time DESC LIMIT \(limit)
            """, name: "recent ticks"
        ).map { row in
            let (fireTime, outcome, jobID, state) = try row.decode((Date, String, Int64?, String?).self)
            return ScheduleTickRecord(fireTime: fireTime, outcome: outcome, jobID: jobID, jobState: state)
        }
    }

    /// The scheduler that leads (or last led, while its lease has not been taken over); nil when none ever did.
    public static func leader(on connection: PostgresConnection) async throws -> SchedulerLeaderRecord? {
        try await connection.query(
            "SELECT hostname, pid::int8, acquired_at, expires_at, expires_at > now() FROM couplet.scheduler_leader", name: "scheduler leader"
        ).first.map { row in
            let (hostname, pid, acquired, expires, current) = try row.decode((String, Int, Date, Date, Bool).self)
            return SchedulerLeaderRecord(hostname: hostname, pid: pid, acquiredAt: acquired, expiresAt: expires, isCurrent: current)
        }
    }
}
