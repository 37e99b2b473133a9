import CoupletSchema
import Foundation
import Postgres
import PostgresTestSupport
import Queue
import Testing

@testable import Cron

/// A valid definition with the given changes to the defaults.
func schedule(
    _ name: String, _ expression: String = "*/5 * * * *", zone: String? = nil, job: String = "sync.delta",
    arguments: String = #"{"mapping": "CUSTOMER"}"#, priority: Int = 5, key: String? = nil, enabled: Bool = true,
    window: Duration = .seconds(3600)
) -> ScheduleDefinition {
    do {
        return try ScheduleDefinition(
            name: name, expression: expression, timeZone: zone, jobKind: job, arguments: arguments, priority: priority,
            concurrencyKey: key, isEnabled: enabled, catchUpWindow: window)
    } catch {
        fatalError("test schedule should be valid: \(error)")
    }
}

/// The stored schedules' names with their `updated_at`.
func updateTimes(_ db: PostgresConnection) async throws -> [String: Date] {
    var times: [String: Date] = [:]
    for row in try await db.query("SELECT name, updated_at FROM couplet.schedules") {
        let (name, time) = try row.decode((String, Date).self)
        times[name] = time
    }
    return times
}

@Suite("ScheduleStore against the real server")
struct ScheduleStoreTests {
    @Test("apply creates, updates only what changed, leaves the rest, and prunes on request")
    func applyLifecycle() async throws {
        try await withMigratedDatabase { _, db in
            let first = [schedule("a"), schedule("b", "0 2 * * *", zone: "Europe/Oslo"), schedule("c", "@every 90s")]
            #expect(try await ScheduleStore.apply(first, prune: false, on: db)
                == ApplyReport(created: ["a", "b", "c"], updated: [], unchanged: [], deleted: []))

            // The same definitions again: nothing to write (args compare as JSON, windows as intervals).
            #expect(try await ScheduleStore.apply(first, prune: false, on: db)
                == ApplyReport(created: [], updated: [], unchanged: ["a", "b", "c"], deleted: []))

            try await db.query("UPDATE couplet.schedules SET last_error = 'stale', updated_at = now() - interval '1 day'")
            let before = try await updateTimes(db)
            let second = [schedule("a", arguments: #"{"mapping":"CUSTOMER"}"#), schedule("b", "0 3 * * *", zone: "Europe/Oslo"),
                          schedule("d", "@daily", window: .seconds(7200))]
            #expect(try await ScheduleStore.apply(second, prune: false, on: db)
                == ApplyReport(created: ["d"], updated: ["b"], unchanged: ["a"], deleted: [], retained: ["c"]))
            let after = try await updateTimes(db)
            #expect(after["a"] == before["a"])
            #expect(after["b"]! > before["b"]!)
            let errors = try await db.query("SELECT name, last_error FROM couplet.schedules ORDER BY name").map { try $0.decode((String, String?).self) }
            #expect(errors.map(\.0) == ["a", "b", "c", "d"])
            #expect(errors.map(\.1) == ["stale", nil, "stale", nil])

            #expect(try await ScheduleStore.apply(second, prune: true, on: db)
                == ApplyReport(created: [], updated: [], unchanged: ["a", "b", "d"], deleted: ["c"]))
            #expect(try await ScheduleStore.list(on: db).map(\.name) == ["a", "b", "d"])
        }
    }

    @Test("a dry run reports what apply would do and writes nothing")
    func planWritesNothing() async throws {
        try await withMigratedDatabase { _, db in
            try await ScheduleStore.apply([schedule("a"), schedule("b")], prune: false, on: db)
            let plan = try await ScheduleStore.plan([schedule("a", priority: 1), schedule("new")], prune: true, on: db)
            #expect(plan == ApplyReport(created: ["new"], updated: ["a"], unchanged: [], deleted: ["b"]))
            let stored = try await ScheduleStore.list(on: db)
            #expect(stored.map(\.name) == ["a", "b"])
            #expect(stored.map(\.priority) == [5, 5])
        }
    }

    @Test("apply stores the concurrency key; a key set, changed or removed is an update, shown by a dry run")
    func concurrencyKeyRoundTrip() async throws {
        try await withMigratedDatabase { _, db in
            let shared = "sync:CUSTOMER-VENDOR-CONTACT"
            try await ScheduleStore.apply([schedule("a", key: shared), schedule("b"), schedule("c", key: shared)], prune: false, on: db)
            #expect(try await ScheduleStore.list(on: db).map(\.concurrencyKey) == [shared, nil, shared])

            let changed = [schedule("a", key: "sync:CUSTOMER"), schedule("b", key: "sync:VENDOR"), schedule("c")]
            #expect(try await ScheduleStore.plan(changed, prune: false, on: db)
                == ApplyReport(created: [], updated: ["a", "b", "c"], unchanged: [], deleted: []))
            #expect(try await ScheduleStore.list(on: db).map(\.concurrencyKey) == [shared, nil, shared], "a dry run writes nothing")

            #expect(try await ScheduleStore.apply(changed, prune: false, on: db)
                == ApplyReport(created: [], updated: ["a", "b", "c"], unchanged: [], deleted: []))
            #expect(try await ScheduleStore.list(on: db).map(\.concurrencyKey) == ["sync:CUSTOMER", "sync:VENDOR", nil])
            #expect(try await ScheduleStore.apply(changed, prune: false, on: db)
                == ApplyReport(created: [], updated: [], unchanged: ["a", "b", "c"], deleted: []))
        }
    }

    @Test("list reads every setting back, with the last tick and its job's state")
    func listReadsBack() async throws {
        try await withMigratedDatabase { _, db in
            let definition = try ScheduleDefinition(
                name: "customer-delta", expression: "*/5 * * * *", timeZone: "Europe/Oslo", jobKind: "sync.delta",
                arguments: #"{"mapping": "CUSTOMER", "batch": 500}"#, queue: "sync", priority: 3, maxAttempts: 3,
                concurrencyKey: "sync:CUSTOMER", isEnabled: false, misfirePolicy: .runOnce, catchUpWindow: .seconds(5400), noOverlap: true,
                retryDelay: .seconds(30), inactivityTimeout: .seconds(43200))
            try await ScheduleStore.apply([definition, schedule("quiet")], prune: false, on: db)
            try await db.query("UPDATE couplet.schedules SET enabled = true WHERE name = 'customer-delta'")
            let fireTime = Date(timeIntervalSince1970: 1_750_000_200)
            try await db.query(
                "SELECT * FROM couplet.fire_schedule_ticks(ARRAY['customer-delta'], ARRAY[\(fireTime)::timestamptz], gen_random_uuid())")

            let listed = try await ScheduleStore.list(on: db)
            #expect(listed.map(\.name) == ["customer-delta", "quiet"])
            let stored = try #require(listed.first)
            #expect(stored.lastTick == StoredSchedule.Tick(fireTime: fireTime, outcome: "enqueued", jobState: .available))
            #expect(listed[1].lastTick == nil)
            let readBack = try stored.definition()
            #expect(readBack.arguments.contains("\"batch\": 500"))
            #expect(try ScheduleDefinition(
                name: readBack.name, expression: readBack.expression.description, timeZone: readBack.timeZone, jobKind: readBack.jobKind,
                arguments: definition.arguments, queue: readBack.queue, priority: readBack.priority, maxAttempts: readBack.maxAttempts,
                concurrencyKey: readBack.concurrencyKey, isEnabled: false, misfirePolicy: readBack.misfirePolicy, catchUpWindow: readBack.catchUpWindow,
                noOverlap: readBack.noOverlap, retryDelay: readBack.retryDelay, inactivityTimeout: readBack.inactivityTimeout) == definition)
            #expect(listed[1].inactivityTimeout == nil)
        }
    }

    @Test("a schedule written by SQL that breaks the rules reads back as invalid")
    func invalidStoredSchedule() async throws {
        try await withMigratedDatabase { _, db in
            try await db.query("INSERT INTO couplet.schedules (name, expression, timezone, job_kind) VALUES ('odd', '0 0 30 2 *', 'Mars/Olympus', 'k')")
            let stored = try #require(try await ScheduleStore.list(on: db).first)
            #expect(throws: ScheduleDefinitionError.self) { try stored.definition() }
        }
    }

    @Test("an apply that changes schedules notifies couplet_schedules once; one that changes nothing stays silent")
    func notifies() async throws {
        try await withMigratedDatabase { database, db in
            let listener = try await database.connect()
            defer { listener.close() }
            try await listener.listen(PostgresIdentifier("couplet_schedules"))
            let definitions = [schedule("a"), schedule("b")]

            try await ScheduleStore.apply(definitions, prune: false, on: db)
            let created = try await listener.notifications(timeout: .seconds(5))
            #expect(created.map(\.channel) == ["couplet_schedules"])

            try await ScheduleStore.apply(definitions, prune: false, on: db)
            #expect(try await listener.notifications(timeout: .milliseconds(300)).isEmpty)

            try await ScheduleStore.apply([schedule("a", enabled: false)], prune: true, on: db)
            #expect(try await listener.notifications(timeout: .seconds(5)).map(\.channel) == ["couplet_schedules"])
        }
    }

    @Test func refusesDuplicateNames() async throws {
        try await withMigratedDatabase { _, db in
            await #expect(throws: ScheduleDefinitionError.self) {
                try await ScheduleStore.apply([schedule("a"), schedule("a", "@daily")], prune: true, on: db)
            }
            let stored = try await ScheduleStore.list(on: db)
            #expect(stored.isEmpty)
        }
    }
}
