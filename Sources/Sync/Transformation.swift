import Foundation

/// One transformation rule applied to a field value on its way from source to target.
///
/// Applying a rule never crashes: a value the rule cannot handle throws a
/// `TransformationError` naming the rule and the value. SQL NULL (`nil`) passes through
/// every rule unchanged, except `constant`, which always yields its value.
/// `description` is the rule's text form, which `TransformationChain(parsing:)` reads back.
public enum Transformation: Sendable, Equatable, CustomStringConvertible {
    /// Upper case in every script (`ß` becomes `SS`), independent of the locale.
    case uppercase
    /// Lower case in every script, independent of the locale.
    case lowercase
    /// A capital at the start of each word, lower case elsewhere. A word starts at a letter
    /// that follows anything but a letter, a digit or an apostrophe: `o'brien-smith` → `O'brien-Smith`.
    case titleCase
    /// Whitespace and line breaks removed from both ends.
    case trim
    /// SQL `substring(value from start for length)`: characters are Unicode code points counted
    /// from 1, as in PostgreSQL; positions before 1 count but yield nothing; `nil` length means
    /// to the end. A negative length throws.
    case substring(start: Int, length: Int?)
    /// Every occurrence of `old` (literal text, case-sensitive) replaced by `new`; an empty
    /// `old` (which the parser refuses) changes nothing.
    case replace(old: String, new: String)
    /// Every match of `pattern` replaced by `template`, in which `$1` is group 1.
    case regexReplace(pattern: RegexPattern, template: String)
    /// The first match of `pattern` (its group 1 if it has groups); NULL when nothing matches.
    case regexMatch(pattern: RegexPattern)
    /// Only letters, marks and digits kept (Unicode categories L, M, N).
    case removeNonAlphanumeric
    /// The number rounded to `decimals` places, halves away from zero (`2.345` → `2.35`,
    /// `-2.5` → `-3`), written without trailing zeros. Exact decimal arithmetic; negative
    /// `decimals` round to tens, hundreds, ...
    case round(decimals: Int)
    /// The number rounded like `round` and written with exactly `decimals` digits after
    /// `separator`, no grouping: `1234.5` → `1234.50`.
    case formatDecimal(decimals: Int, separator: String)
    /// A date or date-time text written with a date-only pattern. A date-time is first moved
    /// into the format's time zone; text without an offset is read as wall-clock time there.
    case formatDate(DateTextFormat)
    /// A date or date-time text written with a pattern that may include the time of day, in the
    /// format's time zone; a plain date is midnight there.
    case formatDateTime(DateTextFormat)
    /// A date or date-time text → whole seconds since 1970-01-01 00:00:00 UTC, rounded down;
    /// text without an offset is read as wall-clock time in `wallClockZone`.
    case unixTimestamp(wallClockZone: TimeZone)
    /// Whole seconds since the epoch → PostgreSQL's `timestamptz` text in a UTC session,
    /// `2025-03-29 23:00:00+00`, so that a round trip compares equal (years 1...9999).
    case fromUnixTimestamp
    /// Always `value`, whatever the input, NULL included.
    case constant(String)
    /// The id coupled to the input through mapping `mapping`'s couplings, resolved by the
    /// engine through a `LookupResolver`; when there is none, throws `uncoupledReference`, or
    /// with `keepsTarget` `uncoupledReferenceKept` (the field keeps the target's value, as
    /// Business Central keeps a customer's salesperson when the CRM owner is not coupled).
    case lookup(mapping: String, keepsTarget: Bool = false)
    /// The input's counterpart in value map `name`: local → integration in a `to_integration`
    /// chain, the inverse in `from_integration`. `MappingStore.load` binds the map's `translation`
    /// for the chain's direction; unbound, the rule throws `valueMapUnavailable`.
    case valueMap(name: String, translation: ValueTranslation? = nil)

    /// The rule applied to `value`. `lookup` uses `resolver`; without one it throws `lookupUnavailable`.
    public func apply(to value: String?, lookup resolver: LookupResolver? = nil) throws(TransformationError) -> String? {
        if case .constant(let constant) = self { return constant }
        guard let value else { return nil }
        return try apply(toText: value, resolver: resolver)
    }

    private func apply(toText value: String, resolver: LookupResolver?) throws(TransformationError) -> String? {
        switch self {
        case .uppercase: value.uppercased()
        case .lowercase: value.lowercased()
        case .titleCase: Self.titleCased(value)
        case .trim: value.trimmingCharacters(in: .whitespacesAndNewlines)
        case .substring(let start, let length): try substring(of: value, start: start, length: length)
        case .replace(let old, let new): old.isEmpty ? value : value.replacingOccurrences(of: old, with: new)
        case .regexReplace(let pattern, let template): try withinStepLimit(value, try pattern.replacingMatches(in: value, with: template))
        case .regexMatch(let pattern): try withinStepLimit(value, try pattern.firstMatch(in: value))
        case .removeNonAlphanumeric: Self.alphanumerics(of: value)
        case .round(let decimals): DecimalText.plain(DecimalText.rounded(try number(value), decimals: decimals))
        case .formatDecimal(let decimals, let separator): try formatDecimal(value, decimals, separator)
        case .formatDate(let format), .formatDateTime(let format):
            format.string(from: try instant(value, wallClockZone: format.timeZone))
        case .unixTimestamp(let zone): try unixTimestamp(of: value, wallClockZone: zone)
        case .fromUnixTimestamp: try dateTime(fromUnixTimestamp: value)
        case .lookup(let mapping, let keepsTarget): try lookUp(value, in: mapping, keepsTarget: keepsTarget, resolver: resolver)
        case .valueMap(let name, let translation): try translate(value, through: name, translation)
        case .constant(let constant): constant
        }
    }

    private func substring(of value: String, start: Int, length: Int?) throws(TransformationError) -> String {
        guard (length ?? 0) >= 0 else {
            throw .cannotApply(self, to: value, because: "the length must not be negative")
        }
        let scalars = Array(value.unicodeScalars)
        let first = max(start, 1)  // 1-based, taken
        let pastLast = length.map { start.addingReportingOverflow($0) }.map { $0.overflow ? Int.max : $0.partialValue } ?? Int.max  // not taken
        guard pastLast > first else { return "" }
        let from = first - 1
        let to = min(pastLast - 1, scalars.count)
        guard from < to else { return "" }
        var result = String.UnicodeScalarView()
        result.append(contentsOf: scalars[from..<to])
        return String(result)
    }

    /// What a regular expression found in `value`; a value it takes too long on fails, naming the rule.
    private func withinStepLimit<Result>(
        _ value: String, _ matching: @autoclosure () throws(RegexPattern.StepLimitExceeded) -> Result
    ) throws(TransformationError) -> Result {
        do {
            return try matching()
        } catch {
            throw .cannotApply(self, to: value, because: "the regular expression needs more than \(RegexPattern.stepLimit) steps on it; simplify the pattern (a repetition inside a repetition, such as (x+)+, backtracks without end)")
        }
    }

    private func number(_ value: String) throws(TransformationError) -> Decimal {
        do {
            return try DecimalText.parse(value)
        } catch .notANumber {
            throw .cannotApply(self, to: value, because: "it is not a number")
        } catch {
            throw .cannotApply(self, to: value, because: "it has more than 38 significant digits or too large an exponent to be calculated exactly")
        }
    }

    private func formatDecimal(_ value: String, _ decimals: Int, _ separator: String) throws(TransformationError) -> String {
        guard decimals >= 0 else {
            throw .cannotApply(self, to: value, because: "the number of decimals must not be negative")
        }
        return DecimalText.fixed(try number(value), decimals: decimals, separator: separator)
    }

    private func instant(_ value: String, wallClockZone zone: TimeZone) throws(TransformationError) -> Date {
        guard let date = DateTimeText.instant(value, wallClockZone: zone) else {
            throw .cannotApply(self, to: value, because: "it is not a date such as 2025-03-30 or 2025-03-30 01:00:00+02")
        }
        return date
    }

    private func unixTimestamp(of value: String, wallClockZone zone: TimeZone) throws(TransformationError) -> String {
        String(Int(try instant(value, wallClockZone: zone).timeIntervalSince1970.rounded(.down)))
    }

    private func dateTime(fromUnixTimestamp value: String) throws(TransformationError) -> String {
        guard let seconds = Int(value.trimmingCharacters(in: .whitespaces)) else {
            throw .cannotApply(self, to: value, because: "it is not a whole number of seconds")
        }
        guard let text = DateTimeText.postgresUTC(secondsSinceEpoch: seconds) else {
            throw .cannotApply(self, to: value, because: "it lies outside the years 1 to 9999")
        }
        return text
    }

    private func lookUp(_ value: String, in mapping: String, keepsTarget: Bool, resolver: LookupResolver?) throws(TransformationError) -> String {
        guard let resolver else {
            throw TransformationError(code: .lookupUnavailable,
                                      message: "\(self) needs the couplings of mapping \(mapping); only the sync engine can apply it",
                                      referencedMapping: mapping, value: value)
        }
        guard let coupled = resolver(mapping, value) else {
            throw TransformationError(code: keepsTarget ? .uncoupledReferenceKept : .uncoupledReference,
                                      message: "\(quoted(value)) is not coupled in mapping \(mapping)",
                                      referencedMapping: mapping, value: value)
        }
        return coupled
    }

    private func translate(_ value: String, through map: String, _ translation: ValueTranslation?) throws(TransformationError) -> String? {
        guard let translation else {
            throw TransformationError(code: .valueMapUnavailable,
                                      message: "\(self) needs value map \(map); only a mapping loaded from the store can apply it",
                                      value: value)
        }
        return try translation.translate(value)
    }

    private static func titleCased(_ value: String) -> String {
        var result = ""
        var atWordStart = true
        for character in value {
            if character.isLetter {
                result += atWordStart ? character.uppercased() : character.lowercased()
                atWordStart = false
            } else {
                result.append(character)
                atWordStart = !(character.isNumber || character == "'" || character == "\u{2019}")
            }
        }
        return result
    }

    private static func alphanumerics(of value: String) -> String {
        var kept = String.UnicodeScalarView()
        kept.append(contentsOf: value.unicodeScalars.filter(CharacterSet.alphanumerics.contains))
        return String(kept)
    }
}
