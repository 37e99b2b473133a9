import Foundation

/// Turns the text of a cron expression into a schedule, or into a `CronParseError`
/// that names the problem and the character where it starts.
///
/// Grammar: `[CRON_TZ=Zone] (@macro | @every DURATION | [second] minute hour day-of-month month day-of-week)`,
/// separated by whitespace; see `FieldParser` for the field syntax.
struct CronParser {
    private let input: String
    private let text: [Character]

    private static let zonePrefix = Array("CRON_TZ=")

    private static let macros = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
        "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]

    /// Duration units of `@every`, in the order they must appear, with their lengths in seconds.
    private static let durationUnits: [(unit: Character, seconds: Int)] = [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)]

    init(_ input: String) {
        self.input = input
        text = Array(input)
    }

    func parse() throws(CronParseError) -> (zone: TimeZone?, schedule: CronSchedule) {
        var index = skipWhitespace(from: 0)
        let zone = try parseZonePrefix(at: &index)
        index = skipWhitespace(from: index)
        guard index < text.count else {
            throw error("expression is empty", at: index)
        }
        if text[index] == "@" {
            return (zone, try parseMacro(at: index))
        }
        return (zone, .calendar(try parseFields(from: index)))
    }

    // MARK: - Prefix and macros

    private func parseZonePrefix(at index: inout Int) throws(CronParseError) -> TimeZone? {
        guard text[index...].starts(with: Self.zonePrefix) else { return nil }
        let nameStart = index + Self.zonePrefix.count
        index = endOfWord(from: nameStart)
        guard nameStart < index else {
            throw error("missing time zone name after CRON_TZ=", at: nameStart)
        }
        let name = String(text[nameStart..<index])
        guard let zone = TimeZone(identifier: name) else {
            throw error("unknown time zone \"\(name)\"", at: nameStart)
        }
        return zone
    }

    private func parseMacro(at start: Int) throws(CronParseError) -> CronSchedule {
        let end = endOfWord(from: start)
        let name = String(text[start..<end]).lowercased()
        if name == "@every" {
            return .every(seconds: try parseEveryDuration(after: end))
        }
        guard let fields = Self.macros[name] else {
            throw error("unknown macro \"\(String(text[start..<end]))\"", at: start)
        }
        try expectEnd(from: end, after: name)
        return .calendar(try CronParser(fields).parseFields(from: 0))
    }

    private func parseEveryDuration(after keywordEnd: Int) throws(CronParseError) -> Int {
        let start = skipWhitespace(from: keywordEnd)
        guard start < text.count else {
            throw error("@every needs a duration such as 90s, 5m or 1h30m", at: start)
        }
        let end = endOfWord(from: start)
        try expectEnd(from: end, after: "the @every duration")
        return try parseDuration(start..<end)
    }

    /// `<number><unit>` pairs with units d, h, m, s in that order, each at most once.
    private func parseDuration(_ range: Range<Int>) throws(CronParseError) -> Int {
        let token = String(text[range])
        var total = 0
        var index = range.lowerBound
        var remainingUnits = Self.durationUnits[...]
        while index < range.upperBound {
            let part = try durationPart(at: index, before: range.upperBound, token: token)
            guard let unit = remainingUnits.firstIndex(where: { $0.unit == part.unit }) else {
                throw error("@every duration \"\(token)\" is invalid: units must come in the order d, h, m, s, each at most once", at: index)
            }
            total += part.number * remainingUnits[unit].seconds
            remainingUnits = remainingUnits[(unit + 1)...]
            index = part.end
        }
        guard total > 0 else {
            throw error("@every duration \"\(token)\" must be longer than zero", at: range.lowerBound)
        }
        return total
    }

    /// One `<number><unit>` of the duration `token`, starting at `start`.
    private func durationPart(at start: Int, before end: Int, token: String) throws(CronParseError) -> (number: Int, unit: Character, end: Int) {
        let unitIndex = text[start..<end].firstIndex { !($0.isASCII && $0.isNumber) } ?? end
        guard unitIndex > start, unitIndex < end, Self.durationUnits.contains(where: { $0.unit == text[unitIndex] }) else {
            throw error("@every duration \"\(token)\" is invalid: expected whole numbers with units d, h, m or s, such as 90s or 1h30m", at: unitIndex)
        }
        guard unitIndex - start <= 9, let number = Int(String(text[start..<unitIndex])) else {
            throw error("@every duration \"\(token)\" is too long", at: start)
        }
        return (number, text[unitIndex], unitIndex + 1)
    }

    // MARK: - Fields

    private func parseFields(from start: Int) throws(CronParseError) -> CronFields {
        var ranges: [Range<Int>] = []
        var index = start
        while index < text.count {
            let end = endOfWord(from: index)
            ranges.append(index..<end)
            index = skipWhitespace(from: end)
        }
        guard ranges.count == 5 || ranges.count == 6 else {
            let position = ranges.count > 6 ? ranges[6].lowerBound : index
            throw error("expected 5 or 6 fields, found \(ranges.count)", at: position)
        }
        let seconds = ranges.count == 6 ? try parseField(.second, ranges[0]).values : CronBitSet(from: 0, through: 0)
        let fields = Array(ranges.suffix(5))
        let minutes = try parseField(.minute, fields[0]).values
        let hours = try parseField(.hour, fields[1]).values
        let dayOfMonth = try parseField(.dayOfMonth, fields[2]).dayOfMonthRule
        let months = try parseField(.month, fields[3]).values
        let dayOfWeek = try parseField(.dayOfWeek, fields[4]).dayOfWeekRule
        let days = DayRule(dayOfMonth: isUnrestricted(fields[2]) ? nil : dayOfMonth,
                           dayOfWeek: isUnrestricted(fields[4]) ? nil : dayOfWeek)
        return CronFields(seconds: seconds, minutes: minutes, hours: hours, days: days, months: months)
    }

    private func parseField(_ kind: CronFieldKind, _ range: Range<Int>) throws(CronParseError) -> FieldSpec {
        var parser = FieldParser(kind: kind, input: input, text: text, index: range.lowerBound, end: range.upperBound)
        try parser.parseList()
        return parser.spec
    }

    /// A day field written exactly as `*` or `?` places no restriction (the Vixie rule).
    private func isUnrestricted(_ range: Range<Int>) -> Bool {
        text[range] == ["*"] || text[range] == ["?"]
    }

    // MARK: - Helpers

    private func expectEnd(from index: Int, after what: String) throws(CronParseError) {
        let rest = skipWhitespace(from: index)
        guard rest == text.count else {
            throw error("unexpected text after \(what)", at: rest)
        }
    }

    private func skipWhitespace(from index: Int) -> Int {
        text[index...].firstIndex { !$0.isWhitespace } ?? text.count
    }

    private func endOfWord(from index: Int) -> Int {
        text[index...].firstIndex { $0.isWhitespace } ?? text.count
    }

    private func error(_ message: String, at index: Int) -> CronParseError {
        CronParseError(message: message, position: index + 1, input: input)
    }
}
