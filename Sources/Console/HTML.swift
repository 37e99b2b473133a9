/// A piece of HTML. Text interpolated into it is escaped; only other `HTML` values go in as they are,
/// so a page cannot put a name, a message or a value into its markup unescaped by accident.
public struct HTML: Sendable, Equatable, ExpressibleByStringInterpolation, CustomStringConvertible {
    /// The markup.
    public private(set) var markup: String

    /// Markup written in the source (a literal, never input).
    public init(stringLiteral markup: String) { self.markup = markup }

    /// Markup built from literals, escaped text and other markup.
    public init(stringInterpolation: Interpolation) { markup = stringInterpolation.markup }

    /// Markup that is nothing.
    public static let empty: HTML = ""

    /// The markup.
    public var description: String { markup }

    /// Pieces of markup one after the other.
    public static func joined(_ pieces: [HTML], separator: HTML = .empty) -> HTML {
        var result = HTML.empty
        for (index, piece) in pieces.enumerated() {
            if index > 0 { result.markup += separator.markup }
            result.markup += piece.markup
        }
        return result
    }

    /// Builds markup: literals as written, `String`s and numbers escaped, `HTML` as it is.
    public struct Interpolation: StringInterpolationProtocol {
        var markup = ""

        /// Room for the literals and about as much interpolated text.
        public init(literalCapacity: Int, interpolationCount: Int) { markup.reserveCapacity(literalCapacity * 2) }

        /// Markup written in the source.
        public mutating func appendLiteral(_ literal: String) { markup += literal }

        /// Text, escaped.
        public mutating func appendInterpolation(_ text: String) { markup += escapeHTML(text) }

        /// Text, escaped; nothing for nil.
        public mutating func appendInterpolation(_ text: String?) { markup += escapeHTML(text ?? "") }

        /// A number or other value, by its description, escaped.
        public mutating func appendInterpolation<Value: CustomStringConvertible>(_ value: Value) { markup += escapeHTML(value.description) }

        /// Markup, as it is.
        public mutating func appendInterpolation(_ html: HTML) { markup += html.markup }

        /// Several pieces of markup, one after the other.
        public mutating func appendInterpolation(_ pieces: [HTML]) { markup += HTML.joined(pieces).markup }
    }
}

/// `text` made safe inside HTML element content and inside quoted attribute values: `&`, `<`, `>`,
/// `"` and `'` become character references; everything else stays as it is.
public func escapeHTML(_ text: String) -> String {
    var escaped = ""
    escaped.reserveCapacity(text.utf8.count)
    for character in text.unicodeScalars {
        switch character {
        case "&": escaped += "&amp;"
        case "<": escaped += "&lt;"
        case ">": escaped += "&gt;"
        case "\"": escaped += "&quot;"
        case "'": escaped += "&#39;"
        default: escaped.unicodeScalars.append(character)
        }
    }
    return escaped
}
