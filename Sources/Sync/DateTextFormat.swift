import Foundation

/// An ICU date pattern (`dd.MM.yyyy`, `yyyy-MM-dd'T'HH:mm:ssXXX`) with the time zone to write
/// dates in, checked when the rule is parsed and formatted with the POSIX locale.
///
/// The POSIX locale makes month and day names English and digits ASCII, whatever the
/// machine's locale; the calendar is the proleptic Gregorian one, as in PostgreSQL (no switch
/// to the Julian calendar before 1582). Equal when pattern and time zone are equal.
public struct DateTextFormat: Sendable, Equatable, CustomStringConvertible {
    /// The pattern as written.
    public let pattern: String
    /// The zone dates are written in, and the zone of input text that carries no UTC offset.
    public let timeZone: TimeZone
    private let formatter: DateFormatter

    /// Checks `pattern`; with `allowsTimeOfDay` false, letters for hours, minutes, seconds and
    /// AM/PM are refused. Throws `invalidPattern` naming the first offending character.
    public init(pattern: String, timeZone: TimeZone, allowsTimeOfDay: Bool) throws(TransformationError) {
        try Self.check(pattern, allowsTimeOfDay: allowsTimeOfDay)
        self.pattern = pattern
        self.timeZone = timeZone
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.calendar = calendar
        formatter.timeZone = timeZone
        formatter.gregorianStartDate = .distantPast
        formatter.dateFormat = pattern
    }

    /// The pattern as written.
    public var description: String { pattern }

    /// Whether both have the same pattern and time zone.
    public static func == (left: DateTextFormat, right: DateTextFormat) -> Bool {
        left.pattern == right.pattern && left.timeZone == right.timeZone
    }

    /// `date` written with the pattern in the time zone.
    func string(from date: Date) -> String {
        formatter.string(from: date)
    }

    /// Letters ICU gives a meaning in date patterns.
    private static let patternLetters = Set("GyYuUrQqMLlwWdDFgEecabBhHkKjJCmsSAzZOvVXx")
    /// Pattern letters that stand for a time of day.
    private static let timeOfDayLetters = Set("abBhHkKjJCmsSA")

    private static func check(_ pattern: String, allowsTimeOfDay: Bool) throws(TransformationError) {
        guard !pattern.isEmpty else { throw invalid("the date pattern is empty; write one such as \"dd.MM.yyyy\"") }
        var inQuote = false
        for character in pattern {
            if character == "'" { inQuote.toggle(); continue }
            guard !inQuote, character.isASCII, character.isLetter else { continue }
            guard patternLetters.contains(character) else {
                throw invalid("the date pattern \(quoted(pattern)) uses '\(character)', which is no ICU pattern letter; put literal text in single quotes")
            }
            guard allowsTimeOfDay || !timeOfDayLetters.contains(character) else {
                throw invalid("the date pattern \(quoted(pattern)) uses '\(character)', a time of day; use format_datetime for times")
            }
        }
        guard !inQuote else { throw invalid("the date pattern \(quoted(pattern)) has a ' without its closing '") }
    }

    private static func invalid(_ message: String) -> TransformationError {
        TransformationError(code: .invalidPattern, message: message)
    }
}
