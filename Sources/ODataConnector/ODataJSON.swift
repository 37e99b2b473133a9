/// A JSON value as an OData service sends it, kept exactly: numbers stay the text the service wrote (so a Dataverse
/// decimal `1234.5600` is never rounded through a `Double`) and objects keep their members in the order they came.
public enum ODataJSON: Sendable, Equatable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number, as its literal JSON text (`-0.1`, `1234.5600`, `6E+2`).
    case number(String)
    /// A string.
    case string(String)
    /// An array.
    case array([ODataJSON])
    /// An object, its members in document order (a repeated name is kept twice; lookups find the first).
    case object([Member])

    /// One name and value of a JSON object.
    public struct Member: Sendable, Equatable {
        /// The member's name.
        public var name: String
        /// The member's value.
        public var value: ODataJSON

        /// Creates a member.
        public init(_ name: String, _ value: ODataJSON) {
            self.name = name
            self.value = value
        }
    }

    /// The value of the first member named `name` when this is an object; `nil` otherwise.
    public subscript(name: String) -> ODataJSON? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.name == name }?.value
    }

    /// The text when this is a string.
    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// The number's literal text when this is a number.
    public var numberText: String? {
        if case .number(let text) = self { return text }
        return nil
    }

    /// The elements when this is an array.
    public var arrayValue: [ODataJSON]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// The members when this is an object.
    public var objectMembers: [Member]? {
        if case .object(let members) = self { return members }
        return nil
    }

    /// A number value from its literal text; `nil` when `text` is not a JSON number.
    public static func number(exactly text: String) -> ODataJSON? {
        guard ODataJSONParser.isNumberLiteral(Array(text.utf8)) else { return nil }
        return .number(text)
    }

    /// An object from names and values, in the order given.
    public static func object(_ pairs: KeyValuePairs<String, ODataJSON>) -> ODataJSON {
        .object(pairs.map { Member($0.key, $0.value) })
    }

    /// Parses one JSON document (RFC 8259) from UTF-8 bytes, keeping numbers' exact text.
    ///
    /// - Throws: `ODataJSONSyntaxError` when the bytes are not exactly one JSON value (surrounding whitespace allowed),
    ///   including a body cut short, or nest deeper than `maximumDepth`.
    public static func parse(_ bytes: some Collection<UInt8>, maximumDepth: Int = 256) throws(ODataJSONSyntaxError) -> ODataJSON {
        var parser = ODataJSONParser(bytes: Array(bytes), maximumDepth: maximumDepth)
        return try parser.parseDocument()
    }

    /// Parses one JSON document from a string; see `parse(_:maximumDepth:)`.
    public static func parse(_ text: String, maximumDepth: Int = 256) throws(ODataJSONSyntaxError) -> ODataJSON {
        try parse(Array(text.utf8), maximumDepth: maximumDepth)
    }

    /// The value as compact JSON text (no whitespace), numbers written exactly as held.
    public var jsonText: String {
        var writer = ODataJSONWriter(indent: nil)
        writer.write(self, depth: 0)
        return writer.output
    }

    /// The value as JSON text indented by `indent` spaces per level, `"name": value` as the OData documentation
    /// writes its examples.
    public func prettyJSONText(indent: Int = 2) -> String {
        var writer = ODataJSONWriter(indent: max(0, indent))
        writer.write(self, depth: 0)
        return writer.output
    }

    /// The compact JSON text as UTF-8 bytes.
    public var jsonBytes: [UInt8] { Array(jsonText.utf8) }
}

/// Why bytes are not a JSON document.
public struct ODataJSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The byte offset where the problem was found.
    public var offset: Int
    /// What is wrong there.
    public var problem: String
    /// Whether the input ended before the value was complete (a truncated body).
    public var isTruncated: Bool

    /// Creates an error.
    public init(offset: Int, problem: String, isTruncated: Bool = false) {
        self.offset = offset
        self.problem = problem
        self.isTruncated = isTruncated
    }

    public var description: String { "\(problem) at byte \(offset)" }
}

/// A recursive-descent JSON reader over UTF-8 bytes with a depth bound.
struct ODataJSONParser {
    private let bytes: [UInt8]
    private let maximumDepth: Int
    private var position = 0

    init(bytes: [UInt8], maximumDepth: Int) {
        self.bytes = bytes
        self.maximumDepth = maximumDepth
    }

    mutating func parseDocument() throws(ODataJSONSyntaxError) -> ODataJSON {
        skipWhitespace()
        let value = try parseValue(depth: 0)
        skipWhitespace()
        guard position == bytes.count else { throw failure("unexpected content after the JSON value") }
        return value
    }

    /// Whether `text` is exactly one JSON number.
    static func isNumberLiteral(_ text: [UInt8]) -> Bool {
        var parser = ODataJSONParser(bytes: text, maximumDepth: 1)
        guard let value = try? parser.parseNumber(), case .number = value else { return false }
        return parser.position == text.count
    }

    private func failure(_ problem: String) -> ODataJSONSyntaxError {
        ODataJSONSyntaxError(offset: position, problem: problem, isTruncated: position >= bytes.count)
    }

    private var current: UInt8? { position < bytes.count ? bytes[position] : nil }

    private mutating func skipWhitespace() {
        while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { position += 1 }
    }

    private mutating func parseValue(depth: Int) throws(ODataJSONSyntaxError) -> ODataJSON {
        guard let byte = current else { throw failure("the body ends where a value should start") }
        switch byte {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw failure("unexpected character where a value should start")
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(ODataJSONSyntaxError) {
        let expected = literal.withUTF8Buffer { Array($0) }
        for byte in expected {
            guard let actual = current else { throw failure("the body ends inside a literal") }
            guard actual == byte else { throw failure("invalid literal") }
            position += 1
        }
    }

    private mutating func parseObject(depth: Int) throws(ODataJSONSyntaxError) -> ODataJSON {
        guard depth <= maximumDepth else { throw failure("nesting deeper than \(maximumDepth) levels") }
        position += 1
        var members: [ODataJSON.Member] = []
        skipWhitespace()
        if current == UInt8(ascii: "}") { position += 1; return .object(members) }
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\"") else {
                throw failure(current == nil ? "the body ends inside an object" : "expected a member name")
            }
            let name = try parseString()
            skipWhitespace()
            guard current == UInt8(ascii: ":") else { throw failure(current == nil ? "the body ends inside an object" : "expected ':'") }
            position += 1
            skipWhitespace()
            members.append(ODataJSON.Member(name, try parseValue(depth: depth)))
            skipWhitespace()
            guard let separator = current else { throw failure("the body ends inside an object") }
            position += 1
            if separator == UInt8(ascii: "}") { return .object(members) }
            guard separator == UInt8(ascii: ",") else { position -= 1; throw failure("expected ',' or '}'") }
        }
    }

    private mutating func parseArray(depth: Int) throws(ODataJSONSyntaxError) -> ODataJSON {
        guard depth <= maximumDepth else { throw failure("nesting deeper than \(maximumDepth) levels") }
        position += 1
        var elements: [ODataJSON] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") { position += 1; return .array(elements) }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth))
            skipWhitespace()
            guard let separator = current else { throw failure("the body ends inside an array") }
            position += 1
            if separator == UInt8(ascii: "]") { return .array(elements) }
            guard separator == UInt8(ascii: ",") else { position -= 1; throw failure("expected ',' or ']'") }
        }
    }

    fileprivate mutating func parseNumber() throws(ODataJSONSyntaxError) -> ODataJSON {
        let start = position
        if current == UInt8(ascii: "-") { position += 1 }
        guard let first = current else { throw failure("the body ends inside a number") }
        if first == UInt8(ascii: "0") {
            position += 1
        } else if isDigit(first) {
            skipDigits()
        } else {
            throw failure("invalid number")
        }
        if current == UInt8(ascii: ".") {
            position += 1
            guard let digit = current, isDigit(digit) else { throw failure("a number needs digits after '.'") }
            skipDigits()
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            position += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
            guard let digit = current, isDigit(digit) else { throw failure("a number needs digits in its exponent") }
            skipDigits()
        }
        return .number(String(decoding: bytes[start..<position], as: UTF8.self))
    }

    private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private mutating func skipDigits() {
        while let byte = current, isDigit(byte) { position += 1 }
    }

    private mutating func parseString() throws(ODataJSONSyntaxError) -> String {
        position += 1
        var scalars = String.UnicodeScalarView()
        var runStart = position
        while true {
            guard let byte = current else { throw failure("the body ends inside a string") }
            if byte == UInt8(ascii: "\"") {
                try appendRun(from: runStart, to: &scalars)
                position += 1
                return String(scalars)
            }
            guard byte >= 0x20 else { throw failure("a control character inside a string") }
            if byte == UInt8(ascii: "\\") {
                try appendRun(from: runStart, to: &scalars)
                position += 1
                scalars.append(try parseEscape())
                runStart = position
            } else {
                position += 1
            }
        }
    }

    /// Appends the unescaped bytes `runStart..<position`, refusing ill-formed UTF-8.
    private func appendRun(from runStart: Int, to scalars: inout String.UnicodeScalarView) throws(ODataJSONSyntaxError) {
        guard runStart < position else { return }
        guard let text = String(validating: bytes[runStart..<position], as: UTF8.self) else {
            throw ODataJSONSyntaxError(offset: runStart, problem: "a string is not valid UTF-8")
        }
        scalars.append(contentsOf: text.unicodeScalars)
    }

    private mutating func parseEscape() throws(ODataJSONSyntaxError) -> Unicode.Scalar {
        guard let byte = current else { throw failure("the body ends inside a string") }
        position += 1
        switch byte {
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "/"): return "/"
        case UInt8(ascii: "b"): return "\u{08}"
        case UInt8(ascii: "f"): return "\u{0C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"): return try parseUnicodeEscape()
        default: position -= 1; throw failure("invalid escape in a string")
        }
    }

    private mutating func parseUnicodeEscape() throws(ODataJSONSyntaxError) -> Unicode.Scalar {
        let unit = try parseHex4()
        if (0xD800...0xDBFF).contains(unit) {
            guard current == UInt8(ascii: "\\") else { throw failure("an unpaired surrogate in a string") }
            position += 1
            guard current == UInt8(ascii: "u") else { throw failure("an unpaired surrogate in a string") }
            position += 1
            let low = try parseHex4()
            guard (0xDC00...0xDFFF).contains(low) else { throw failure("an unpaired surrogate in a string") }
            let value = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
            guard let scalar = Unicode.Scalar(value) else { throw failure("an invalid \\u escape") }
            return scalar
        }
        guard let scalar = Unicode.Scalar(unit) else { throw failure("an unpaired surrogate in a string") }
        return scalar
    }

    private mutating func parseHex4() throws(ODataJSONSyntaxError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = current else { throw failure("the body ends inside a \\u escape") }
            guard let digit = hexValue(byte) else { throw failure("an invalid \\u escape") }
            value = value << 4 | digit
            position += 1
        }
        return value
    }

    private func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(byte - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }
}

/// Writes `ODataJSON` as text, compact or indented.
struct ODataJSONWriter {
    let indent: Int?
    var output = ""

    init(indent: Int?) { self.indent = indent }

    mutating func write(_ value: ODataJSON, depth: Int) {
        switch value {
        case .null: output += "null"
        case .bool(let flag): output += flag ? "true" : "false"
        case .number(let text): output += text
        case .string(let text): writeString(text)
        case .array(let elements): writeArray(elements, depth: depth)
        case .object(let members): writeObject(members, depth: depth)
        }
    }

    private mutating func newline(depth: Int) {
        guard let indent else { return }
        output += "\n" + String(repeating: " ", count: indent * depth)
    }

    private mutating func writeArray(_ elements: [ODataJSON], depth: Int) {
        output += "["
        for (index, element) in elements.enumerated() {
            if index > 0 { output += "," }
            newline(depth: depth + 1)
            write(element, depth: depth + 1)
        }
        if !elements.isEmpty { newline(depth: depth) }
        output += "]"
    }

    private mutating func writeObject(_ members: [ODataJSON.Member], depth: Int) {
        output += "{"
        for (index, member) in members.enumerated() {
            if index > 0 { output += "," }
            newline(depth: depth + 1)
            writeString(member.name)
            output += indent == nil ? ":" : ": "
            write(member.value, depth: depth + 1)
        }
        if !members.isEmpty { newline(depth: depth) }
        output += "}"
    }

    private mutating func writeString(_ text: String) {
        output += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case _ where scalar.value < 0x20: output += controlEscape(scalar.value)
            default: output.unicodeScalars.append(scalar)
            }
        }
        output += "\""
    }

    private func controlEscape(_ value: UInt32) -> String {
        let hex = String(value, radix: 16)
        return "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }
}
