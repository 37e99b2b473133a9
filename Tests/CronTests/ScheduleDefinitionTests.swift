import Foundation
import Testing
@testable import Cron

@Suite("ScheduleDefinition")
struct ScheduleDefinitionTests {
    @Test func defaultsMirrorTheSchema() throws {
        let definition = try ScheduleDefinition(name: "nightly", expression: "0 2 * * *", jobKind: "sync.full")
        #expect(definition.timeZone == "UTC")
        #expect(definition.arguments == "{}")
        #expect(definition.queue == "default")
        #expect(definition.priority == 5)
        #expect(definition.maxAttempts == 5)
        #expect(definition.isEnabled)
        #expect(definition.misfirePolicy == .skip)
        #expect(definition.catchUpWindow == .seconds(3600))
        #expect(!definition.noOverlap)
        #expect(definition.concurrencyKey == nil)
        #expect(definition.expression == cron("0 2 * * *"))
    }

    @Test("a CRON_TZ= prefix gives the zone, by the name written")
    func cronZoneBecomesTheZone() throws {
        let zoned = try ScheduleDefinition(name: "a", expression: "CRON_TZ=UTC 0 2 * * *", jobKind: "k")
        #expect(zoned.timeZone == "UTC")
        let oslo = try ScheduleDefinition(name: "b", expression: " CRON_TZ=Europe/Oslo 0 2 * * *", jobKind: "k")
        #expect(oslo.timeZone == "Europe/Oslo")
        let same = try ScheduleDefinition(name: "c", expression: "CRON_TZ=Europe/Oslo 0 2 * * *", timeZone: "Europe/Oslo", jobKind: "k")
        #expect(same.zone == TimeZone(identifier: "Europe/Oslo"))
    }

    @Test("every wrong field is reported, in field order")
    func collectsEveryProblem() {
        #expect(
            throws: ScheduleDefinitionError(problems: [
                .init(field: .name, message: "name \"bad name\" must be 1-100 letters, digits, '_', '.', ':' or '-'"),
                .init(field: .expression, message: "invalid cron expression \"0 0 32 * *\" at character 5: day-of-month value 32 is out of range 1-31"),
                .init(field: .timeZone, message: "unknown time zone \"Mars/Olympus\"; expected an IANA name such as Europe/Oslo or UTC"),
                .init(field: .jobKind, message: "job kind \"\" must be 1-200 letters, digits, '_', '.', ':' or '-'"),
                .init(field: .arguments, message: "args must be a JSON object, such as {\"mapping\": \"CUSTOMER\"}"),
                .init(field: .queue, message: "queue \"a/b\" must be 1-100 letters, digits, '_', '.', ':' or '-'"),
                .init(field: .priority, message: "priority 10 is out of range 0-9 (0 runs first)"),
                .init(field: .maxAttempts, message: "max_attempts 0 is out of range: it must be at least 1"),
                .init(field: .concurrencyKey, message: "concurrency_key \"\" must be 1-200 characters, such as sync:CUSTOMER"),
                .init(field: .catchUpWindow, message: "catch_up_window must not be negative"),
                .init(field: .retryDelay, message: "retry_delay must not be negative"),
                .init(field: .inactivityTimeout, message: "inactivity_timeout must not be negative (0s holds until woken)"),
            ])
        ) {
            try ScheduleDefinition(
                name: "bad name", expression: "0 0 32 * *", timeZone: "Mars/Olympus", jobKind: "", arguments: "[1]", queue: "a/b",
                priority: 10, maxAttempts: 0, concurrencyKey: "", catchUpWindow: .seconds(-1), retryDelay: .seconds(-1),
                inactivityTimeout: .seconds(-1))
        }
    }

    @Test func refusesAnExpressionThatCanNeverFire() {
        #expect(throws: ScheduleDefinitionError(problems: [.init(field: .expression, message: "cron expression \"0 0 30 2 *\" can never fire: no date matches it")])) {
            try ScheduleDefinition(name: "never", expression: "0 0 30 2 *", jobKind: "k")
        }
    }

    @Test func refusesAZoneThatDiffersFromCronTZ() {
        #expect(throws: ScheduleDefinitionError(problems: [.init(field: .timeZone, message: "timezone \"UTC\" differs from the expression's CRON_TZ=Europe/Oslo; give the zone once")])) {
            try ScheduleDefinition(name: "a", expression: "CRON_TZ=Europe/Oslo 0 2 * * *", timeZone: "UTC", jobKind: "k")
        }
    }

    @Test("names, kinds and queues follow the CHECK constraints of couplet.schedules")
    func identifierRules() throws {
        _ = try ScheduleDefinition(name: String(repeating: "n", count: 100), expression: "@hourly", jobKind: String(repeating: "k", count: 200), queue: "q.1:x-y_z")
        #expect(throws: ScheduleDefinitionError.self) { try ScheduleDefinition(name: String(repeating: "n", count: 101), expression: "@hourly", jobKind: "k") }
        #expect(throws: ScheduleDefinitionError.self) { try ScheduleDefinition(name: "a", expression: "@hourly", jobKind: String(repeating: "k", count: 201)) }
        #expect(throws: ScheduleDefinitionError.self) { try ScheduleDefinition(name: "å", expression: "@hourly", jobKind: "k") }
        #expect(throws: ScheduleDefinitionError.self) { try ScheduleDefinition(name: "a", expression: "@hourly", jobKind: "k", maxAttempts: Int(Int32.max) + 1) }
    }

    @Test("a concurrency key is any text of 1-200 characters, as the CHECK constraint counts them")
    func concurrencyKeyRules() throws {
        let shared = try ScheduleDefinition(name: "a", expression: "@hourly", jobKind: "k", concurrencyKey: "sync:CUSTOMER-VENDOR-CONTACT")
        #expect(shared.concurrencyKey == "sync:CUSTOMER-VENDOR-CONTACT")
        _ = try ScheduleDefinition(name: "a", expression: "@hourly", jobKind: "k", concurrencyKey: String(repeating: "å", count: 200))
        #expect(throws: ScheduleDefinitionError.self) {
            try ScheduleDefinition(name: "a", expression: "@hourly", jobKind: "k", concurrencyKey: String(repeating: "k", count: 201))
        }
        #expect(throws: ScheduleDefinitionError.self, "200 letters with combining accents are 400 characters to PostgreSQL") {
            try ScheduleDefinition(name: "a", expression: "@hourly", jobKind: "k", concurrencyKey: String(repeating: "a\u{301}", count: 200))
        }
    }
}
