import Foundation
import Testing
@testable import Cron

@Suite("Duration(parsing:)")
struct DurationParsingTests {
    @Test(arguments: [
        ("0s", Duration.zero), ("30s", .seconds(30)), ("90m", .seconds(5400)), ("2h", .seconds(7200)),
        ("1h30m", .seconds(5400)), ("7d", .seconds(604_800)), ("500ms", .milliseconds(500)),
        ("1d2h3m4s5ms", .seconds(93_784) + .milliseconds(5)), ("1m1ms", .milliseconds(60_001)),
        ("999999999s", .seconds(999_999_999)), ("36600d", .seconds(36_600 * 86_400)),
    ])
    func parses(_ text: String, _ expected: Duration) throws {
        #expect(try Duration(parsing: text) == expected)
    }

    @Test(arguments: [
        ("", DurationParseError.Reason.malformed, 0), ("5", .malformed, 1), ("10x", .malformed, 2),
        ("1.5h", .malformed, 1), ("-5m", .malformed, 0), ("h", .malformed, 0), ("2h ", .malformed, 2),
        (" 2h", .malformed, 0), ("1h30", .malformed, 4), ("30m1h", .unitOrder, 3), ("1h1h", .unitOrder, 2),
        ("5ms1s", .unitOrder, 3), ("1234567890s", .numberTooLong, 0), ("1h1234567890m", .numberTooLong, 2),
        ("999999999d", .beyondLimit, 0), ("36600d1s", .beyondLimit, 0),
    ])
    func rejects(_ text: String, _ reason: DurationParseError.Reason, _ offset: Int) {
        #expect(throws: DurationParseError(reason, offset: offset, text: text)) { try Duration(parsing: text) }
    }

    @Test func describesTheProblem() {
        #expect(DurationParseError(.malformed, offset: 1, text: "1.5h").description
            == "duration \"1.5h\" is invalid: expected whole numbers with units d, h, m, s or ms, such as 90s, 2h or 1h30m")
        #expect(DurationParseError(.unitOrder, offset: 3, text: "30m1h").description
            == "duration \"30m1h\" is invalid: units must come in the order d, h, m, s, ms, each at most once")
        #expect(DurationParseError(.beyondLimit, offset: 0, text: "999999999d").description
            == "duration \"999999999d\" is longer than 36600d (100 years), the longest Couplet takes")
    }

    @Test("@every reads the same syntax but takes whole seconds only")
    func everyTakesWholeSeconds() throws {
        #expect(try CronExpression("@every 2000ms").next(after: .init(timeIntervalSince1970: 0)) == .init(timeIntervalSince1970: 2))
        #expect(throws: CronParseError(message: "@every duration \"1500ms\" must be a whole number of seconds", position: 8, input: "@every 1500ms")) {
            try CronExpression("@every 1500ms")
        }
    }

    @Test("@every is refused beyond the longest duration, and fires nothing past the year 9999")
    func everyStaysInRange() throws {
        #expect(throws: CronParseError(
            message: "@every duration \"999999999d\" is longer than 36600d (100 years), the longest Couplet takes",
            position: 8, input: "@every 999999999d")) {
            try CronExpression("@every 999999999d")
        }
        let longest = try CronExpression("@every 36600d")
        let lastFireInRange = Date(timeIntervalSince1970: 80 * 36_600 * 86_400)  // in the year 9986
        #expect(longest.next(after: lastFireInRange.addingTimeInterval(-1)) == lastFireInRange)
        #expect(longest.next(after: lastFireInRange) == nil, "the next one falls in the year 10086")
        #expect(longest.previous(before: Date(timeIntervalSince1970: -62_135_596_800)) == nil, "nothing before the year 1")
    }
}
