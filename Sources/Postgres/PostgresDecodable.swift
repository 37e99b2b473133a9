import Foundation

/// Why one value could not be decoded; `PostgresRow` turns it into a `PostgresError` naming the column.
public struct PostgresDecodingFailure: Error, Sendable {
    /// What went wrong, e.g. `expected an integer type, got text`.
    public var reason: String

    /// Creates a failure with a reason a person can read.
    public init(_ reason: String) { self.reason = reason }
}

/// A Swift type that can be read from a result column in PostgreSQL's text format.
///
/// Each type checks the column's type first, so decoding an `Int` from a `text` column fails with a
/// clear message instead of guessing. SQL NULL decodes only into an `Optional`.
public protocol PostgresDecodable: Sendable {
    /// Decodes a non-NULL value whose column has type `type`.
    static func decode(postgresText text: String, type: PostgresDataType) throws(PostgresDecodingFailure) -> Self
    /// Decodes SQL NULL; the default refuses it.
    static func decodeNull() throws(PostgresDecodingFailure) -> Self
}

extension PostgresDecodable {
    public static func decodeNull() throws(PostgresDecodingFailure) -> Self {
        throw PostgresDecodingFailure("unexpected NULL; decode an Optional to accept it")
    }

    /// Refuses a column of a type this Swift type does not read.
    static func require(_ accepted: Bool, _ expected: String, got type: PostgresDataType) throws(PostgresDecodingFailure) {
        guard accepted else { throw PostgresDecodingFailure("expected \(expected), got \(type)") }
    }

    /// Refuses text the parser could not read.
    static func parsed<T>(_ value: T?, _ text: String, as expected: String) throws(PostgresDecodingFailure) -> T {
        guard let value else { throw PostgresDecodingFailure("\"\(text.prefix(40))\" is not a valid \(expected)") }
        return value
    }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public static func decode(postgresText text: String, type: PostgresDataType) throws(PostgresDecodingFailure) -> Self {
        try Wrapped.decode(postgresText: text, type: type)
    }

    public static func decodeNull() throws(PostgresDecodingFailure) -> Self { nil }
}

extension String: PostgresDecodable {
    /// Any column reads as its text form (enums, dates, intervals, …).
    public static func decode(postgresText text: String, type: PostgresDataType) throws(PostgresDecodingFailure) -> String {
        text
    }
}

extension Bool: PostgresDecodable {
    public static func decode(postgresText text: String, type: PostgresDataType) throws(PostgresDecodingFailure) -> Bool {
        try require(type == .bool, "bool", got: type)
        return try parsed(text == "t" ? true : text == "f" ? false : nil, text, as: "bool")
    }
}

/// Integers read from any integer column and refuse values that do not fit.
extension FixedWidthInteger where Self: PostgresDecodable {
    public static func decode(postgresText text: String, type: PostgresDataType) throws(PostgresDecodingFailure) -> Self {
        try require(type.isInteger, "an integer type", got: type)
        return try parsed(Self(text), text, as: "\(Self.self)")
    }
}

extension Int: PostgresDecodable {}
extension Int64: PostgresDecodable {}
extension Int32: PostgresDecodable {}
extension Int16: PostgresDecodable {}

extension Double: PostgresDecodable {
    public static func decode(postgresText text: String, type: PostgresDataType) throws(PostgresDecodingFailure) -> Double {
        try require(
            type == .float8 || type == .float4 || type == .numeric || type.isInteger, "a numeric type", got: type)
        return try parsed(Double(text), text, as: "double")
    }
}

extension Decimal: PostgresDecodable {
    public static func decode(postgresText text: String, type: PostgresDataType) throws(PostgresDecodingFailure) -> Decimal {
        try require(type == .numeric || type.isInteger, "numeric or an integer type", got: type)
        if text == "NaN" { return .nan }
        return try parsed(Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")), text, as: "numeric")
    }
}

extension UUID: PostgresDecodable {
    public static func decode(postgresText text: String, type: PostgresDataType) throws(PostgresDecodingFailure) -> UUID {
        try require(type == .uuid || type.isText, "uuid", got: type)
        return try parsed(UUID(uuidString: text), text, as: "uuid")
    }
}

extension Date: PostgresDecodable {
    /// Reads `timestamptz` (any offset) and `timestamp` (as UTC); ±infinity become distant future/past.
    public static func decode(postgresText text: String, type: PostgresDataType) throws(PostgresDecodingFailure) -> Date {
        try require(type == .timestamptz || type == .timestamp, "timestamptz or timestamp", got: type)
        return try parsed(PostgresTimestamp.parse(text), text, as: "ISO timestamp (is DateStyle ISO?)")
    }
}

extension Data: PostgresDecodable {
    /// Reads `bytea` in the server's default hex output format.
    public static func decode(postgresText text: String, type: PostgresDataType) throws(PostgresDecodingFailure) -> Data {
        try require(type == .bytea, "bytea", got: type)
        let hex = Array(text.utf8)
        guard hex.count >= 2, hex[0] == 92, hex[1] == 120, hex.count % 2 == 0 else {
            throw PostgresDecodingFailure("bytea is not in hex format (set bytea_output = hex)")
        }
        var bytes = Data(capacity: (hex.count - 2) / 2)
        var index = 2
        while index < hex.count {
            guard let high = hexValue(hex[index]), let low = hexValue(hex[index + 1]) else {
                throw PostgresDecodingFailure("bytea contains a non-hex digit")
            }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case 48...57: digit - 48
        case 97...102: digit - 87
        case 65...70: digit - 55
        default: nil
        }
    }
}

extension PostgresJSON: PostgresDecodable {
    public static func decode(postgresText text: String, type: PostgresDataType) throws(PostgresDecodingFailure) -> Self {
        try require(type == .jsonb || type == .json, "json or jsonb", got: type)
        do {
            return try Self(decoding: text)
        } catch {
            throw PostgresDecodingFailure("JSON does not decode as \(Value.self): \(error)")
        }
    }
}

extension Array: PostgresDecodable where Element: PostgresDecodable {
    /// Reads one-dimensional arrays; NULL elements decode only into an Optional element type.
    public static func decode(postgresText text: String, type: PostgresDataType) throws(PostgresDecodingFailure) -> [Element] {
        guard let elementType = type.elementType else {
            throw PostgresDecodingFailure("expected an array type, got \(type)")
        }
        let elements = try parsed(PostgresArrayLiteral.parse(text), text, as: "one-dimensional array")
        var decoded: [Element] = []
        decoded.reserveCapacity(elements.count)
        for (position, element) in elements.enumerated() {
            do throws(PostgresDecodingFailure) {
                if let element {
                    decoded.append(try Element.decode(postgresText: element, type: elementType))
                } else {
                    decoded.append(try Element.decodeNull())
                }
            } catch {
                throw PostgresDecodingFailure("element \(position + 1): \(error.reason)")
            }
        }
        return decoded
    }
}
