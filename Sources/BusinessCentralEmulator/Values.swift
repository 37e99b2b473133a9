import EmulatorSupport
import Foundation
import Postgres

/// Values as Business Central writes and reads them: decimals as exact JSON numbers without trailing
/// zeros, `Edm.Date` as `2026-12-07`, `Edm.DateTimeOffset` as `2026-12-07T10:00:00Z` (milliseconds
/// when there are any), guids in lower case, enums as their member names.
enum Values {
    /// The SQL expression reading `property` as text in the form the JSON needs.
    static func readExpression(_ property: Property) -> PostgresQuery {
        let column = property.column
        switch property.kind {
        case .dateTimeOffset: return "to_char(\(column)::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS')"
        case .date: return "to_char(\(column), 'YYYY-MM-DD')"
        default: return "\(column)::text"
        }
    }

    /// A column's text as JSON.
    static func json(_ text: String?, kind: ValueKind) -> JSONValue {
        guard let text else { return .null }
        switch kind {
        case .decimal: return Double(text)?.isFinite == true ? .number(trimmedDecimal(text)) : .null
        case .int32, .int64, .double: return Double(text)?.isFinite == true ? .number(text) : .null
        case .boolean: return .bool(text == "true" || text == "t")
        case .dateTimeOffset: return .string((text.hasSuffix(".000") ? String(text.dropLast(4)) : text) + "Z")
        default: return .string(text)
        }
    }

    /// `12.50` → `12.5`, `0.00` → `0`.
    static func trimmedDecimal(_ text: String) -> String {
        guard text.contains("."), !text.contains("e"), !text.contains("E") else { return text }
        var trimmed = Substring(text)
        while trimmed.hasSuffix("0") { trimmed = trimmed.dropLast() }
        if trimmed.hasSuffix(".") { trimmed = trimmed.dropLast() }
        return trimmed == "-0" ? "0" : String(trimmed)
    }

    /// The text to bind for a JSON value written to `property`, or the error the service gives.
    static func text(_ value: JSONValue, for property: Property) throws(BusinessCentralError) -> String? {
        switch (property.kind, value) {
        case (_, .null): return nil
        case (.string, .string(let text)):
            try checkLength(text, property)
            return text
        case (.guid, .string(let text)):
            guard let uuid = UUID(uuidString: text) else { throw invalid(text, property) }
            return uuid.uuidString.lowercased()
        case (.boolean, .bool(let flag)): return flag ? "true" : "false"
        case (let kind, .number(let text)) where kind.isNumeric: return text
        case (.date, .string(let text)):
            guard isDate(text) else { throw BusinessCentralError(.badRequest, code: "BadRequest", "Unable to convert value to Date") }
            return text
        case (.dateTimeOffset, .string(let text)) where isDateTime(text): return text
        case (.enumeration(_, let labels), .string(let text)):
            guard labels.contains(text) else {
                throw BusinessCentralError(
                    .badRequest, code: "Unknown", "'\(text)' is not an option. The existing options are: \(labels.joined(separator: ","))")
            }
            return text
        default:
            throw invalid(value.serialized, property)
        }
    }

    /// `Application_StringExceededLength`, as the error table words it.
    private static func checkLength(_ text: String, _ property: Property) throws(BusinessCentralError) {
        guard let maximum = property.maxLength, text.count > maximum else { return }
        throw BusinessCentralError(
            .badRequest, code: "Application_StringExceededLength",
            "The length of the string is \(text.count), but it must be less than or equal to \(maximum) characters. Value: \(text)")
    }

    private static func invalid(_ literal: String, _ property: Property) -> BusinessCentralError {
        BusinessCentralError(
            .badRequest, code: "BadRequest",
            "Cannot convert the literal '\(literal)' to the expected type '\(property.kind.edmType)' of the property '\(property.name)'.")
    }

    /// `2026-12-07`.
    static func isDate(_ text: String) -> Bool {
        text.wholeMatch(of: /\d{4}-\d{2}-\d{2}/) != nil
    }

    /// `2026-12-07T10:00:00Z`, with optional fractions and a `Z` or `±hh:mm` offset.
    static func isDateTime(_ text: String) -> Bool {
        text.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})/) != nil
    }
}
