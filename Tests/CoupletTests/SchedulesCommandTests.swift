import CoupletSchema
import Foundation
import Postgres
import PostgresTestSupport
import Testing

/// Writes `text` to a fresh temporary file and returns its path.
func temporaryFile(_ text: String, name: String = "schedules.yaml") throws -> String {
    let folder = FileManager.default.temporaryDirectory.appending(path: "couplet-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let file = folder.appending(path: name)
    try text.write(to: file, atomically: true, encoding: .utf8)
    return file.path
}

/// Lines of output, without the empty one after the last newline.
func lines(_ text: String) -> [String] {
    text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
}

let goodSchedules = """
    schedules:
      - name: customer-delta
        cron: "*/5 * * * *"
        timezone: Europe/Oslo
        job: sync.delta
        args: {mapping: CUSTOMER}
        queue: sync
        priority: 3
        concurrency_key: sync:CUSTOMER
      - name: nightly-full
        cron: "0 9 * * *"
        timezone: Europe/Oslo
        job: sync.full
        misfire: run_once
        catch_up_window: 2h
    """

@Suite("couplet schedules next, as a process")
struct SchedulesNextTests {
    @Test("fire times in Europe/Oslo across both daylight-saving changes, with their offsets")
    func daylightSaving() async throws {
        let spring = try await CoupletProcess.run(
            ["schedules", "next", "30 2 * * *", "--tz", "Europe/Oslo", "--after", "2025-03-29T00:00:00+01:00", "-n", "3"])
        #expect(spring.status == 0, "\(spring.standardError)")
        #expect(lines(spring.standardOutput) == ["2025-03-29T02:30:00+01:00", "2025-03-30T03:00:00+02:00", "2025-03-31T02:30:00+02:00"])

        let autumn = try await CoupletProcess.run(
            ["schedules", "next", "CRON_TZ=Europe/Oslo 0 * * * *", "--after", "2025-10-26T01:30:00+02:00", "-n", "3"])
        #expect(lines(autumn.standardOutput) == ["2025-10-26T02:00:00+02:00", "2025-10-26T03:00:00+01:00", "2025-10-26T04:00:00+01:00"])
    }

    @Test("UTC prints +00:00, ten times by default")
    func utcByDefault() async throws {
        let outcome = try await CoupletProcess.run(["schedules", "next", "@every", "90s", "--after", "2025-01-01T00:00:00Z"])
        #expect(outcome.status == 0)
        let printed = lines(outcome.standardOutput)
        #expect(printed.count == 10)
        #expect(printed.first == "2025-01-01T00:01:30+00:00")
        #expect(printed.last == "2025-01-01T00:15:00+00:00")
    }

    @Test("an invalid expression is shown with the character at fault, and fails")
    func invalidExpression() async throws {
        let outcome = try await CoupletProcess.run(["schedules", "next", "0 9 * * mon-xyz"])
        #expect(outcome.status == 1)
        #expect(outcome.standardOutput.isEmpty)
        #expect(lines(outcome.standardError) == [
            "Error: invalid cron expression \"0 9 * * mon-xyz\" at character 13: unknown day-of-week name \"xyz\"",
            "  0 9 * * mon-xyz",
            "              ^",
        ])
    }

    @Test("an expression that can never fire says so, and fails")
    func neverFires() async throws {
        let outcome = try await CoupletProcess.run(["schedules", "next", "0 0 30 2 *"])
        #expect(outcome.status == 1)
        #expect(outcome.standardOutput.isEmpty)
        #expect(outcome.standardError.contains("Error: the expression \"0 0 30 2 *\" can never fire"))
    }

    @Test("an unknown zone, or one that contradicts CRON_TZ, fails")
    func badZones() async throws {
        let unknown = try await CoupletProcess.run(["schedules", "next", "0 9 * * *", "--tz", "Mars/Olympus"])
        #expect(unknown.status == 1)
        #expect(unknown.standardError.contains("unknown time zone \"Mars/Olympus\""))
        let conflict = try await CoupletProcess.run(["schedules", "next", "CRON_TZ=Europe/Oslo 0 9 * * *", "--tz", "UTC"])
        #expect(conflict.status == 1)
        #expect(conflict.standardError.contains("differs from the expression's CRON_TZ=Europe/Oslo"))
    }

    @Test("a bad --after or -n is a usage error")
    func usageErrors() async throws {
        let after = try await CoupletProcess.run(["schedules", "next", "@daily", "--after", "yesterday"])
        #expect(after.status == 64)
        #expect(after.standardError.contains("--after yesterday is not an ISO 8601 time"))
        let count = try await CoupletProcess.run(["schedules", "next", "@daily", "-n", "0"])
        #expect(count.status == 64)
    }
}

@Suite("couplet schedules validate, apply and list, as processes")
struct SchedulesFileCommandTests {
    @Test("validate accepts a good file without a database")
    func validateGood() async throws {
        let file = try temporaryFile(goodSchedules)
        let outcome = try await CoupletProcess.run(["schedules", "validate", file])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        #expect(outcome.standardOutput == "\(file): 2 schedule(s), all valid.\n")
    }

    @Test("validate prints every problem as file:line:column and fails")
    func validateBad() async throws {
        let file = try temporaryFile("""
            schedules:
              - name: a
                cron: "0 0 * * 8"
                job: sync.delta
                priority: urgent
              - name: a
                job: sync.full
            """)
        let outcome = try await CoupletProcess.run(["schedules", "validate", file])
        #expect(outcome.status == 1)
        #expect(outcome.standardOutput.isEmpty)
        #expect(lines(outcome.standardError) == [
            "\(file):3:11: invalid cron expression \"0 0 * * 8\" at character 9: day-of-week value 8 is out of range 0-7",
            "\(file):5:15: priority must be a whole number, not \"urgent\"",
            "\(file):6:5: schedule is missing the required key cron",
            "\(file):6:11: duplicate schedule name \"a\": first defined at line 2",
            "\(file): 4 problem(s).",
        ])
    }

    @Test("validate refuses a file of nested aliases at its anchors, in a moment and without growing")
    func validateAliasBomb() async throws {
        let levels = (1...9).map { level in
            "      l\(level): &l\(level) [" + Array(repeating: "*l\(level - 1)", count: 9).joined(separator: ",") + "]"
        }
        let file = try temporaryFile(
            (["schedules:", "  - name: bomb", "    cron: \"@daily\"", "    job: diagnostic.noop", "    args:", "      l0: &l0 lol"]
                + levels).joined(separator: "\n") + "\n")
        let started = ContinuousClock.now
        let outcome = try await CoupletProcess.run(["schedules", "validate", file])
        #expect(ContinuousClock.now - started < .seconds(10))
        #expect(outcome.status == 1)
        #expect(lines(outcome.standardError).first
            == "\(file):6:11: anchor &l0: anchors and aliases are not supported; write the value out wherever *l0 refers to it")
        #expect(lines(outcome.standardError).last == "\(file): 10 problem(s).")
    }

    @Test("a file that does not exist is an error")
    func missingFile() async throws {
        let outcome = try await CoupletProcess.run(["schedules", "validate", "/nonexistent/schedules.yaml"])
        #expect(outcome.status == 1)
        #expect(outcome.standardError.contains("cannot read /nonexistent/schedules.yaml"))
    }

    @Test("apply: dry run, create, unchanged, invalid file, prune; list shows fire times and the last tick")
    func applyAndList() async throws {
        try await TestDatabase.with { database in
            let db = try await database.connect()
            defer { db.close() }
            try await CoupletSchema.migrator.migrate(on: db)
            let environment = ["COUPLET_DATABASE_URL": database.configuration.connectionString]
            func couplet(_ arguments: String...) async throws -> CoupletProcess.Outcome {
                try await CoupletProcess.run(arguments, environment: environment)
            }
            let file = try temporaryFile(goodSchedules)

            let dryRun = try await couplet("schedules", "apply", file, "--dry-run")
            #expect(dryRun.status == 0, "\(dryRun.standardError)")
            #expect(lines(dryRun.standardOutput) == [
                "would create  customer-delta", "would create  nightly-full",
                "\(file) (dry run, nothing written): 2 created, 0 updated, 0 unchanged, 0 deleted.",
            ])
            #expect(try await db.query("SELECT count(*) FROM couplet.schedules").single().decode(Int.self, at: 0) == 0)

            let applied = try await couplet("schedules", "apply", file)
            #expect(lines(applied.standardOutput) == [
                "created       customer-delta", "created       nightly-full", "\(file): 2 created, 0 updated, 0 unchanged, 0 deleted.",
            ])
            let again = try await couplet("schedules", "apply", file)
            #expect(lines(again.standardOutput) == ["\(file): 0 created, 0 updated, 2 unchanged, 0 deleted."])

            let broken = try temporaryFile("schedules:\n  - name: extra\n    cron: \"@daily\"\n    job: k\n    priority: 10\n")
            let refused = try await couplet("schedules", "apply", broken, "--prune")
            #expect(refused.status == 1)
            #expect(refused.standardError.contains("\(broken):5:15: priority 10 is out of range 0-9"))
            #expect(try await db.query("SELECT count(*) FROM couplet.schedules").single().decode(Int.self, at: 0) == 2)

            try await db.query(
                "SELECT * FROM couplet.fire_schedule_ticks(ARRAY['nightly-full'], ARRAY['2025-06-01T07:00:00Z'::timestamptz], gen_random_uuid())")
            let list = try await couplet("schedules", "list")
            #expect(list.status == 0, "\(list.standardError)")
            let table = lines(list.standardOutput)
            #expect(table.count == 3)
            #expect(table[0].hasPrefix("NAME            EXPRESSION   ZONE         ENABLED  JOB         NEXT FIRE TIMES"))
            #expect(table[1].hasPrefix("customer-delta  */5 * * * *  Europe/Oslo  yes      sync.delta  "))
            #expect(table[2].hasPrefix("nightly-full    0 9 * * *    Europe/Oslo  yes      sync.full   "))
            let columns = table.map { $0.split(separator: /\s{2,}/).map(String.init) }
            #expect(columns.map(\.count) == [10, 10, 10])
            #expect(columns[1].suffix(4) == ["-", "-", "sync:CUSTOMER", "-"])
            #expect(columns[2].suffix(4) == ["2025-06-01T09:00:00+02:00", "available", "-", "-"])
            let nextTimes = columns[2][5].split(separator: ", ")
            #expect(nextTimes.count == 3)
            #expect(nextTimes.allSatisfy { $0.wholeMatch(of: /\d{4}-\d\d-\d\dT09:00:00\+0[12]:00/) != nil })

            let pruned = try await couplet("schedules", "apply", try temporaryFile("schedules: []\n"), "--prune")
            #expect(pruned.status == 0)
            #expect(lines(pruned.standardOutput).prefix(2) == ["deleted       customer-delta", "deleted       nightly-full"])
            let empty = try await couplet("schedules", "list")
            #expect(empty.standardOutput == "No schedules. Apply a schedules file with: couplet schedules apply FILE\n")
        }
    }
}

@Suite("couplet bench cron, as a process")
struct CronBenchTests {
    @Test("prints next() and baseline rates as JSON")
    func json() async throws {
        let outcome = try await CoupletProcess.run(["bench", "cron", "--seconds", "0.1", "--json"])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        let object = try JSONSerialization.jsonObject(with: Data(outcome.standardOutput.utf8)) as? [String: Any]
        let next = try #require(object?["next_per_s"] as? Double)
        let baseline = try #require(object?["baseline_minute_scan_per_s"] as? Double)
        #expect(next > baseline)
        #expect(baseline > 0)
        #expect(object?["expressions"] as? Int ?? 0 >= 12)
    }
}
