import Foundation
import Testing
@testable import Sync

@Suite("Number rules")
struct NumberRuleTests {
    @Test("round rounds halves away from zero and drops trailing zeros", arguments: [
        ("round(2)", "2.345", "2.35"),
        ("round(2)", "-2.345", "-2.35"),
        ("round(2)", "1.50", "1.5"),
        ("round(2)", "10", "10"),
        ("round(2)", "0.005", "0.01"),
        ("round(0)", "2.5", "3"),
        ("round(0)", "-2.5", "-3"),
        ("round(0)", "0.49999", "0"),
        ("round(-2)", "1250", "1300"),
        ("round(2)", " 3.14159 ", "3.14"),
        ("round(1)", "1e3", "1000"),
        ("round(1)", "+.25", "0.3"),
        ("round(2)", "123456789012345678901234567.125", "123456789012345678901234567.13"),
    ])
    func round(rule: String, input: String, expected: String) throws {
        #expect(try apply(rule, to: input) == expected)
    }

    @Test("round is exact where binary floating point is not")
    func roundIsExact() throws {
        // 1.005 is 1.00499999999999989... as a Double, which rounds to 1.0.
        #expect(try apply("round(2)", to: "1.005") == "1.01")
        #expect(try apply("round(1)", to: "0.15") == "0.2")
    }

    @Test("format_decimal writes exactly the given number of decimals", arguments: [
        ("format_decimal(2)", "1234.5", "1234.50"),
        ("format_decimal(2)", "-0.5", "-0.50"),
        ("format_decimal(2)", "7", "7.00"),
        ("format_decimal(2)", "2.345", "2.35"),
        ("format_decimal(0)", "2.5", "3"),
        ("format_decimal(3, \",\")", "1.5", "1,500"),
        ("format_decimal(1)", "1000000", "1000000.0"),
        ("format_decimal(2)", "0", "0.00"),
    ])
    func formatDecimal(rule: String, input: String, expected: String) throws {
        #expect(try apply(rule, to: input) == expected)
    }

    @Test("number rules refuse text that is not wholly a number", arguments: [
        "abc", "12abc", "", " ", "1,5", "NaN", "Infinity", "1e", "--1", "1.2.3", "0x10", "١٢",
    ])
    func refusesNonNumbers(input: String) throws {
        let error = try #require(try applyError("round(2)", to: input))
        #expect(error.code == .invalidValue)
        #expect(error.message.hasSuffix("it is not a number"))
        #expect(try applyError("format_decimal(2)", to: input)?.code == .invalidValue)
    }

    @Test("numbers that Decimal cannot hold exactly are refused rather than changed", arguments: [
        "12345678901234567890123456789012345678.9", "1e500", "1e-500", "-0.1234567890123456789012345678901234567891",
    ])
    func refusesInexactNumbers(input: String) throws {
        let error = try #require(try applyError("round(2)", to: input))
        #expect(error.message.hasSuffix("it has more than 38 significant digits or too large an exponent to be calculated exactly"))
    }

    @Test("38 significant digits and zeros around them are exact")
    func thirtyEightDigits() throws {
        #expect(try apply("round(1)", to: "1234567890123456789012345678901234567.8") == "1234567890123456789012345678901234567.8")
        #expect(try apply("round(0)", to: "12345678901234567890123456789012345678000000") == "12345678901234567890123456789012345678000000")
        #expect(try apply("format_decimal(2)", to: "0.000000000000000000000000000000000000000000001") == "0.00")
    }

    @Test("negative decimals built in code fail for format_decimal")
    func negativeFormatDecimals() {
        #expect(throws: TransformationError.self) {
            try Transformation.formatDecimal(decimals: -1, separator: ".").apply(to: "1")
        }
    }
}

@Suite("Date rules")
struct DateRuleTests {
    @Test("format_date writes dates and date-times with a POSIX locale in UTC by default", arguments: [
        ("2025-03-30", "30.03.2025"),
        ("2025-03-30 01:00:00+02", "29.03.2025"),
        ("2025-03-30T01:00:00Z", "30.03.2025"),
        ("2025-03-30 01:00:00.123456+02:00", "29.03.2025"),
        ("2000-02-29", "29.02.2000"),
        ("0099-01-01", "01.01.0099"),
    ])
    func formatDate(input: String, expected: String) throws {
        #expect(try apply("format_date(\"dd.MM.yyyy\")", to: input) == expected)
    }

    @Test("format_date moves a date-time into the rule's zone but keeps a plain date")
    func formatDateInZone() throws {
        let rule = "format_date(\"dd.MM.yyyy\", \"Europe/Berlin\")"
        #expect(try apply(rule, to: "2025-03-30 01:00:00+02") == "30.03.2025")
        #expect(try apply(rule, to: "2025-03-29 23:30:00+00") == "30.03.2025")
        #expect(try apply(rule, to: "2025-03-30") == "30.03.2025")
        #expect(try apply("format_date(\"yyyy-MM-dd\", \"Pacific/Kiritimati\")", to: "2025-03-30") == "2025-03-30")
    }

    @Test("month and day names are English whatever the machine's locale")
    func posixNames() throws {
        #expect(try apply("format_date(\"EEEE d MMMM yyyy\")", to: "2025-03-30") == "Sunday 30 March 2025")
        #expect(try apply("format_date(\"'week' w, MMM\")", to: "2025-03-30") == "week 14, Mar")
    }

    @Test("format_datetime writes the time in the rule's zone", arguments: [
        ("2025-03-30 01:00:00+00", "2025-03-30 03:00"),
        ("2025-03-30T00:59:59Z", "2025-03-30 01:59"),
        ("2025-03-30", "2025-03-30 00:00"),
        ("2025-03-30 02:30:00", "2025-03-30 03:30"),
        ("2025-10-26 02:30:00", "2025-10-26 02:30"),
        ("2025-10-26 00:30:00Z", "2025-10-26 02:30"),
        ("2025-07-01 12:00", "2025-07-01 12:00"),
    ])
    func formatDateTime(input: String, expected: String) throws {
        #expect(try apply("format_datetime(\"yyyy-MM-dd HH:mm\", \"Europe/Berlin\")", to: input) == expected)
    }

    @Test("format_datetime with an offset pattern in UTC")
    func formatDateTimeUTC() throws {
        #expect(try apply("format_datetime(\"yyyy-MM-dd'T'HH:mm:ssXXX\")", to: "2025-03-30 01:00:00+02") == "2025-03-29T23:00:00Z")
        #expect(try apply("format_datetime(\"HH:mm:ss.SSS\")", to: "2025-03-30 01:02:03.5+00") == "01:02:03.500")
    }

    @Test("date rules refuse text that is not a date", arguments: [
        "30.03.2025", "2025-02-30", "2025-13-01", "2025-00-10", "infinity", "2025-03-30 24:00:00",
        "2025-03-30 12:60", "2025-03-30 12:00:61", "2025-03-30T", "2025-03-30 01:00:00+2", "2025-3-30",
        "2025-03-30 01:00:00 Europe/Berlin", "", "0000-01-01", "2025-03-30 01:00:00.1234567890",
    ])
    func refusesNonDates(input: String) throws {
        let error = try #require(try applyError("format_date(\"dd.MM.yyyy\")", to: input))
        #expect(error.code == .invalidValue)
        #expect(error.message.hasPrefix("format_date(\"dd.MM.yyyy\") cannot be applied to"))
        #expect(try applyError("unix_timestamp", to: input)?.code == .invalidValue)
    }

    @Test("unix_timestamp converts to whole seconds since the epoch, rounding down", arguments: [
        ("1970-01-01", "0"),
        ("2025-03-30T01:00:00Z", "1743296400"),
        ("2025-03-30 01:00:00+02", "1743289200"),
        ("2025-03-30 01:00:00+0200", "1743289200"),
        ("2025-03-30 01:00:00 +02:00", "1743289200"),
        ("2025-03-29 18:30:00-04:30", "1743289200"),
        ("1970-01-01 00:00:00.75+00", "0"),
        ("1969-12-31 23:59:59.5+00", "-1"),
        ("2000-02-29", "951782400"),
        ("2025-03-29 23:00", "1743289200"),
    ])
    func unixTimestamp(input: String, expected: String) throws {
        #expect(try apply("unix_timestamp", to: input) == expected)
    }

    @Test("unix_timestamp reads text without an offset in the given zone")
    func unixTimestampZone() throws {
        #expect(try apply("unix_timestamp(\"Europe/Berlin\")", to: "2025-07-01 12:00:00") == "1751364000")
        #expect(try apply("unix_timestamp(\"Europe/Berlin\")", to: "2025-07-01 12:00:00+00") == "1751371200")
    }

    @Test("from_unix_timestamp writes PostgreSQL's UTC timestamptz text", arguments: [
        ("0", "1970-01-01 00:00:00+00"),
        ("1743289200", "2025-03-29 23:00:00+00"),
        ("-1", "1969-12-31 23:59:59+00"),
        ("951782400", "2000-02-29 00:00:00+00"),
        (" 60 ", "1970-01-01 00:01:00+00"),
    ])
    func fromUnixTimestamp(input: String, expected: String) throws {
        #expect(try apply("from_unix_timestamp", to: input) == expected)
    }

    @Test("from_unix_timestamp refuses fractions, text and years beyond 9999", arguments: [
        ("1.5", "it is not a whole number of seconds"),
        ("abc", "it is not a whole number of seconds"),
        ("", "it is not a whole number of seconds"),
        ("253402300800", "it lies outside the years 1 to 9999"),
        ("-62135596801", "it lies outside the years 1 to 9999"),
    ])
    func fromUnixTimestampErrors(input: String, reason: String) throws {
        let error = try #require(try applyError("from_unix_timestamp", to: input))
        #expect(error.message.hasSuffix(reason))
    }

    @Test("unix_timestamp and from_unix_timestamp round-trip PostgreSQL text")
    func roundTrip() throws {
        for text in ["2025-03-29 23:00:00+00", "1900-01-01 00:00:00+00", "9999-12-31 23:59:59+00", "0001-01-01 00:00:00+00"] {
            #expect(try apply("unix_timestamp | from_unix_timestamp", to: text) == text)
        }
    }
}

@Suite("Calendar arithmetic")
struct CalendarTests {
    @Test("days since the epoch and back agree for four centuries of days")
    func daysRoundTrip() {
        for days in stride(from: -800_000, through: 800_000, by: 97) {
            let date = CivilDate(daysSinceEpoch: days)
            #expect(date.isValid && date.daysSinceEpoch == days)
        }
    }

    @Test("the parser agrees with Foundation on UTC instants")
    func agreesWithFoundation() {
        for text in ["2025-03-30T01:00:00Z", "1999-12-31T23:59:59Z", "1600-02-29T12:00:00Z", "2100-03-01T00:00:00Z"] {
            #expect(DateTimeText.instant(text, wallClockZone: .gmt) == utc(text))
        }
    }
}
