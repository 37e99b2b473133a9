import Foundation
import Postgres
import Queue

/// Reads and writes the schedules in `couplet.schedules`.
///
/// The scheduler listens on `couplet_schedules`: a trigger notifies it when an apply creates,
/// deletes or updates schedules, once per transaction. An apply that changes nothing writes nothing,
/// so it wakes no one.
public enum ScheduleStore {
    /// Makes the stored schedules match `definitions` in one transaction: creates the new ones,
    /// updates the changed ones (and only those: `updated_at = now()`, `last_error = NULL`), and
    /// with `prune` deletes the stored schedules that are not among `definitions` (their ticks go
    /// with them; their jobs stay).
    ///
    /// Applies run one at a time (the table is locked against other writers until commit), so the
    /// report says exactly what this call changed.
    @discardableResult
    public static func apply(
        _ definitions: [ScheduleDefinition], prune: Bool, on connection: PostgresConnection
    ) async throws -> ApplyReport {
        try requireUniqueNames(definitions)
        return try await connection.withTransaction { transaction in
            try await transaction.runScript("LOCK TABLE couplet.schedules IN SHARE ROW EXCLUSIVE MODE", name: "lock schedules")
            let report = try await compare(definitions, prune: prune, on: transaction)
            try await insert(definitions.filter { report.created.contains($0.name) }, on: transaction)
            try await update(definitions.filter { report.updated.contains($0.name) }, on: transaction)
            try await delete(report.deleted, on: transaction)
            return report
        }
    }

    /// What `apply` would do now, without writing anything (a dry run).
    public static func plan(
        _ definitions: [ScheduleDefinition], prune: Bool, on connection: PostgresConnection
    ) async throws -> ApplyReport {
        try requireUniqueNames(definitions)
        return try await compare(definitions, prune: prune, on: connection)
    }

    /// Every stored schedule, by name, with its last tick and the state of that tick's job.
    ///
    /// Rows are read as stored: a schedule someone wrote with SQL may be invalid; see
    /// `StoredSchedule.definition()`.
    public static func list(on connection: PostgresConnection) async throws -> [StoredSchedule] {
        let rows = try await connection.query(
            """
            SELECT s.name, s.expression, s.timezone, s.job_kind, s.args::text AS args, s.queue, s.priority::int8 AS priority,
                   s.max_attempts::int8 AS max_attempts, s.concurrency_key, s.enabled, s.misfire_policy,
                   extract(epoch FROM s.catch_up_window)::float8 AS catch_up_seconds, s.no_overlap, s.next_fire_at,
                   extract(epoch FROM s.retry_delay)::float8 AS retry_delay_seconds,
                   extract(epoch FROM s.inactivity_timeout)::float8 AS inactivity_timeout_seconds, st.held_until,
                   s.last_error, st.last_fire_time, st.last_outcome, st.last_job_state
            FROM couplet.schedules s JOIN couplet.schedule_status st ON st.name = s.name
            ORDER BY s.name
            """, name: "list schedules")
        return try rows.map(StoredSchedule.init(row:))
    }

    /// Ends the hold of schedule `name` now (`couplet.wake_schedule`): its job is enqueued at once,
    /// unless its previous job is still busy and the schedule has `no_overlap`. Returns the job's id,
    /// or nil when the schedule was not on hold (or is disabled, or does not exist). `waker` is the
    /// worker whose probe found work; nil for a person.
    @discardableResult
    public static func wake(_ name: String, by waker: UUID? = nil, on connection: PostgresConnection) async throws -> Int64? {
        try await connection.query(
            "SELECT couplet.wake_schedule(\(name), coalesce(\(waker), '00000000-0000-0000-0000-000000000000'))",
            name: "wake schedule"
        ).single().decode(Int64?.self, at: 0)
    }

    /// The enabled schedules on hold now whose job kind is one of `kinds`: name, job kind and arguments (JSON text).
    public static func held(kinds: [String], on connection: PostgresConnection) async throws -> [HeldSchedule] {
        try await connection.query(
            """
            SELECT s.name, s.job_kind, s.args::text FROM couplet.schedules s JOIN couplet.schedule_holds h ON h.name = s.name
            WHERE s.enabled AND s.job_kind = ANY(\(kinds)::text[]) AND h.held_until > now()
            ORDER BY s.name
            """, name: "held schedules"
        ).map { row in
            let (name, kind, arguments) = try row.decode((String, String, String).self)
            return HeldSchedule(name: name, jobKind: kind, arguments: arguments)
        }
    }

    // MARK: - Statements

    private static func requireUniqueNames(_ definitions: [ScheduleDefinition]) throws(ScheduleDefinitionError) {
        var seen = Set<String>()
        let duplicates = definitions.map(\.name).filter { !seen.insert($0).inserted }
        guard duplicates.isEmpty else {
            throw ScheduleDefinitionError(problems: duplicates.map { .init(field: .name, message: "duplicate schedule name \"\($0)\"") })
        }
    }

    /// Sorts the definitions into new, changed and unchanged, and lists the stored schedules that are not among them.
    private static func compare(
        _ definitions: [ScheduleDefinition], prune: Bool, on connection: PostgresConnection
    ) async throws -> ApplyReport {
        let rows = try await connection.query(
            """
            WITH d AS (\(definitionRows(definitions)))
            SELECT d.name,
                   CASE WHEN s.name IS NULL THEN 'create'
                        WHEN (s.expression, s.timezone, s.job_kind, s.args, s.queue, s.priority, s.max_attempts,
                              s.concurrency_key, s.enabled, s.misfire_policy, s.catch_up_window, s.no_overlap,
                              s.retry_delay, s.inactivity_timeout)
                             IS NOT DISTINCT FROM
                             (d.expression, d.timezone, d.job_kind, d.args, d.queue, d.priority, d.max_attempts,
                              d.concurrency_key, d.enabled, d.misfire_policy, d.catch_up_window, d.no_overlap,
                              d.retry_delay, d.inactivity_timeout)
                        THEN 'unchanged' ELSE 'update' END
            FROM d LEFT JOIN couplet.schedules s ON s.name = d.name
            UNION ALL
            SELECT s.name, 'absent' FROM couplet.schedules s WHERE NOT EXISTS (SELECT FROM d WHERE d.name = s.name)
            """, name: "compare schedules")
        var actions: [String: String] = [:]
        var absent: [String] = []
        for row in rows {
            let (name, action) = try row.decode((String, String).self)
            if action == "absent" { absent.append(name) } else { actions[name] = action }
        }
        func named(_ action: String) -> [String] { definitions.map(\.name).filter { actions[$0] == action } }
        return ApplyReport(
            created: named("create"), updated: named("update"), unchanged: named("unchanged"),
            deleted: prune ? absent.sorted() : [], retained: prune ? [] : absent.sorted())
    }

    private static func insert(_ definitions: [ScheduleDefinition], on connection: PostgresConnection) async throws {
        guard !definitions.isEmpty else { return }
        try await connection.query(
            """
            WITH d AS (\(definitionRows(definitions)))
            INSERT INTO couplet.schedules (name, expression, timezone, job_kind, args, queue, priority, max_attempts,
                                           concurrency_key, enabled, misfire_policy, catch_up_window, no_overlap,
                                           retry_delay, inactivity_timeout)
            SELECT name, expression, timezone, job_kind, args, queue, priority, max_attempts,
                   concurrency_key, enabled, misfire_policy, catch_up_window, no_overlap, retry_delay, inactivity_timeout
            FROM d
            """, name: "create schedules")
    }

    private static func update(_ definitions: [ScheduleDefinition], on connection: PostgresConnection) async throws {
        guard !definitions.isEmpty else { return }
        try await connection.query(
            """
            WITH d AS (\(definitionRows(definitions)))
            UPDATE couplet.schedules s
            SET expression = d.expression, timezone = d.timezone, job_kind = d.job_kind, args = d.args, queue = d.queue,
                priority = d.priority, max_attempts = d.max_attempts, concurrency_key = d.concurrency_key, enabled = d.enabled,
                misfire_policy = d.misfire_policy, catch_up_window = d.catch_up_window, no_overlap = d.no_overlap,
                retry_delay = d.retry_delay, inactivity_timeout = d.inactivity_timeout, updated_at = now(), last_error = NULL
            FROM d
            WHERE s.name = d.name
            """, name: "update schedules")
    }

    private static func delete(_ names: [String], on connection: PostgresConnection) async throws {
        guard !names.isEmpty else { return }
        try await connection.query("DELETE FROM couplet.schedules WHERE name = ANY(\(names)::text[])", name: "delete schedules")
    }

    /// The definitions as rows with the column types of `couplet.schedules`, one array parameter per column.
    private static func definitionRows(_ definitions: [ScheduleDefinition]) -> PostgresQuery {
        """
        SELECT name, expression, timezone, job_kind, args::jsonb AS args, queue, priority::smallint AS priority,
               max_attempts::integer AS max_attempts, concurrency_key, enabled, misfire_policy,
               make_interval(secs => catch_up_seconds) AS catch_up_window, no_overlap,
               make_interval(secs => retry_delay_seconds) AS retry_delay,
               make_interval(secs => inactivity_timeout_seconds) AS inactivity_timeout
        FROM unnest(\(definitions.map(\.name))::text[], \(definitions.map(\.expression.description))::text[],
                    \(definitions.map(\.timeZone))::text[], \(definitions.map(\.jobKind))::text[],
                    \(definitions.map(\.arguments))::text[], \(definitions.map(\.queue))::text[],
                    \(definitions.map(\.priority))::int8[], \(definitions.map(\.maxAttempts))::int8[],
                    \(definitions.map(\.concurrencyKey))::text[],
                    \(definitions.map(\.isEnabled))::boolean[], \(definitions.map(\.misfirePolicy.rawValue))::text[],
                    \(definitions.map { $0.catchUpWindow.inSeconds })::float8[], \(definitions.map(\.noOverlap))::boolean[],
                    \(definitions.map { $0.retryDelay?.inSeconds })::float8[], \(definitions.map { $0.inactivityTimeout?.inSeconds })::float8[])
            AS u(name, expression, timezone, job_kind, args, queue, priority, max_attempts, concurrency_key, enabled,
                 misfire_policy, catch_up_seconds, no_overlap, retry_delay_seconds, inactivity_timeout_seconds)
        """
    }
}

/// A schedule on hold after an idle job: what its job would run.
public struct HeldSchedule: Sendable, Equatable {
    /// The schedule's name.
    public var name: String
    /// The kind of job it enqueues.
    public var jobKind: String
    /// The job's arguments, as JSON text.
    public var arguments: String
}

/// What `ScheduleStore.apply` changed (or, from `plan`, would change), by schedule name.
public struct ApplyReport: Sendable, Equatable {
    /// Schedules that did not exist, in the order given.
    public var created: [String]
    /// Schedules that existed with different settings, in the order given.
    public var updated: [String]
    /// Schedules that existed exactly so, in the order given.
    public var unchanged: [String]
    /// Stored schedules that were not given, deleted because of `prune`, by name.
    public var deleted: [String]
    /// Stored schedules that were not given, kept because `prune` was off, by name.
    public var retained: [String]

    /// Creates a report.
    public init(created: [String], updated: [String], unchanged: [String], deleted: [String], retained: [String] = []) {
        self.created = created
        self.updated = updated
        self.unchanged = unchanged
        self.deleted = deleted
        self.retained = retained
    }

    /// Whether anything was (or would be) written.
    public var hasChanges: Bool { !(created.isEmpty && updated.isEmpty && deleted.isEmpty) }
}

/// A row of `couplet.schedules` as stored, with its last tick from `couplet.schedule_status`.
public struct StoredSchedule: Sendable, Equatable {
    /// The schedule's name.
    public var name: String
    /// The cron expression text.
    public var expression: String
    /// The zone name.
    public var timeZone: String
    /// The kind of job each tick enqueues.
    public var jobKind: String
    /// The job arguments, as JSON text.
    public var arguments: String
    /// The jobs' queue.
    public var queue: String
    /// The jobs' priority.
    public var priority: Int
    /// The jobs' attempts.
    public var maxAttempts: Int
    /// The jobs' concurrency key, if they have one.
    public var concurrencyKey: String?
    /// Whether the scheduler fires it.
    public var isEnabled: Bool
    /// What happens to missed ticks.
    public var misfirePolicy: MisfirePolicy
    /// How far back `runOnce` catches up.
    public var catchUpWindow: Duration
    /// Whether a tick is skipped while the previous job is pending or running.
    public var noOverlap: Bool
    /// The rerun delay of the schedule's jobs, if it sets one.
    public var retryDelay: Duration?
    /// How long the schedule holds its ticks after an idle job (zero: until woken), if it ever does.
    public var inactivityTimeout: Duration?
    /// Until when the schedule is on hold (`Date.distantFuture`: until woken), if it is now.
    public var heldUntil: Date?
    /// The next fire time, as the leading scheduler last wrote it.
    public var nextFireAt: Date?
    /// Why the scheduler cannot use the schedule, if it cannot.
    public var lastError: String?
    /// The latest tick handled, if any.
    public var lastTick: Tick?

    /// A tick the scheduler handled: when it was due and what became of it.
    public struct Tick: Sendable, Equatable {
        /// The fire time.
        public var fireTime: Date
        /// `enqueued`; `skipped_overlap` when the previous job was still pending or running; `held`
        /// while the schedule was on hold after an idle job; `woken` when a wake enqueued its job.
        public var outcome: String
        /// The state of the tick's job (for `skipped_overlap`, of the job that was still busy; for
        /// `held`, of the idle job); nil when that job has been pruned.
        public var jobState: JobState?
    }

    /// The stored settings as a validated definition.
    ///
    /// - Throws: `ScheduleDefinitionError` when the row, written by SQL, breaks a rule that
    ///   `couplet schedules apply` would have enforced (an invalid expression or zone, say).
    public func definition() throws(ScheduleDefinitionError) -> ScheduleDefinition {
        try ScheduleDefinition(
            name: name, expression: expression, timeZone: timeZone, jobKind: jobKind, arguments: arguments, queue: queue,
            priority: priority, maxAttempts: maxAttempts, concurrencyKey: concurrencyKey, isEnabled: isEnabled,
            misfirePolicy: misfirePolicy, catchUpWindow: catchUpWindow, noOverlap: noOverlap, retryDelay: retryDelay,
            inactivityTimeout: inactivityTimeout)
    }

    init(row: PostgresRow) throws {
        name = try row.decode(column: "name")
        expression = try row.decode(column: "expression")
        timeZone = try row.decode(column: "timezone")
        jobKind = try row.decode(column: "job_kind")
        arguments = try row.decode(column: "args")
        queue = try row.decode(column: "queue")
        priority = try row.decode(column: "priority")
        maxAttempts = try row.decode(column: "max_attempts")
        concurrencyKey = try row.decode(column: "concurrency_key")
        isEnabled = try row.decode(column: "enabled")
        let policy: String = try row.decode(column: "misfire_policy")
        misfirePolicy = MisfirePolicy(rawValue: policy) ?? .skip
        catchUpWindow = Self.duration(seconds: try row.decode(column: "catch_up_seconds"))
        noOverlap = try row.decode(column: "no_overlap")
        let delay: Double? = try row.decode(column: "retry_delay_seconds")
        retryDelay = delay.map(Self.duration(seconds:))
        let timeout: Double? = try row.decode(column: "inactivity_timeout_seconds")
        inactivityTimeout = timeout.map(Self.duration(seconds:))
        heldUntil = try row.decode(column: "held_until")
        nextFireAt = try row.decode(column: "next_fire_at")
        lastError = try row.decode(column: "last_error")
        let fireTime: Date? = try row.decode(column: "last_fire_time")
        let state: String? = try row.decode(column: "last_job_state")
        lastTick = try fireTime.map { fireTime in
            Tick(fireTime: fireTime, outcome: try row.decode(column: "last_outcome"), jobState: state.flatMap(JobState.init(rawValue:)))
        }
    }
}

extension StoredSchedule {
    /// An interval's seconds as stored (`extract(epoch …)`) as a duration, to the millisecond.
    /// PostgreSQL's intervals stay far inside what `Int64` milliseconds hold.
    private static func duration(seconds: Double) -> Duration {
        .milliseconds(Int64((seconds * 1000).rounded()))
    }
}

extension Duration {
    /// The duration in seconds, with its fraction.
    var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
