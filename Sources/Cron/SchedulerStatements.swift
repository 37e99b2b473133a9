import Foundation
import Postgres

/// The scheduler's statements: the leader lease, loading schedules and their last ticks, firing ticks.
enum SchedulerStatements {
    /// Takes the leader lease if it is free or expired, or renews it if `holder` has it.
    /// Returns whether `holder` leads now. Uses the server's clock, so processes need not agree on time.
    static func lead(
        _ holder: UUID, hostname: String, pid: Int32, lease: Duration, on connection: PostgresConnection
    ) async throws -> Bool {
        try await !connection.query(
            """
            INSERT INTO couplet.scheduler_leader AS l (holder, hostname, pid, expires_at)
            VALUES (\(holder), \(hostname), \(pid), now() + \(lease))
            ON CONFLICT (singleton) DO UPDATE
                SET holder = excluded.holder, hostname = excluded.hostname, pid = excluded.pid,
                    acquired_at = CASE WHEN l.holder = excluded.holder THEN l.acquired_at ELSE now() END,
                    renewed_at = now(), expires_at = excluded.expires_at
                WHERE l.holder = excluded.holder OR l.expires_at < now()
            RETURNING holder
            """, name: "lead scheduler"
        ).isEmpty
    }

    /// Gives the lease up at once, so a standby takes over without waiting for it to expire.
    static func resign(_ holder: UUID, on connection: PostgresConnection) async throws {
        try await connection.query("DELETE FROM couplet.scheduler_leader WHERE holder = \(holder)", name: "resign scheduler")
    }

    /// An enabled schedule as stored.
    struct StoredSchedule: Sendable {
        var name: String
        var expression: String
        var timeZone: String
        var misfirePolicy: String
        var catchUpWindow: Double
        var lastTick: Date?
    }

    /// The enabled schedules with the last tick handled for each.
    static func enabledSchedules(on connection: PostgresConnection) async throws -> [StoredSchedule] {
        try await connection.query(
            """
            SELECT s.name, s.expression, s.timezone, s.misfire_policy, extract(epoch FROM s.catch_up_window)::float8,
                   (SELECT max(t.fire_time) FROM couplet.schedule_ticks t WHERE t.schedule_name = s.name)
            FROM couplet.schedules s WHERE s.enabled ORDER BY s.name
            """, name: "load schedules"
        ).map { row in
            let (name, expression, zone, policy, window, lastTick) = try row.decode((String, String, String, String, Double, Date?).self)
            return StoredSchedule(
                name: name, expression: expression, timeZone: zone, misfirePolicy: policy, catchUpWindow: window, lastTick: lastTick)
        }
    }

    /// One handled tick.
    struct FiredTick: Sendable, Equatable {
        var schedule: String
        var fireTime: Date
        var outcome: String
        var jobID: Int64?
    }

    /// Enqueues the due ticks in one round trip; each tick is handled exactly once however many
    /// schedulers try (the tick's primary key decides). Returns the ticks this call handled.
    static func fire(_ ticks: [(schedule: String, fireTime: Date)], by scheduler: UUID, on connection: PostgresConnection)
        async throws -> [FiredTick]
    {
        guard !ticks.isEmpty else { return [] }
        return try await connection.query(
            "SELECT * FROM couplet.fire_schedule_ticks(\(ticks.map(\.schedule)), \(ticks.map(\.fireTime)), \(scheduler))",
            name: "fire schedule ticks"
        ).map { row in
            let (schedule, fireTime, outcome, jobID) = try row.decode((String, Date, String, Int64?).self)
            return FiredTick(schedule: schedule, fireTime: fireTime, outcome: outcome, jobID: jobID)
        }
    }

    /// Records each schedule's next fire time (nil: never) and why it cannot be used (nil: it can).
    static func record(
        next: [(schedule: String, fireTime: Date?, error: String?)], on connection: PostgresConnection
    ) async throws {
        guard !next.isEmpty else { return }
        try await connection.query(
            """
            UPDATE couplet.schedules s SET next_fire_at = n.next_fire_at, last_error = n.last_error
            FROM unnest(\(next.map(\.schedule)), \(next.map(\.fireTime)), \(next.map(\.error))) AS n(name, next_fire_at, last_error)
            WHERE s.name = n.name
              AND (s.next_fire_at IS DISTINCT FROM n.next_fire_at OR s.last_error IS DISTINCT FROM n.last_error)
            """, name: "record next fire times")
    }
}
