import Foundation

/// A Swift value that can be sent to the server as a bound parameter, in PostgreSQL's text format.
///
/// Values only ever travel as parameters (`$1`, `$2`, …), never spliced into SQL text, so a value
/// containing `'; DROP TABLE` is just a string to the server.
public protocol PostgresEncodable: Sendable {
    /// The type the parameter is declared with; `.unknown` lets the server infer it from context.
    static var postgresType: PostgresDataType { get }
    /// The value in PostgreSQL's text input format; nil sends SQL NULL.
    var postgresText: String? { get }
}

/// A parameter ready to send: its text form (nil for NULL) and declared type.
public struct PostgresBinding: Sendable, Hashable {
    /// The text form, or nil for NULL.
    public var text: String?
    /// The declared type.
    public var type: PostgresDataType

    /// Binds `value` as its own type.
    public init<Value: PostgresEncodable>(_ value: Value) {
        self.text = value.postgresText
        self.type = Value.postgresType
    }

    /// Binds text that the server will cast to `type`; nil binds NULL.
    public init(text: String?, type: PostgresDataType) {
        self.text = text
        self.type = type
    }
}

extension String: PostgresEncodable {
    /// Strings bind as `unknown` so they fit any column the server can cast text into (uuid, date, …).
    public static var postgresType: PostgresDataType { .unknown }
    public var postgresText: String? { self }
}

extension Substring: PostgresEncodable {
    public static var postgresType: PostgresDataType { .unknown }
    public var postgresText: String? { String(self) }
}

extension Bool: PostgresEncodable {
    public static var postgresType: PostgresDataType { .bool }
    public var postgresText: String? { self ? "t" : "f" }
}

extension Int: PostgresEncodable {
    public static var postgresType: PostgresDataType { .int8 }
    public var postgresText: String? { String(self) }
}

extension Int64: PostgresEncodable {
    public static var postgresType: PostgresDataType { .int8 }
    public var postgresText: String? { String(self) }
}

extension Int32: PostgresEncodable {
    public static var postgresType: PostgresDataType { .int4 }
    public var postgresText: String? { String(self) }
}

extension Int16: PostgresEncodable {
    public static var postgresType: PostgresDataType { .int2 }
    public var postgresText: String? { String(self) }
}

extension Double: PostgresEncodable {
    public static var postgresType: PostgresDataType { .float8 }
    public var postgresText: String? {
        if isNaN { return "NaN" }
        if isInfinite { return self > 0 ? "Infinity" : "-Infinity" }
        return String(self)
    }
}

extension Decimal: PostgresEncodable {
    public static var postgresType: PostgresDataType { .numeric }
    public var postgresText: String? { isNaN ? "NaN" : description }
}

extension UUID: PostgresEncodable {
    public static var postgresType: PostgresDataType { .uuid }
    public var postgresText: String? { uuidString }
}

extension Date: PostgresEncodable {
    public static var postgresType: PostgresDataType { .timestamptz }
    public var postgresText: String? { PostgresTimestamp.format(self) }
}

extension Data: PostgresEncodable {
    public static var postgresType: PostgresDataType { .bytea }
    public var postgresText: String? {
        let hexDigits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = [92, 120]  // "\x"
        text.reserveCapacity(2 + count * 2)
        for byte in self {
            text.append(hexDigits[Int(byte >> 4)])
            text.append(hexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

extension Duration: PostgresEncodable {
    /// A duration binds as an `interval` of seconds and whole microseconds, the server's precision.
    /// Every duration has a text form: one longer than an interval holds (about 292,000 years) is
    /// refused by the server ("interval field value out of range"), never by a trap here.
    public static var postgresType: PostgresDataType { .interval }
    public var postgresText: String? {
        let (seconds, attoseconds) = components
        return "\(seconds) seconds \(attoseconds / 1_000_000_000_000) microseconds"
    }
}

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    /// NULL is declared with the wrapped type, so the server knows what kind of NULL it is.
    public static var postgresType: PostgresDataType { Wrapped.postgresType }
    public var postgresText: String? { self?.postgresText }
}

extension Array: PostgresEncodable where Element: PostgresEncodable {
    /// A one-dimensional array of the element type (`int8[]`, `text[]`, …).
    public static var postgresType: PostgresDataType { Element.postgresType.arrayType }
    public var postgresText: String? { PostgresArrayLiteral.format(map { $0.postgresText }) }
}

/// A `Codable` value stored as `jsonb`: readable by a DBA, decoded into a Swift type by Couplet.
///
/// Dates inside the document are ISO 8601 strings; keys are sorted so equal values encode equally.
/// Encoding happens when the wrapper is made, so a value JSON cannot express (a NaN `Double`)
/// is refused there with a clear error instead of reaching the database.
public struct PostgresJSON<Value: Codable & Sendable>: Sendable {
    /// The decoded value.
    public let value: Value
    /// The JSON text sent to or read from the server.
    public let json: String

    /// Wraps a value to bind as jsonb; throws when it cannot be expressed as JSON.
    public init(_ value: Value) throws(PostgresError) {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            self.json = String(decoding: try encoder.encode(value), as: UTF8.self)
        } catch {
            throw PostgresError(.encoding, message: "cannot encode \(Value.self) as JSON: \(error)")
        }
        self.value = value
    }

    /// Decodes JSON text read from the server or from a job's arguments.
    public static func decoded(from json: String) throws -> Value {
        try PostgresJSON(decoding: json).value
    }

    /// Decodes JSON text read from the server.
    init(decoding json: String) throws {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        self.value = try decoder.decode(Value.self, from: Data(json.utf8))
        self.json = json
    }
}

extension PostgresJSON: PostgresEncodable {
    public static var postgresType: PostgresDataType { .jsonb }
    public var postgresText: String? { json }
}
