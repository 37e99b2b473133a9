import Foundation
import Testing
@testable import Cron

/// An input that must be rejected, with the exact message and 1-based position expected.
struct InvalidCase: Sendable, CustomTestStringConvertible {
    let input: String
    let message: String
    let position: Int

    init(_ input: String, _ message: String, _ position: Int) {
        self.input = input
        self.message = message
        self.position = position
    }

    var testDescription: String { "\"\(input)\"" }
}

let invalidCases: [InvalidCase] = [
    // Shape of the expression.
    .init("", "expression is empty", 1),
    .init("   ", "expression is empty", 4),
    .init("* * * *", "expected 5 or 6 fields, found 4", 8),
    .init("* * * * * * *", "expected 5 or 6 fields, found 7", 13),
    .init("0 0 12 * * ? 2025", "expected 5 or 6 fields, found 7", 14),
    // Values out of range, naming the field and its range.
    .init("61 * * * *", "minute value 61 is out of range 0-59", 1),
    .init("0 24 * * *", "hour value 24 is out of range 0-23", 3),
    .init("0 0 0 * *", "day-of-month value 0 is out of range 1-31", 5),
    .init("0 0 32 * *", "day-of-month value 32 is out of range 1-31", 5),
    .init("0 0 * 13 *", "month value 13 is out of range 1-12", 7),
    .init("0 0 * * 8", "day-of-week value 8 is out of range 0-7", 9),
    .init("60 0 0 * * *", "second value 60 is out of range 0-59", 1),
    .init("0 0 * * * 2025", "day-of-week value 2025 is out of range 0-7", 11),
    .init("99999999999999999999 * * * *", "minute value 99999999999999999999 is out of range 0-59", 1),
    .init("0 0 32W * *", "day-of-month value 32 is out of range 1-31", 5),
    .init("0 1-99 * * *", "hour value 99 is out of range 0-23", 5),
    // Ranges and steps.
    .init("0 20-5 * * *", "hour range 20-5 starts after it ends", 3),
    .init("0 0 * * fri-mon", "day-of-week range fri-mon starts after it ends", 9),
    .init("0 0 * * 7-5", "day-of-week range 7-5 starts after it ends", 9),
    .init("*/0 * * * *", "minute step 0 is out of range 1-60", 3),
    .init("*/61 * * * *", "minute step 61 is out of range 1-60", 3),
    .init("0 */25 * * *", "hour step 25 is out of range 1-24", 5),
    .init("0 0 * JAN-DEC/0 *", "month step 0 is out of range 1-12", 15),
    .init("*/ * * * *", "missing step after '/' in the minute field", 3),
    .init("1- * * * *", "missing end of range after '-' in the minute field", 3),
    .init("0 0 * * mon-", "missing end of range after '-' in the day-of-week field", 13),
    // Names.
    .init("0 0 * foo *", "unknown month name \"foo\"", 7),
    .init("0 0 * * funday", "unknown day-of-week name \"funday\"", 9),
    .init("0 0 * * mon-xyz", "unknown day-of-week name \"xyz\"", 13),
    // List elements and stray characters.
    .init("1,,2 * * * *", "empty element in the minute list", 3),
    .init(",1 * * * *", "empty element in the minute list", 1),
    .init("1, * * * *", "empty element in the minute list", 3),
    .init("5$ * * * *", "unexpected character '$' in the minute field", 2),
    .init("abc * * * *", "unexpected character 'a' in the minute field", 1),
    .init("0 0 * * 1-5x", "unexpected character 'x' in the day-of-week field", 12),
    .init("0 0 1é * *", "unexpected character 'é' in the day-of-month field", 6),
    // W, L, # and ? in the wrong place.
    .init("0 0 15W * 1W", "'W' is only allowed in the day-of-month field", 12),
    .init("0 0 W * *", "'W' must follow a single day, as in 15W", 5),
    .init("0 0 1-5W * *", "'W' must follow a single day, as in 15W", 8),
    .init("L * * * *", "'L' is only allowed in the day-of-month and day-of-week fields", 1),
    .init("0 0 * L *", "'L' is only allowed in the day-of-month and day-of-week fields", 7),
    .init("0 0 5L * *", "'L' in the day-of-month field must stand alone, as in L, L-3 or LW", 6),
    .init("0 0 * * L", "'L' in the day-of-week field must follow a single weekday, as in 5L", 9),
    .init("0 0 5#2 * *", "'#' is only allowed in the day-of-week field", 6),
    .init("0 5# * * *", "'#' is only allowed in the day-of-week field", 4),
    .init("0 0 * * 1-5#2", "'#' must follow a single weekday, as in 5#2", 12),
    .init("? * * * *", "'?' is only allowed in the day-of-month and day-of-week fields", 1),
    .init("0 0 * * 5#6", "day-of-week occurrence 6 is out of range 1-5", 11),
    .init("0 0 * * 5#0", "day-of-week occurrence 0 is out of range 1-5", 11),
    .init("0 0 * * 5#", "missing occurrence after '#' in the day-of-week field", 11),
    .init("0 0 L-31 * *", "day-of-month L- offset 31 is out of range 0-30", 7),
    .init("0 0 L-x * *", "missing number after 'L-' in the day-of-month field", 7),
    // Macros and @every.
    .init("@reboot", "unknown macro \"@reboot\"", 1),
    .init("@daily 5", "unexpected text after @daily", 8),
    .init("@every", "@every needs a duration such as 90s, 5m or 1h30m", 7),
    .init("@every 0s", "@every duration \"0s\" must be longer than zero", 8),
    .init("@every 5", "@every duration \"5\" is invalid: expected whole numbers with units d, h, m or s, such as 90s or 1h30m", 9),
    .init("@every 10x", "@every duration \"10x\" is invalid: expected whole numbers with units d, h, m or s, such as 90s or 1h30m", 10),
    .init("@every 1.5h", "@every duration \"1.5h\" is invalid: expected whole numbers with units d, h, m or s, such as 90s or 1h30m", 9),
    .init("@every -5m", "@every duration \"-5m\" is invalid: expected whole numbers with units d, h, m or s, such as 90s or 1h30m", 8),
    .init("@every 30m1h", "@every duration \"30m1h\" is invalid: units must come in the order d, h, m, s, each at most once", 11),
    .init("@every 1h1h", "@every duration \"1h1h\" is invalid: units must come in the order d, h, m, s, each at most once", 10),
    .init("@every 1234567890s", "@every duration \"1234567890s\" is too long", 8),
    .init("@every 5m extra", "unexpected text after the @every duration", 11),
    // CRON_TZ.
    .init("CRON_TZ=Mars/Olympus 0 0 * * *", "unknown time zone \"Mars/Olympus\"", 9),
    .init("CRON_TZ= 0 0 * * *", "missing time zone name after CRON_TZ=", 9),
    .init("CRON_TZ=Europe/Oslo", "expression is empty", 20),
    .init("CRON_TZ=Europe/Oslo 61 * * * *", "minute value 61 is out of range 0-59", 21),
]

@Suite("Parse errors")
struct ParseErrorTests {
    @Test("at least 30 invalid inputs")
    func tableSize() {
        #expect(invalidCases.count >= 30)
    }

    @Test(arguments: invalidCases)
    func rejects(_ example: InvalidCase) {
        #expect(throws: CronParseError(message: example.message, position: example.position, input: example.input)) {
            try CronExpression(example.input)
        }
    }

    @Test func descriptionQuotesInputPositionAndMessage() {
        #expect(throws: CronParseError.self) { try CronExpression("61 * * * *") }
        do {
            _ = try CronExpression("61 * * * *")
        } catch {
            #expect(error.description == "invalid cron expression \"61 * * * *\" at character 1: minute value 61 is out of range 0-59")
        }
    }

    @Test(arguments: [
        "0 0 1W,L,LW,L-2,15 * *", "0 0 * * 5L,1#2,mon-fri/2", "0 0 ? * ?", "0 0 * * sun-sat",
        "0 0 * * fri-sun", "0 0 * * SUN-SUN", "*/60 */24 */31 */12 */7", "0-59 0-23 1-31 1-12 0-7",
        "\t0\t0  *  * *\n", "@every 1d", "@every 86399s", "CRON_TZ=UTC @hourly",
    ])
    func accepts(_ text: String) {
        #expect(throws: Never.self) { try CronExpression(text) }
    }
}
