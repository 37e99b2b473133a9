import Foundation
import YAMLFile
import Yams

/// A JSON value built from YAML, for job arguments written in a schedules file.
enum JSONValue: Encodable, Equatable {
    case null
    case bool(Bool)
    case integer(Int)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Converts a YAML node: mappings to objects, lists to arrays, and scalars by their YAML type,
    /// except that only `true` and `false` (in any case) are booleans, so `NO` and `on` stay text.
    init(yaml node: Node) throws(InvalidField) {
        switch node {
        case .scalar(let scalar):
            self = try Self.scalar(scalar.string, node)
        case .sequence(let items):
            var values: [JSONValue] = []
            for item in items { values.append(try JSONValue(yaml: item)) }
            self = .array(values)
        case .mapping(let mapping):
            var members: [String: JSONValue] = [:]
            for (key, value) in mapping {
                guard case .scalar(let name) = key else { throw Self.problem("keys in args must be text", at: key) }
                members[name.string] = try JSONValue(yaml: value)
            }
            self = .object(members)
        case .alias:
            throw Self.problem("aliases are not supported in args", at: node)
        }
    }

    private static func scalar(_ text: String, _ node: Node) throws(InvalidField) -> JSONValue {
        if node.isTagged(.null) { return .null }
        if node.isTagged(.bool), ["true", "false"].contains(text.lowercased()) { return .bool(text.lowercased() == "true") }
        if node.isTagged(.int) {
            guard let value = node.int else { throw problem("the number \(text) in args is too large", at: node) }
            return .integer(value)
        }
        if node.isTagged(.float) {
            guard let value = node.float, value.isFinite else { throw problem("\(text) in args is not a JSON number", at: node) }
            return .number(value)
        }
        return .string(text)
    }

    private static func problem(_ message: String, at node: Node) -> InvalidField {
        InvalidField(message, at: node.mark.map { ($0.line, $0.column) })
    }

    /// Compact JSON text with sorted keys.
    func jsonText() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding strings, numbers, booleans and containers of them cannot fail.
        return (try? String(decoding: encoder.encode(self), as: UTF8.self)) ?? "{}"
    }

    func encode(to encoder: any Encoder) throws {
        switch self {
        case .object(let members):
            var container = encoder.container(keyedBy: MemberKey.self)
            for (name, value) in members { try container.encode(value, forKey: MemberKey(name)) }
        case .array(let values):
            var container = encoder.unkeyedContainer()
            for value in values { try container.encode(value) }
        case .null:
            var container = encoder.singleValueContainer()
            try container.encodeNil()
        case .bool(let value): try Self.encodeSingle(value, to: encoder)
        case .integer(let value): try Self.encodeSingle(value, to: encoder)
        case .number(let value): try Self.encodeSingle(value, to: encoder)
        case .string(let value): try Self.encodeSingle(value, to: encoder)
        }
    }

    private static func encodeSingle<Value: Encodable>(_ value: Value, to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }

    /// An object member's name as a coding key.
    private struct MemberKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
