import CoupletSchema
import Cron
import Foundation
import Postgres
import PostgresTestSupport
import Testing

/// A migrated database for scheduler processes, with helpers to add schedules and read ticks.
struct SchedulerFixture {
    let database: TestDatabase
    let db: PostgresConnection

    static func with<T>(isolation: isolated (any Actor)? = #isolation, _ body: (SchedulerFixture) async throws -> T) async throws -> T {
        try await TestDatabase.with { database in
            let db = try await database.connect()
            defer { db.close() }
            try await CoupletSchema.migrator.migrate(on: db)
            return try await body(SchedulerFixture(database: database, db: db))
        }
    }

    func addSchedule(_ name: String, _ expression: String, misfire: String = "skip", catchUp: String = "1 hour") async throws {
        try await db.query(
            """
            INSERT INTO couplet.schedules (name, expression, job_kind, misfire_policy, catch_up_window)
            VALUES (\(name), \(expression), 'diagnostic.noop', \(misfire), \(catchUp)::interval)
            """)
    }

    /// Starts a scheduler whose simulated time reads `start` at the real instant `anchor`.
    func startScheduler(simulating start: Date, anchor: Date, rate: Double, extra: [String] = []) throws -> CoupletProcess.Running {
        try CoupletProcess.start(
            ["scheduler", "--simulate-from", ISO8601DateFormatter().string(from: start),
             "--simulate-anchor", "\(anchor.timeIntervalSince1970)", "--simulate-rate", "\(rate)"] + extra,
            environment: ["COUPLET_DATABASE_URL": database.configuration.connectionString])
    }

    func ticks(_ schedule: String) async throws -> [Date] {
        try await db.query("SELECT fire_time FROM couplet.schedule_ticks WHERE schedule_name = \(schedule) ORDER BY fire_time")
            .map { try $0.decode(Date.self, at: 0) }
    }

    func count(_ sql: PostgresQuery) async throws -> Int {
        try await db.query(sql).single().decode(Int.self, at: 0)
    }
}

@Suite("Scheduler processes", .serialized)
struct SchedulerProcessTests {
    static let dayStart = ISO8601DateFormatter().date(from: "2026-03-01T00:00:00Z")!

    @Test("two schedulers over a simulated day: every */5 tick enqueued exactly once, also across a killed leader")
    func simulatedDayWithHandover() async throws {
        try await SchedulerFixture.with { fixture in
            for name in ["erp-customers", "crm-accounts", "statistics"] { try await fixture.addSchedule(name, "*/5 * * * *") }
            let rate = 2880.0  // a day in 30 seconds
            let anchor = Date().addingTimeInterval(12)  // the processes are up well before the simulated day starts, even on a busy machine
            let options = ["--leader-lease", "1s", "--misfire-threshold", "3h"]
            var schedulers = try (0..<2).map { _ in
                try fixture.startScheduler(simulating: Self.dayStart, anchor: anchor, rate: rate, extra: options)
            }
            try await Task.sleep(for: .seconds(16))
            let leaderPID = try await fixture.count("SELECT pid FROM couplet.scheduler_leader")
            let leader = try #require(schedulers.firstIndex { $0.pid == Int32(leaderPID) })
            schedulers[leader].kill()
            schedulers.remove(at: leader)
            let dayEnd = Self.dayStart.addingTimeInterval(86_400)
            while SimulatedSchedulerClock(start: Self.dayStart, anchor: anchor, rate: rate).now < dayEnd.addingTimeInterval(1200) {
                try await Task.sleep(for: .milliseconds(200))
            }
            for scheduler in schedulers { scheduler.terminate() }
            for scheduler in schedulers { #expect(try await scheduler.waitForExit().status == 0) }

            let expected = (1...288).map { Self.dayStart.addingTimeInterval(Double($0) * 300) }
            for name in ["erp-customers", "crm-accounts", "statistics"] {
                let ticks = try await fixture.ticks(name).filter { $0 > Self.dayStart && $0 <= dayEnd }
                #expect(ticks == expected, "\(name): \(ticks.count) ticks in the day")
            }
            #expect(try await fixture.count("SELECT count(DISTINCT job_id) - count(*) FROM couplet.schedule_ticks") == 0)
            #expect(try await fixture.count(
                "SELECT count(*) FROM couplet.jobs j LEFT JOIN couplet.schedule_ticks t ON t.job_id = j.id WHERE t.job_id IS NULL") == 0,
                "every job belongs to exactly one tick")
            #expect(try await fixture.count("SELECT count(DISTINCT scheduler_id) FROM couplet.schedule_ticks") == 2,
                    "the standby took over")
        }
    }

    @Test("after an hour and a half down: skip drops the missed ticks, run_once catches up with exactly one")
    func misfirePolicies() async throws {
        try await SchedulerFixture.with { fixture in
            try await fixture.addSchedule("skip", "*/5 * * * *")
            try await fixture.addSchedule("catch-up", "*/5 * * * *", misfire: "run_once", catchUp: "2 hours")
            let rate = 600.0
            let options = ["--leader-lease", "1s", "--misfire-threshold", "10m"]
            let first = try fixture.startScheduler(simulating: Self.dayStart, anchor: Date(), rate: rate, extra: options)
            try await Task.sleep(for: .seconds(3))
            first.terminate()
            #expect(try await first.waitForExit().status == 0)
            let lastBeforeDowntime = try #require(try await fixture.ticks("skip").last)

            let restart = Self.dayStart.addingTimeInterval(2 * 3600)
            let second = try fixture.startScheduler(simulating: restart, anchor: Date(), rate: rate, extra: options)
            try await Task.sleep(for: .seconds(2))
            second.terminate()
            #expect(try await second.waitForExit().status == 0)

            let skipAfter = try await fixture.ticks("skip").filter { $0 > lastBeforeDowntime }
            let firstOnTime = try #require(skipAfter.first)
            #expect(firstOnTime >= restart.addingTimeInterval(-600), "skip fired nothing older than the threshold")
            // The scheduler's first round comes within its first real seconds: at 600× that is up to half an
            // hour of simulated time on a machine loaded by the rest of the suite.
            #expect(firstOnTime <= restart.addingTimeInterval(1800), "skip fires on time again once the scheduler is back")
            let catchUpAfter = try await fixture.ticks("catch-up").filter { $0 > lastBeforeDowntime }
            let missedRun = catchUpAfter.filter { $0 < firstOnTime }
            #expect(missedRun == [firstOnTime.addingTimeInterval(-300)], "run_once ran the latest missed tick, once")
            #expect(Array(catchUpAfter.drop { $0 < firstOnTime }) == skipAfter)
        }
    }

    @Test("a schedule added, changed or disabled by SQL takes effect without a restart")
    func liveChanges() async throws {
        try await SchedulerFixture.with { fixture in
            let scheduler = try CoupletProcess.start(
                ["scheduler", "--leader-lease", "2s"], environment: ["COUPLET_DATABASE_URL": fixture.database.configuration.connectionString])
            #expect(try await eventually(within: .seconds(10)) {
                try await fixture.count("SELECT count(*) FROM couplet.scheduler_leader") == 1
            })
            try await fixture.addSchedule("every-second", "* * * * * *")
            #expect(try await eventually(within: .seconds(5)) { try await fixture.ticks("every-second").count >= 2 })
            try await fixture.db.query("UPDATE couplet.schedules SET enabled = false WHERE name = 'every-second'")
            try await Task.sleep(for: .milliseconds(500))
            let frozen = try await fixture.ticks("every-second").count
            try await Task.sleep(for: .seconds(2))
            #expect(try await fixture.ticks("every-second").count == frozen, "a disabled schedule stops at once")
            try await fixture.addSchedule("broken", "61 * * * *")
            #expect(try await eventually(within: .seconds(5)) {
                try await fixture.db.query("SELECT last_error FROM couplet.schedule_status WHERE name = 'broken'")
                    .single().decode(String?.self, at: 0)?.contains("minute value 61 is out of range 0-59") == true
            })
            scheduler.terminate()
            #expect(try await scheduler.waitForExit().status == 0)
            #expect(try await fixture.count("SELECT count(*) FROM couplet.scheduler_leader") == 0, "the leader resigns on shutdown")
        }
    }

    @Test("a simulated clock that does not move forwards is refused as a usage error")
    func simulatedRateMustBePositive() async throws {
        try await SchedulerFixture.with { fixture in
            for rate in ["0", "-1", "nan"] {
                let outcome = try await CoupletProcess.run(
                    ["scheduler", "--simulate-from", "2026-01-01T00:00:00Z", "--simulate-rate=\(rate)"],
                    environment: ["COUPLET_DATABASE_URL": fixture.database.configuration.connectionString])
                #expect(outcome.status == 64, "--simulate-rate \(rate): \(outcome.standardError)")
                #expect(outcome.standardError.contains("--simulate-rate must be a number above 0"))
            }
        }
    }

    @Test("a stored schedule the scheduler cannot use fails alone, with its reason, while the others fire")
    func unusableScheduleFailsAlone() async throws {
        try await SchedulerFixture.with { fixture in
            try await fixture.addSchedule("every-second", "* * * * * *")
            try await fixture.addSchedule("every-million-days", "@every 999999999d")
            let scheduler = try CoupletProcess.start(
                ["scheduler", "--leader-lease", "2s"], environment: ["COUPLET_DATABASE_URL": fixture.database.configuration.connectionString])
            #expect(try await eventually(within: .seconds(10)) { try await fixture.ticks("every-second").count >= 2 })
            let error = try await fixture.db.query("SELECT last_error FROM couplet.schedule_status WHERE name = 'every-million-days'")
                .single().decode(String?.self, at: 0)
            #expect(error?.contains("@every duration \"999999999d\" is longer than 36600d (100 years)") == true, "\(String(describing: error))")
            scheduler.terminate()
            #expect(try await scheduler.waitForExit().status == 0)
        }
    }
}
