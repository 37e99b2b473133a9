/// Why the text of a duration such as `1h30m` was rejected, and where.
public struct DurationParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of problem it is.
    public enum Reason: Sendable, Equatable {
        /// Not whole numbers each followed by a unit: `1.5h`, `-5m`, `10x`, `5`, or nothing at all.
        case malformed
        /// Units out of order or repeated: `30m1h`, `1h1h`.
        case unitOrder
        /// A number with more than nine digits.
        case numberTooLong
        /// Longer than `Duration.longestParsed` (100 years), which every use of a duration can add,
        /// multiply and sleep for without overflowing.
        case beyondLimit
    }

    /// What is wrong.
    public var reason: Reason
    /// The 0-based character offset into `text` where the problem starts.
    public var offset: Int
    /// The complete text that was parsed.
    public var text: String

    /// Creates an error for `text`, pointing at the 0-based character `offset`.
    public init(_ reason: Reason, offset: Int, text: String) {
        self.reason = reason
        self.offset = offset
        self.text = text
    }

    /// A one-line report, e.g. `duration "1.5h" is invalid: expected whole numbers with units …`.
    public var description: String {
        switch reason {
        case .malformed:
            "duration \"\(text)\" is invalid: expected whole numbers with units d, h, m, s or ms, such as 90s, 2h or 1h30m"
        case .unitOrder:
            "duration \"\(text)\" is invalid: units must come in the order d, h, m, s, ms, each at most once"
        case .numberTooLong:
            "duration \"\(text)\" is too long"
        case .beyondLimit:
            "duration \"\(text)\" is longer than \(Duration.longestParsedText), the longest Couplet takes"
        }
    }
}

extension Duration {
    /// The longest duration `init(parsing:)` accepts: 100 years of 366 days. Far past any sensible
    /// setting, and far within what clocks (nanoseconds in 64 bits: 292 years), PostgreSQL intervals
    /// and timestamps (until the year 294276) hold.
    public static let longestParsed = Duration.seconds(36_600 * 86_400)

    /// `longestParsed` as written in the duration syntax, for messages.
    public static let longestParsedText = "36600d (100 years)"

    /// Parses a length of time written as whole numbers with units, largest unit first and each
    /// unit at most once: `500ms`, `30s`, `90m`, `2h`, `1h30m`, `7d`. `0s` is zero.
    ///
    /// The one duration syntax of Couplet: command-line options, schedule files and `@every`
    /// all read durations through it.
    ///
    /// - Throws: `DurationParseError` naming the problem and the character where it starts; a
    ///   duration longer than `longestParsed` is refused.
    public init(parsing text: String) throws(DurationParseError) {
        let characters = Array(text)
        guard !characters.isEmpty else { throw DurationParseError(.malformed, offset: 0, text: text) }
        var total = Duration.zero
        var remainingUnits = DurationUnit.allCases[...]
        var index = 0
        while index < characters.count {
            let start = index
            while index < characters.count, characters[index].isASCII, characters[index].isNumber { index += 1 }
            guard index > start, let unit = DurationUnit(at: index, in: characters) else {
                throw DurationParseError(.malformed, offset: index, text: text)
            }
            guard index - start <= 9, let number = Int(String(characters[start..<index])) else {
                throw DurationParseError(.numberTooLong, offset: start, text: text)
            }
            guard let position = remainingUnits.firstIndex(of: unit) else {
                throw DurationParseError(.unitOrder, offset: start, text: text)
            }
            total += unit.length * number
            remainingUnits = remainingUnits[(position + 1)...]
            index += unit.symbol.count
        }
        guard total <= Self.longestParsed else { throw DurationParseError(.beyondLimit, offset: 0, text: text) }
        self = total
    }
}

/// The units of the duration syntax, largest first.
private enum DurationUnit: CaseIterable {
    case days, hours, minutes, seconds, milliseconds

    var symbol: String {
        switch self {
        case .days: "d"
        case .hours: "h"
        case .minutes: "m"
        case .seconds: "s"
        case .milliseconds: "ms"
        }
    }

    var length: Duration {
        switch self {
        case .days: .seconds(86_400)
        case .hours: .seconds(3_600)
        case .minutes: .seconds(60)
        case .seconds: .seconds(1)
        case .milliseconds: .milliseconds(1)
        }
    }

    /// The unit written at `index`; `ms` wins over `m`.
    init?(at index: Int, in characters: [Character]) {
        let rest = characters[index...]
        guard let unit = Self.longestSymbolFirst.first(where: { rest.starts(with: $0.symbol) }) else { return nil }
        self = unit
    }

    private static let longestSymbolFirst = allCases.sorted { $0.symbol.count > $1.symbol.count }
}
