import Foundation

/// Reads the date and date-time text PostgreSQL and ISO 8601 use, and writes PostgreSQL's
/// UTC timestamp text.
///
/// Accepted: `2025-03-30`, `2025-03-30 01:00`, `2025-03-30 01:00:00`, `2025-03-30T01:00:00.123456`,
/// each optionally followed (a space allowed before it) by `Z`, `+02`, `+0200`, `+02:00` or
/// `+02:00:00`. Text without an offset is a wall-clock time in the zone the caller gives.
enum DateTimeText {
    /// The instant `text` names, or `nil` when it is not a valid date or date-time.
    static func instant(_ text: String, wallClockZone zone: TimeZone) -> Date? {
        var scanner = DateTimeScanner(text.trimmingCharacters(in: .whitespaces))
        guard let fields = scanner.dateTimeFields(), scanner.isAtEnd else { return nil }
        let wallSeconds = Double(fields.wallSeconds) + fields.fraction
        if let offset = fields.offsetSeconds {
            return Date(timeIntervalSince1970: wallSeconds - Double(offset))
        }
        return Date(timeIntervalSince1970: wallSeconds - Double(offset(of: zone, atWallSeconds: wallSeconds)))
    }

    /// PostgreSQL's text for the `timestamptz` `seconds` after the epoch in a UTC session,
    /// e.g. `2025-03-29 23:00:00+00`; `nil` outside the years 1...9999.
    static func postgresUTC(secondsSinceEpoch seconds: Int) -> String? {
        let (days, secondOfDay) = floorDivision(seconds, 86_400)
        let date = CivilDate(daysSinceEpoch: days)
        guard (1...9999).contains(date.year) else { return nil }
        let time = [secondOfDay / 3_600, secondOfDay / 60 % 60, secondOfDay % 60].map { pad($0, 2) }
        return "\(pad(date.year, 4))-\(pad(date.month, 2))-\(pad(date.day, 2)) \(time.joined(separator: ":"))+00"
    }

    /// The UTC offset in force at a wall-clock time in `zone`. As in PostgreSQL, a time in the
    /// gap of a jump forward takes the offset from before the jump, and a time that occurs twice
    /// around a jump back takes the offset from after it.
    private static func offset(of zone: TimeZone, atWallSeconds wall: Double) -> Int {
        let before = zone.secondsFromGMT(for: Date(timeIntervalSince1970: wall - 43_200))
        let after = zone.secondsFromGMT(for: Date(timeIntervalSince1970: wall + 43_200))
        let afterHolds = zone.secondsFromGMT(for: Date(timeIntervalSince1970: wall - Double(after))) == after
        return afterHolds ? after : before
    }

    private static func pad(_ number: Int, _ width: Int) -> String {
        let digits = String(number)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

/// `numerator / denominator` rounded towards negative infinity, and the non-negative remainder.
func floorDivision(_ numerator: Int, _ denominator: Int) -> (quotient: Int, remainder: Int) {
    let remainder = numerator % denominator
    return remainder < 0
        ? (numerator / denominator - 1, remainder + denominator)
        : (numerator / denominator, remainder)
}

/// A date in the proleptic Gregorian calendar.
struct CivilDate: Equatable {
    var year: Int
    var month: Int
    var day: Int

    init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// The date `days` days after 1970-01-01.
    init(daysSinceEpoch days: Int) {
        let shifted = days + 719_468
        let (era, dayOfEra) = floorDivision(shifted, 146_097)
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let marchMonth = (5 * dayOfYear + 2) / 153
        day = dayOfYear - (153 * marchMonth + 2) / 5 + 1
        month = marchMonth < 10 ? marchMonth + 3 : marchMonth - 9
        year = era * 400 + yearOfEra + (month <= 2 ? 1 : 0)
    }

    /// Days from 1970-01-01 to this date, negative before it.
    var daysSinceEpoch: Int {
        let marchYear = month <= 2 ? year - 1 : year
        let (era, yearOfEra) = floorDivision(marchYear, 400)
        let dayOfYear = (153 * ((month + 9) % 12) + 2) / 5 + day - 1
        return era * 146_097 + yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear - 719_468
    }

    /// Whether the day exists in the month.
    var isValid: Bool {
        (1...12).contains(month) && day >= 1 && day <= Self.daysIn(month: month, year: year)
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

/// The parts of a date-time text.
struct DateTimeFields {
    var date: CivilDate
    var hour = 0
    var minute = 0
    var second = 0
    var fraction = 0.0
    /// Seconds east of UTC, or `nil` when the text names a wall-clock time.
    var offsetSeconds: Int?

    /// Seconds since 1970-01-01 00:00:00 on the same wall clock, ignoring the fraction.
    var wallSeconds: Int {
        date.daysSinceEpoch * 86_400 + hour * 3_600 + minute * 60 + second
    }
}

/// A cursor over date-time text that reads its pieces.
struct DateTimeScanner {
    private let bytes: [UInt8]
    private var index = 0

    init(_ text: String) {
        bytes = Array(text.utf8)
    }

    var isAtEnd: Bool { index == bytes.count }

    /// Reads `YYYY-MM-DD` with an optional time and offset; `nil` when malformed or out of range.
    mutating func dateTimeFields() -> DateTimeFields? {
        guard let year = number(digits: 4...6), skip("-"), let month = number(digits: 2...2),
              skip("-"), let day = number(digits: 2...2) else { return nil }
        var fields = DateTimeFields(date: CivilDate(year: year, month: month, day: day))
        guard year >= 1, fields.date.isValid else { return nil }
        if skip("T") || skip("t") || skip(" ") {
            guard readTime(into: &fields) else { return nil }
            fields.offsetSeconds = offset()
        }
        return fields
    }

    private mutating func readTime(into fields: inout DateTimeFields) -> Bool {
        guard let hour = number(digits: 2...2), hour < 24, skip(":"),
              let minute = number(digits: 2...2), minute < 60 else { return false }
        fields.hour = hour
        fields.minute = minute
        guard skip(":") else { return true }
        guard let second = number(digits: 2...2), second < 60 else { return false }
        fields.second = second
        guard skip(".") else { return true }
        let start = index
        guard number(digits: 1...9) != nil else { return false }
        fields.fraction = Double("0." + String(decoding: bytes[start..<index], as: UTF8.self)) ?? 0
        return true
    }

    /// Reads an optional UTC offset; leaves the cursor where it was when there is none.
    private mutating func offset() -> Int? {
        let start = index
        _ = skip(" ")
        if skip("Z") || skip("z") { return 0 }
        let sign = skip("+") ? 1 : (skip("-") ? -1 : 0)
        guard sign != 0, let hours = number(digits: 2...2), hours <= 15 else {
            index = start
            return nil
        }
        var seconds = hours * 3_600
        for unit in [60, 1] {
            let colon = skip(":")
            guard let value = number(digits: 2...2), value < 60 else {
                if colon { index -= 1 }
                break
            }
            seconds += value * unit
        }
        return sign * seconds
    }

    private mutating func skip(_ character: Unicode.Scalar) -> Bool {
        guard index < bytes.count, bytes[index] == UInt8(ascii: character) else { return false }
        index += 1
        return true
    }

    private mutating func number(digits allowed: ClosedRange<Int>) -> Int? {
        let start = index
        var value = 0
        var count = 0
        while index < bytes.count, count < allowed.upperBound,
              bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
            value = value * 10 + Int(bytes[index] - UInt8(ascii: "0"))
            count += 1
            index += 1
        }
        guard allowed.contains(count) else {
            index = start
            return nil
        }
        return value
    }
}
