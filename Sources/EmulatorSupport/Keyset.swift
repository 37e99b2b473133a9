import Foundation
import Postgres

/// One sort term of a paged read: an SQL expression and its direction.
public struct SortTerm: Sendable {
    /// The expression sorted on (over alias `t`).
    public let key: PostgresQuery
    /// True for descending.
    public let descending: Bool

    /// A sort term.
    public init(key: PostgresQuery, descending: Bool) {
        self.key = key
        self.descending = descending
    }
}

/// Keyset paging: a page begins after the sort values of the previous page's last record (the cursor),
/// so records written meanwhile shift no page. The last term should be the key, which breaks ties.
public enum Keyset {
    /// `ORDER BY` for the terms: ascending with nulls first, descending with nulls last.
    public static func orderClause(_ terms: [SortTerm]) -> PostgresQuery {
        PostgresQuery.joined(terms.map { $0.descending ? "\($0.key) DESC NULLS LAST" : "\($0.key) ASC NULLS FIRST" }, separator: ", ")
    }

    /// The terms' values as text, to select after a record's columns: the cursor of the last record read.
    public static func sortValues(_ terms: [SortTerm]) -> PostgresQuery {
        PostgresQuery.joined(terms.map { "(\($0.key))::text" }, separator: ", ")
    }

    /// The records that sort after `cursor` (one value per term) in the order of `orderClause`; TRUE without one.
    public static func after(_ cursor: [String?]?, terms: [SortTerm]) -> PostgresQuery {
        guard let cursor, cursor.count == terms.count, !terms.isEmpty else { return "TRUE" }
        var alternatives: [PostgresQuery] = []
        for index in terms.indices {
            var parts: [PostgresQuery] = (0..<index).map { "\(terms[$0].key) IS NOT DISTINCT FROM \(cursor[$0])" }
            let key = terms[index].key
            switch (terms[index].descending, cursor[index]) {
            case (false, nil): parts.append("\(key) IS NOT NULL")
            case (false, let value?): parts.append("\(key) > \(value)")
            case (true, nil): parts.append("FALSE")
            case (true, let value?): parts.append("(\(key) < \(value) OR \(key) IS NULL)")
            }
            alternatives.append("(\(PostgresQuery.joined(parts, separator: " AND ")))")
        }
        return "(\(PostgresQuery.joined(alternatives, separator: " OR ")))"
    }

    /// A cursor as base64url JSON (an array of strings and nulls), empty for none.
    public static func encoded(_ cursor: [String?]?) -> String {
        guard let cursor else { return "" }
        let json = JSONValue.array(cursor.map { $0.map(JSONValue.string) ?? .null }).serialized
        return Data(json.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// The cursor `encoded` wrote: nil for none (empty text), `.invalid` when the text is not one.
    public static func decoded(_ text: String) -> DecodedCursor {
        guard !text.isEmpty else { return .none }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let elements = (try? JSONValue.parse(String(decoding: data, as: UTF8.self)))?.arrayValue,
            elements.count <= 64
        else { return .invalid }
        var cursor: [String?] = []
        for element in elements {
            switch element {
            case .null: cursor.append(nil)
            case .string(let value): cursor.append(value)
            default: return .invalid
            }
        }
        return .cursor(cursor)
    }

    /// What `decoded` found.
    public enum DecodedCursor: Sendable, Equatable {
        /// No cursor: the first page.
        case none
        /// The sort values of the last record read.
        case cursor([String?])
        /// Not a cursor.
        case invalid
    }
}
