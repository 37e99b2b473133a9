import Foundation

/// Exact decimal arithmetic on numeric text, as PostgreSQL writes `numeric` and `float8`.
///
/// Values hold up to 38 significant digits (Foundation `Decimal`); digits beyond that are
/// rounded by `Decimal` itself.
enum DecimalText {
    private static let posix = Locale(identifier: "en_US_POSIX")

    /// Why a text cannot be used as a number.
    enum Problem: Error {
        /// The text is not an optional sign, digits with an optional `.` fraction, and an
        /// optional exponent (spaces around it allowed).
        case notANumber
        /// The number has more than 38 significant digits or an exponent `Decimal` cannot
        /// hold; reading it would silently change it.
        case notExact
    }

    /// The number `text` spells, exactly.
    static func parse(_ text: String) throws(Problem) -> Decimal {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard isNumeric(trimmed.utf8) else { throw .notANumber }
        guard significantDigits(trimmed) <= 38, let value = Decimal(string: trimmed, locale: posix),
              !value.isNaN else { throw .notExact }
        return value
    }

    /// `value` rounded to `decimals` places after the point, halves away from zero.
    static func rounded(_ value: Decimal, decimals: Int) -> Decimal {
        var input = value
        var result = Decimal()
        NSDecimalRound(&result, &input, decimals, .plain)
        return result
    }

    /// The shortest plain text for `value`: no exponent, no trailing zeros, `.` as the point.
    static func plain(_ value: Decimal) -> String {
        value.description
    }

    /// `value` rounded to `decimals` places and written with exactly that many digits after `separator`.
    static func fixed(_ value: Decimal, decimals: Int, separator: String) -> String {
        let text = plain(rounded(value, decimals: decimals))
        let parts = text.split(separator: ".", maxSplits: 1)
        let integer = String(parts[0])
        guard decimals > 0 else { return integer }
        let fraction = parts.count > 1 ? String(parts[1]) : ""
        return integer + separator + fraction + String(repeating: "0", count: decimals - fraction.count)
    }

    /// Whether two texts spell the same number; `false` when either is not an exact number.
    static func sameNumber(_ left: String, _ right: String) -> Bool {
        guard let a = try? parse(left), let b = try? parse(right) else { return false }
        return a == b
    }

    /// Digits from the first non-zero one to the last non-zero one of the mantissa of a numeric text.
    private static func significantDigits(_ numeric: String) -> Int {
        let mantissa = numeric.prefix { $0 != "e" && $0 != "E" }.filter(\.isNumber)
        let significant = mantissa.drop { $0 == "0" }
        return significant.count - significant.reversed().prefix { $0 == "0" }.count
    }

    private static func isNumeric(_ bytes: String.UTF8View) -> Bool {
        var scanner = bytes.makeIterator()
        var byte = scanner.next()
        if byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") { byte = scanner.next() }
        var digits = 0
        while let b = byte, isDigit(b) { digits += 1; byte = scanner.next() }
        if byte == UInt8(ascii: ".") {
            byte = scanner.next()
            while let b = byte, isDigit(b) { digits += 1; byte = scanner.next() }
        }
        guard digits > 0 else { return false }
        if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
            byte = scanner.next()
            if byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") { byte = scanner.next() }
            var exponentDigits = 0
            while let b = byte, isDigit(b) { exponentDigits += 1; byte = scanner.next() }
            guard exponentDigits > 0 else { return false }
        }
        return byte == nil
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }
}
