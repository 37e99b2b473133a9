import CoupletSchema
import Foundation
import Postgres
import PostgresTestSupport
import Queue
import Testing

@testable import Cron

@Suite("Firing ticks")
struct ScheduleTickTests {
    let first = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z

    @Test("each tick is enqueued once, however often it is fired")
    func exactlyOnce() async throws {
        try await withMigratedDatabase { _, db in
            try await db.query("INSERT INTO couplet.schedules (name, expression, job_kind) VALUES ('a', '*/5 * * * *', 'diagnostic.noop')")
            let ticks = [("a", first), ("a", first), ("a", first.addingTimeInterval(300))]
            let fired = try await SchedulerStatements.fire(ticks.map { ($0.0, $0.1) }, by: UUID(), on: db)
            #expect(fired.map(\.fireTime) == [first, first.addingTimeInterval(300)])
            let again = try await SchedulerStatements.fire([("a", first)], by: UUID(), on: db)
            #expect(again.isEmpty)
            #expect(try await db.query("SELECT count(*) FROM couplet.jobs WHERE schedule_name = 'a'").single().decode(Int.self, at: 0) == 2)
            let runAt = try await db.query("SELECT min(run_at) FROM couplet.jobs").single().decode(Date.self, at: 0)
            #expect(runAt == first, "the job runs at its tick's fire time")
        }
    }

    @Test("no_overlap skips a tick while the schedule's previous job is pending or running")
    func noOverlap() async throws {
        try await withMigratedDatabase { _, db in
            try await db.query(
                "INSERT INTO couplet.schedules (name, expression, job_kind, no_overlap) VALUES ('sync', '*/5 * * * *', 'sync.delta', true)")
            let scheduler = UUID()
            let firstJob = try #require(try await SchedulerStatements.fire([("sync", first)], by: scheduler, on: db).first?.jobID)
            let skipped = try await SchedulerStatements.fire([("sync", first.addingTimeInterval(300))], by: scheduler, on: db)
            #expect(skipped.map(\.outcome) == ["skipped_overlap"])
            #expect(skipped.first?.jobID == firstJob)
            try await db.query("UPDATE couplet.jobs SET state = 'completed', finished_at = now() WHERE id = \(firstJob)")
            let next = try await SchedulerStatements.fire([("sync", first.addingTimeInterval(600))], by: scheduler, on: db)
            #expect(next.map(\.outcome) == ["enqueued"])
            #expect(next.first?.jobID != firstJob)
            let status = try await db.query("SELECT last_outcome, last_job_state FROM couplet.schedule_status WHERE name = 'sync'")
                .single().decode((String, String).self)
            #expect(status == ("enqueued", "scheduled") || status == ("enqueued", "available"))
        }
    }

    @Test("a tick's job gets the schedule's concurrency key, or none")
    func concurrencyKey() async throws {
        try await withMigratedDatabase { _, db in
            try await db.query(
                """
                INSERT INTO couplet.schedules (name, expression, job_kind, concurrency_key)
                VALUES ('customer', '*/5 * * * *', 'sync.delta', 'sync:CUSTOMER-VENDOR-CONTACT'),
                       ('statistics', '*/5 * * * *', 'statistics.customers', NULL)
                """)
            let fired = try await SchedulerStatements.fire([("customer", first), ("statistics", first)], by: UUID(), on: db)
            #expect(fired.map(\.outcome) == ["enqueued", "enqueued"])
            let jobs = try await db.query("SELECT schedule_name, concurrency_key FROM couplet.jobs ORDER BY schedule_name")
                .map { try $0.decode((String, String?).self) }
            #expect(jobs.map(\.0) == ["customer", "statistics"])
            #expect(jobs.map(\.1) == ["sync:CUSTOMER-VENDOR-CONTACT", nil])
            let shown = try await db.query("SELECT concurrency_key FROM couplet.schedule_status ORDER BY name")
                .map { try $0.decode(String?.self) }
            #expect(shown == ["sync:CUSTOMER-VENDOR-CONTACT", nil], "schedule_status shows the key")
        }
    }

    @Test("a tick's job gets the schedule's rerun delay, which a worker's claim reads back")
    func retryDelay() async throws {
        try await withMigratedDatabase { _, db in
            try await db.query(
                """
                INSERT INTO couplet.schedules (name, expression, job_kind, retry_delay)
                VALUES ('sync', '*/5 * * * *', 'sync.delta', '30 seconds'), ('plain', '*/5 * * * *', 'sync.delta', NULL)
                """)
            let fired = try await SchedulerStatements.fire([("sync", first), ("plain", first)], by: UUID(), on: db)
            #expect(fired.map(\.outcome) == ["enqueued", "enqueued"])
            let claimed = try await JobQueue.claim(limit: 2, queue: "default", workerID: UUID(), on: db)
            #expect(Set(claimed.map(\.retryDelay)) == [.seconds(30), nil])
        }
    }

    @Test("a disabled schedule fires nothing")
    func disabled() async throws {
        try await withMigratedDatabase { _, db in
            try await db.query(
                "INSERT INTO couplet.schedules (name, expression, job_kind, enabled) VALUES ('off', '* * * * *', 'diagnostic.noop', false)")
            #expect(try await SchedulerStatements.fire([("off", first)], by: UUID(), on: db).isEmpty)
        }
    }

    @Test("leadership: one holder at a time, taken over when the lease expires or is resigned")
    func leadership() async throws {
        try await withMigratedDatabase { _, db in
            let (a, b) = (UUID(), UUID())
            #expect(try await SchedulerStatements.lead(a, hostname: "h", pid: 1, lease: .seconds(30), on: db))
            #expect(try await !SchedulerStatements.lead(b, hostname: "h", pid: 2, lease: .seconds(30), on: db))
            #expect(try await SchedulerStatements.lead(a, hostname: "h", pid: 1, lease: .seconds(30), on: db), "the holder renews")
            try await db.query("UPDATE couplet.scheduler_leader SET expires_at = now() - interval '1 second'")
            #expect(try await SchedulerStatements.lead(b, hostname: "h", pid: 2, lease: .seconds(30), on: db), "an expired lease is taken over")
            #expect(try await !SchedulerStatements.lead(a, hostname: "h", pid: 1, lease: .seconds(30), on: db))
            try await SchedulerStatements.resign(b, on: db)
            #expect(try await SchedulerStatements.lead(a, hostname: "h", pid: 1, lease: .seconds(30), on: db))
        }
    }
}
