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
        let token = String(text[start..<end])
        let duration: Duration
        do {
            duration = try Duration(parsing: token)
        } catch {
            throw self.error("@every duration \"\(token)\" \(Self.everyProblem(error.reason))", at: start + error.offset)
        }
        let (seconds, attoseconds) = duration.components
        guard attoseconds == 0 else {
            throw error("@every duration \"\(token)\" must be a whole number of seconds", at: start)
        }
        guard seconds > 0 else {
            throw error("@every duration \"\(token)\" must be longer than zero", at: start)
        }
        return Int(seconds)
    }

    /// How `@every` words a duration problem (it names the units it takes, whole seconds and up).
    private static func everyProblem(_ reason: DurationParseError.Reason) -> String {
        switch reason {
        case .malformed: "is invalid: expected whole numbers with units d, h, m or s, such as 90s or 1h30m"
        case .unitOrder: "is invalid: units must come in the order d, h, m, s, each at most once"
        case .numberTooLong: "is too long"
        case .beyondLimit: "is longer than \(Duration.longestParsedText), the longest Couplet takes"
        }
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
