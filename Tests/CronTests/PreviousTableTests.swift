import Foundation
import Testing
@testable import Cron

/// One worked example: the last fire instant strictly before `before`, worked out by hand.
struct PreviousCase: Sendable, CustomTestStringConvertible {
    let expression: String
    let zone: String?
    let before: String
    let expected: String?

    init(_ expression: String, _ zone: String?, _ before: String, _ expected: String?) {
        self.expression = expression
        self.zone = zone
        self.before = before
        self.expected = expected
    }

    var testDescription: String { "\"\(expression)\" in \(zone ?? "UTC") before \(before)" }
}

// See NextTableTests.swift for the calendar and transition facts used here.
let previousCases: [PreviousCase] = [
    .init("0 * * * *", nil, "2025-01-01T10:00:00Z", "2025-01-01T09:00:00Z"),
    .init("0 * * * *", nil, "2025-01-01T10:00:01Z", "2025-01-01T10:00:00Z"),
    .init("*/15 * * * *", nil, "2025-01-01T00:07:00Z", "2025-01-01T00:00:00Z"),
    .init("0 0 1 1 *", nil, "2025-01-01T00:00:00Z", "2024-01-01T00:00:00Z"),
    .init("0 0 31 * *", nil, "2025-03-01T00:00:00Z", "2025-01-31T00:00:00Z"),
    .init("0 0 29 2 *", nil, "2028-02-28T00:00:00Z", "2024-02-29T00:00:00Z"),
    .init("0 0 29 2 *", nil, "2104-01-01T00:00:00Z", "2096-02-29T00:00:00Z"),
    .init("0 0 L * *", nil, "2025-03-15T00:00:00Z", "2025-02-28T00:00:00Z"),
    .init("0 0 * * 5#2", nil, "2025-02-01T00:00:00Z", "2025-01-10T00:00:00Z"),
    .init("0 0 * * 5L", nil, "2025-02-27T00:00:00Z", "2025-01-31T00:00:00Z"),
    .init("0 0 LW * *", nil, "2025-09-01T00:00:00Z", "2025-08-29T00:00:00Z"),
    .init("0 0 1W * *", nil, "2025-03-03T00:00:00Z", "2025-02-03T00:00:00Z"),
    .init("0 0 15W * *", nil, "2025-07-01T00:00:00Z", "2025-06-16T00:00:00Z"),
    .init("0 9 * * mon-fri", nil, "2025-01-06T09:00:00Z", "2025-01-03T09:00:00Z"),
    .init("*/10 * * * * *", nil, "2025-01-01T00:00:00Z", "2024-12-31T23:59:50Z"),
    .init("0 0 30 2 *", nil, "2025-01-01T00:00:00Z", nil),
    .init("0 0 13 * 5", nil, "2025-01-13T00:00:00Z", "2025-01-10T00:00:00Z"),
    .init("@yearly", nil, "2025-01-01T00:00:01Z", "2025-01-01T00:00:00Z"),
    .init("@weekly", nil, "2025-01-01T00:00:00Z", "2024-12-29T00:00:00Z"),
    .init("@every 90s", nil, "2025-01-01T00:00:00Z", "2024-12-31T23:58:30Z"),
    .init("@every 90s", nil, "2025-01-01T00:00:01Z", "2025-01-01T00:00:00Z"),
    .init("@every 7m", nil, "2025-01-01T00:00:00Z", "2024-12-31T23:58:00Z"),
    // Europe/Oslo spring forward: the skipped 02:30 fired at 03:00+02:00.
    .init("30 2 * * *", "Europe/Oslo", "2025-03-30T04:00:00+02:00", "2025-03-30T03:00:00+02:00"),
    .init("30 2 * * *", "Europe/Oslo", "2025-03-30T03:00:00+02:00", "2025-03-29T02:30:00+01:00"),
    .init("0 * * * *", "Europe/Oslo", "2025-03-30T03:00:00+02:00", "2025-03-30T01:00:00+01:00"),
    // Europe/Oslo fall back: only the first 02:30 (+02:00) fired.
    .init("30 2 * * *", "Europe/Oslo", "2025-10-26T02:45:00+01:00", "2025-10-26T02:30:00+02:00"),
    .init("30 2 * * *", "Europe/Oslo", "2025-10-26T02:30:00+01:00", "2025-10-26T02:30:00+02:00"),
    .init("0 * * * *", "Europe/Oslo", "2025-10-26T03:00:00+01:00", "2025-10-26T02:00:00+02:00"),
    // America/New_York fall back: 01:00-01:59 fired during its first (EDT) pass only.
    .init("0 * * * *", "America/New_York", "2025-11-02T02:00:00-05:00", "2025-11-02T01:00:00-04:00"),
    .init("30 1 * * *", "America/New_York", "2025-11-03T00:00:00-05:00", "2025-11-02T01:30:00-04:00"),
    .init("CRON_TZ=America/New_York 30 2 * * *", nil, "2025-03-09T12:00:00Z", "2025-03-09T03:00:00-04:00"),
]

@Suite("previous(before:) worked examples")
struct PreviousTableTests {
    @Test("table has at least 15 cases")
    func tableSize() {
        #expect(previousCases.count >= 15)
    }

    @Test(arguments: previousCases)
    func previous(_ example: PreviousCase) {
        let expression = cron(example.expression)
        let actual = expression.previous(before: instant(example.before), in: zone(example.zone))
        let expected = example.expected.map(instant)
        let shownZone = expression.timeZone ?? zone(example.zone)
        #expect(actual == expected, "expected \(show(expected, in: shownZone)), got \(show(actual, in: shownZone))")
    }
}
