import Foundation

/// Converts between `Date` and PostgreSQL's ISO text form of `timestamptz` / `timestamp`.
///
/// Parsing accepts any UTC offset the server prints (`+02`, `-03:30`, `+05:45:00`), so results do
/// not depend on the session's `TimeZone`; a `timestamp` without zone is read as UTC. Formatting
/// writes UTC with microseconds, the server's own precision.
enum PostgresTimestamp {
    /// The instants `timestamptz` holds, as seconds since the Unix epoch: from 4714-11-24 BC up to,
    /// not including, 294277-01-01 UTC.
    static let representableSeconds = -210_866_803_200.0..<9_224_318_016_000.0

    /// Formats `date` as `YYYY-MM-DDTHH:MM:SS.ffffffZ`, rounded to the microsecond. `distantFuture`
    /// and `distantPast` are `infinity` and `-infinity`, and so are instants beyond the range the
    /// server holds: later (or earlier) than any timestamp it can store. An instant that is not a
    /// number is `NaN`, which the server refuses.
    static func format(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970
        if seconds.isNaN { return "NaN" }
        if date == .distantFuture || seconds >= representableSeconds.upperBound { return "infinity" }
        if date == .distantPast || seconds < representableSeconds.lowerBound { return "-infinity" }
        let whole = seconds.rounded(.down)
        let micros = Int64(((seconds - whole) * 1_000_000).rounded())  // 1_000_000 carries into the next second
        let (days, secondOfDay) = (Int64(whole) + micros / 1_000_000).floorDivided(by: 86_400)
        let (year, month, day) = civilDate(fromDaysSinceEpoch: days)
        var text = padded(year, 4) + "-" + padded(month, 2) + "-" + padded(day, 2)
        text += "T" + padded(secondOfDay / 3600, 2) + ":" + padded(secondOfDay / 60 % 60, 2) + ":" + padded(secondOfDay % 60, 2)
        return text + "." + padded(micros % 1_000_000, 6) + "Z"
    }

    /// `value` in decimal with leading zeros to `width` digits (a negative year keeps its sign first).
    static func padded(_ value: Int64, _ width: Int) -> String {
        let digits = String(value.magnitude)
        let zeros = String(repeating: "0", count: max(0, width - digits.count))
        return (value < 0 ? "-" : "") + zeros + digits
    }

    /// Parses the server's text form; nil when `text` is not a timestamp this client understands.
    static func parse(_ text: String) -> Date? {
        if text == "infinity" { return .distantFuture }
        if text == "-infinity" { return .distantPast }
        var scanner = DigitScanner(Array(text.utf8))
        guard let year = scanner.number(minDigits: 4), scanner.skip("-"),
            let month = scanner.number(exactDigits: 2), scanner.skip("-"),
            let day = scanner.number(exactDigits: 2), scanner.skip(" ") || scanner.skip("T"),
            let hour = scanner.number(exactDigits: 2), scanner.skip(":"),
            let minute = scanner.number(exactDigits: 2), scanner.skip(":"),
            let second = scanner.number(exactDigits: 2),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var micros: Int64 = 0
        if scanner.skip(".") {
            guard let (digits, count) = scanner.digits(), count <= 6 else { return nil }
            micros = digits * Int64(pow(10, Double(6 - count)))
        }
        guard let offset = scanner.utcOffset(), scanner.isAtEnd else { return nil }
        let days = daysSinceEpoch(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset
        return Date(timeIntervalSince1970: Double(seconds) + Double(micros) / 1_000_000)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
    static func daysSinceEpoch(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The proleptic Gregorian date of a day count since 1970-01-01 (the inverse of `daysSinceEpoch`).
    static func civilDate(fromDaysSinceEpoch days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

/// Reads the fixed-format numbers of a timestamp from its UTF-8 bytes.
private struct DigitScanner {
    private let bytes: [UInt8]
    private var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { index == bytes.count }

    mutating func skip(_ character: Character) -> Bool {
        guard index < bytes.count, bytes[index] == character.asciiValue else { return false }
        index += 1
        return true
    }

    /// Consumes a run of digits: its value and length.
    mutating func digits() -> (Int64, Int)? {
        let start = index
        var value: Int64 = 0
        while index < bytes.count, (48...57).contains(bytes[index]), index - start < 18 {
            value = value * 10 + Int64(bytes[index] - 48)
            index += 1
        }
        return index > start ? (value, index - start) : nil
    }

    mutating func number(exactDigits count: Int) -> Int64? {
        guard let (value, length) = digits(), length == count else { return nil }
        return value
    }

    mutating func number(minDigits count: Int) -> Int64? {
        guard let (value, length) = digits(), length >= count else { return nil }
        return value
    }

    /// `Z`, `±HH`, `±HH:MM` or `±HH:MM:SS` as seconds east of UTC; zero when absent.
    mutating func utcOffset() -> Int64? {
        if isAtEnd { return 0 }
        if skip("Z") { return 0 }
        let sign: Int64
        if skip("+") { sign = 1 } else if skip("-") { sign = -1 } else { return nil }
        guard let hours = number(exactDigits: 2) else { return nil }
        var seconds = hours * 3600
        if skip(":") {
            guard let minutes = number(exactDigits: 2) else { return nil }
            seconds += minutes * 60
            if skip(":") {
                guard let secs = number(exactDigits: 2) else { return nil }
                seconds += secs
            }
        }
        return sign * seconds
    }
}

extension Int64 {
    /// Quotient and remainder rounded towards negative infinity, so times before 1970 format correctly.
    fileprivate func floorDivided(by divisor: Int64) -> (Int64, Int64) {
        let quotient = (self >= 0 ? self : self - divisor + 1) / divisor
        return (quotient, self - quotient * divisor)
    }
}
