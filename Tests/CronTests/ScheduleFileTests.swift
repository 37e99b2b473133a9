import Foundation
import Testing
@testable import Cron

/// The problems `ScheduleFile.parse` reports for `yaml`, as `line:column: message` (empty when it parses).
func fileProblems(_ yaml: String) -> [String] {
    do {
        _ = try ScheduleFile.parse(yaml, file: "s.yaml")
        return []
    } catch {
        return error.problems.map { "\($0.line):\($0.column): \($0.message)" }
    }
}

/// A file with one schedule whose lines 2-4 are `name`, `cron` and `job`, followed by `extra` lines.
func oneSchedule(cron: String = "\"0 2 * * *\"", _ extra: String...) -> String {
    (["schedules:", "  - name: nightly", "    cron: \(cron)", "    job: sync.full"] + extra).joined(separator: "\n") + "\n"
}

/// A file that must be rejected with exactly one problem.
struct BadFile: Sendable, CustomTestStringConvertible {
    let yaml: String
    let problem: String
    let testDescription: String

    init(_ description: String, _ yaml: String, _ problem: String) {
        self.yaml = yaml
        self.problem = problem
        testDescription = description
    }
}

let badFiles: [BadFile] = [
    .init("unknown key", oneSchedule("    colour: blue"),
          "5:5: unknown key \"colour\"; expected one of name, cron, timezone, job, args, queue, priority, max_attempts, concurrency_key, misfire, catch_up_window, no_overlap, retry_delay, inactivity_timeout, enabled"),
    .init("missing required key", "schedules:\n  - name: nightly\n    cron: \"@daily\"\n",
          "2:5: schedule is missing the required key job"),
    .init("priority not a number", oneSchedule("    priority: high"), "5:15: priority must be a whole number, not \"high\""),
    .init("quoted number", oneSchedule("    max_attempts: \"3\""), "5:19: max_attempts must be a whole number, not \"3\""),
    .init("enabled not a boolean", oneSchedule("    enabled: maybe"), "5:14: enabled must be true or false, not \"maybe\""),
    .init("job not text", "schedules:\n  - name: nightly\n    cron: \"@daily\"\n    job: [a, b]\n", "4:10: job must be text"),
    .init("invalid cron", oneSchedule(cron: "\"61 * * * *\""),
          "3:11: invalid cron expression \"61 * * * *\" at character 1: minute value 61 is out of range 0-59"),
    .init("cron never fires", oneSchedule(cron: "0 0 30 2 *"), "3:11: cron expression \"0 0 30 2 *\" can never fire: no date matches it"),
    .init("unknown zone", oneSchedule("    timezone: Mars/Olympus"),
          "5:15: unknown time zone \"Mars/Olympus\"; expected an IANA name such as Europe/Oslo or UTC"),
    .init("zone differs from CRON_TZ", oneSchedule(cron: "CRON_TZ=Europe/Oslo 0 2 * * *", "    timezone: UTC"),
          "5:15: timezone \"UTC\" differs from the expression's CRON_TZ=Europe/Oslo; give the zone once"),
    .init("priority out of range", oneSchedule("    priority: 12"), "5:15: priority 12 is out of range 0-9 (0 runs first)"),
    .init("max_attempts out of range", oneSchedule("    max_attempts: 0"), "5:19: max_attempts 0 is out of range: it must be at least 1"),
    .init("empty concurrency key", oneSchedule("    concurrency_key: \"\""),
          "5:22: concurrency_key \"\" must be 1-200 characters, such as sync:CUSTOMER"),
    .init("concurrency key not text", oneSchedule("    concurrency_key: [sync:CUSTOMER, sync:VENDOR]"), "5:22: concurrency_key must be text"),
    .init("unknown misfire policy", oneSchedule("    misfire: sometimes"), "5:14: misfire must be skip or run_once, not \"sometimes\""),
    .init("bad duration", oneSchedule("    catch_up_window: 2 hours"),
          "5:22: catch_up_window: duration \"2 hours\" is invalid: expected whole numbers with units d, h, m, s or ms, such as 90s, 2h or 1h30m"),
    .init("inactivity timeout not a duration", oneSchedule("    inactivity_timeout: 24"),
          "5:25: inactivity_timeout: duration \"24\" is invalid: expected whole numbers with units d, h, m, s or ms, such as 90s, 2h or 1h30m"),
    .init("duration beyond the longest", oneSchedule("    catch_up_window: 999999999d"),
          "5:22: catch_up_window: duration \"999999999d\" is longer than 36600d (100 years), the longest Couplet takes"),
    .init("@every beyond the longest", oneSchedule(cron: "\"@every 999999999d\""),
          "3:11: invalid cron expression \"@every 999999999d\" at character 8: @every duration \"999999999d\" is longer than 36600d (100 years), the longest Couplet takes"),
    .init("bad name", "schedules:\n  - name: nightly full\n    cron: \"@daily\"\n    job: sync.full\n",
          "2:11: name \"nightly full\" must be 1-100 letters, digits, '_', '.', ':' or '-'"),
    .init("bad queue", oneSchedule("    queue: sync/fast"), "5:12: queue \"sync/fast\" must be 1-100 letters, digits, '_', '.', ':' or '-'"),
    .init("args not a mapping", oneSchedule("    args: CUSTOMER"), "5:11: args must be a mapping, such as {mapping: CUSTOMER}, not \"CUSTOMER\""),
    .init("args value not JSON", oneSchedule("    args:", "      mapping: CUSTOMER", "      rate: .inf"), "7:13: .inf in args is not a JSON number"),
    .init("args nested too deep", oneSchedule("    args: {a: " + String(repeating: "[", count: 70) + String(repeating: "]", count: 70) + "}"),
          "5:11: job args nest arrays and objects deeper than 64 levels"),
    .init("schedule not a mapping", "schedules:\n  - nightly\n", "2:5: each schedule must be a mapping with the keys name, cron and job"),
    .init("unquoted * starts an alias", "schedules:\n  - name: often\n    cron: */5 * * * *\n    job: sync.delta\n",
          "3:12: invalid YAML: did not find expected alphabetic or numeric character (while scanning an alias); quote values that start with *, as in cron: \"*/5 * * * *\""),
    .init("key twice in one schedule", oneSchedule("    name: again"), "2:5: the key \"name\" appears more than once in this mapping"),
    .init("empty file", "", "1:1: the file is empty: expected a mapping with the key schedules and a list of schedules"),
    .init("unknown top-level key", "schedules: []\njobs: []\n", "2:1: unknown key \"jobs\" at the top level; expected schedules"),
    .init("no schedules key", "{}\n", "1:1: missing the key schedules: expected a list of schedules"),
    .init("schedules not a list", "schedules:\n  nightly: {}\n", "2:3: schedules must be a list of schedules (write schedules: [] for none)"),
    .init("top level not a mapping", "- a\n- b\n", "1:1: expected a mapping with the key schedules and a list of schedules"),
]

@Suite("ScheduleFile")
struct ScheduleFileTests {
    @Test func readsAGoodFile() throws {
        let yaml = """
            # Couplet schedules
            schedules:
              - name: customer-delta
                cron: "*/5 * * * *"
                timezone: Europe/Oslo
                job: sync.delta
                args: {mapping: CUSTOMER, batch: 500, full: false, country: NO, ratio: 0.5, tags: [a, b], none: ~, path: "a/b"}
                queue: sync
                priority: 3
                max_attempts: 3
                concurrency_key: sync:CUSTOMER-VENDOR-CONTACT
                misfire: run_once        # or skip (default)
                catch_up_window: 2h
                no_overlap: true
                retry_delay: 30s
                inactivity_timeout: 24h
                enabled: true
              - name: nightly-full
                cron: CRON_TZ=America/New_York 0 2 * * *
                job: sync.full
                enabled: no
            """
        let definitions = try ScheduleFile.parse(yaml, file: "schedules.yaml")
        #expect(definitions == [
            try ScheduleDefinition(
                name: "customer-delta", expression: "*/5 * * * *", timeZone: "Europe/Oslo", jobKind: "sync.delta",
                arguments: #"{"batch":500,"country":"NO","full":false,"mapping":"CUSTOMER","none":null,"path":"a/b","ratio":0.5,"tags":["a","b"]}"#,
                queue: "sync", priority: 3, maxAttempts: 3, concurrencyKey: "sync:CUSTOMER-VENDOR-CONTACT", misfirePolicy: .runOnce,
                catchUpWindow: .seconds(7200), noOverlap: true, retryDelay: .seconds(30), inactivityTimeout: .seconds(86400)),
            try ScheduleDefinition(
                name: "nightly-full", expression: "CRON_TZ=America/New_York 0 2 * * *", timeZone: "America/New_York",
                jobKind: "sync.full", isEnabled: false),
        ])
    }

    @Test func anEmptyListIsNoSchedules() throws {
        #expect(try ScheduleFile.parse("schedules: []\n", file: "s.yaml").isEmpty)
    }

    @Test(arguments: badFiles)
    func reportsTheProblemWhereItIs(_ file: BadFile) {
        #expect(fileProblems(file.yaml) == [file.problem])
    }

    @Test("every problem in the file at once, in file order")
    func reportsEveryProblem() {
        let yaml = """
            schedules:
              - name: customer-delta
                cron: "*/5 * * * *"
                job: sync.delta
                priority: 11
                colour: blue
              - name: customer-delta
                cron: "0 25 * * *"
                job: sync.full
                timezone: Mars/Olympus
              - cron: "@daily"
                job: sync.stats
                catch_up_window: soon
            """
        #expect(fileProblems(yaml) == [
            "5:15: priority 11 is out of range 0-9 (0 runs first)",
            "6:5: unknown key \"colour\"; expected one of name, cron, timezone, job, args, queue, priority, max_attempts, concurrency_key, misfire, catch_up_window, no_overlap, retry_delay, inactivity_timeout, enabled",
            "7:11: duplicate schedule name \"customer-delta\": first defined at line 2",
            "8:11: invalid cron expression \"0 25 * * *\" at character 3: hour value 25 is out of range 0-23",
            "10:15: unknown time zone \"Mars/Olympus\"; expected an IANA name such as Europe/Oslo or UTC",
            "11:5: schedule is missing the required key name",
            "13:22: catch_up_window: duration \"soon\" is invalid: expected whole numbers with units d, h, m, s or ms, such as 90s, 2h or 1h30m",
        ])
    }

    @Test("anchors are refused where they stand, before any alias is expanded: a few hundred bytes of nested aliases stay small")
    func aliasBomb() {
        let levels = (1...9).map { level in
            "      l\(level): &l\(level) [" + Array(repeating: "*l\(level - 1)", count: 9).joined(separator: ", ") + "]"
        }
        let yaml = oneSchedule("    args:", "      l0: &l0 lol") + levels.joined(separator: "\n") + "\n"
        let started = ContinuousClock.now
        let problems = fileProblems(yaml)
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(problems.count == 10)
        #expect(problems.first == "6:11: anchor &l0: anchors and aliases are not supported; write the value out wherever *l0 refers to it")
        #expect(problems.last?.hasPrefix("15:11: anchor &l9:") == true)
    }

    @Test("an alias without an anchor is refused as such")
    func aliasWithoutAnchor() {
        #expect(fileProblems(oneSchedule("    queue: *fast")) == ["5:12: this alias refers to no anchor, and anchors and aliases are not supported; write the value out"])
    }

    @Test func problemsPrintLikeCompilerDiagnostics() {
        #expect(throws: ScheduleFileError.self) { try ScheduleFile.parse("schedules:\n  - nightly\n", file: "deploy/schedules.yaml") }
        do {
            _ = try ScheduleFile.parse("schedules:\n  - nightly\n", file: "deploy/schedules.yaml")
        } catch {
            #expect(error.description == "deploy/schedules.yaml:2:5: each schedule must be a mapping with the keys name, cron and job")
        }
    }
}
