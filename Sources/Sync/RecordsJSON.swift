import Foundation

/// Writes records as the JSON array of objects whose values are strings or null that
/// `json_populate_recordset` reads — by hand, because it is the hot path of a full sync:
/// Foundation's `JSONSerialization` spent half the worker's time on it.
enum RecordsJSON {
    /// `[{"column": "value", "other": null}, …]`, keys in each record's own order.
    static func encode(_ records: [FieldValues]) -> String {
        var bytes: [UInt8] = [UInt8(ascii: "[")]
        bytes.reserveCapacity(records.count * 256)
        for (index, record) in records.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            appendObject(record, to: &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `{"column": "value", "other": null}`: one record.
    static func encode(_ record: FieldValues) -> String {
        var bytes: [UInt8] = []
        appendObject(record, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// One record written by `encode(_:)` (or any JSON object of strings and nulls); nil for other JSON.
    static func decodeObject(_ text: String) -> FieldValues? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return nil }
        var values: FieldValues = [:]
        for (column, value) in object {
            switch value {
            case let text as String: values[column] = .some(text)
            case is NSNull: values[column] = .some(nil)
            default: return nil
            }
        }
        return values
    }

    private static func appendObject(_ record: FieldValues, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "{"))
        var first = true
        for (column, value) in record {
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            appendString(column, to: &bytes)
            bytes.append(UInt8(ascii: ":"))
            if let value { appendString(value, to: &bytes) } else { bytes.append(contentsOf: "null".utf8) }
        }
        bytes.append(UInt8(ascii: "}"))
    }

    /// Appends `text` as a JSON string: quotes, backslashes and control characters escaped, the rest as UTF-8.
    private static func appendString(_ text: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case ..<0x20: bytes.append(contentsOf: "\\u00".utf8 + [hexDigit(byte >> 4), hexDigit(byte & 0x0F)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }
}
