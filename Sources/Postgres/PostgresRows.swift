import CLibPQ

/// The columns of a result: names and types, shared by all its rows.
public final class PostgresColumns: Sendable {
    /// Column names in result order.
    public let names: [String]
    /// Column types in result order.
    public let types: [PostgresDataType]
    private let positions: [String: Int]

    init(names: [String], types: [PostgresDataType]) {
        self.names = names
        self.types = types
        var positions: [String: Int] = [:]
        for (index, name) in names.enumerated() where positions[name] == nil { positions[name] = index }
        self.positions = positions
    }

    /// The position of the first column called `name`.
    public func position(of name: String) -> Int? { positions[name] }
}

/// One result row; values stay in PostgreSQL's text format until decoded.
///
/// A value whose bytes are not valid UTF-8 (text stored unchecked in a `SQL_ASCII` database) is
/// never passed off as good text: `hasInvalidText(at:)` tells which columns held one, and decoding
/// such a column throws.
public struct PostgresRow: Sendable {
    /// The result's columns.
    public let columns: PostgresColumns
    /// Raw text values, nil for SQL NULL; invalid UTF-8 shows as U+FFFD (see `hasInvalidText(at:)`).
    public let values: [String?]
    /// Positions of the columns whose bytes were not valid UTF-8.
    private let invalidTextColumns: Set<Int>

    init(columns: PostgresColumns, values: [String?], invalidTextColumns: Set<Int> = []) {
        self.columns = columns
        self.values = values
        self.invalidTextColumns = invalidTextColumns
    }

    /// True when the column at `index` (0-based) held bytes that are not valid UTF-8, so that its
    /// entry in `values` is not what the database holds: the record should fail rather than travel.
    public func hasInvalidText(at index: Int) -> Bool { invalidTextColumns.contains(index) }

    /// True when any column held bytes that are not valid UTF-8.
    public var containsInvalidText: Bool { !invalidTextColumns.isEmpty }

    /// Decodes the column called `column`; the error names the column and both types.
    public func decode<Value: PostgresDecodable>(_ type: Value.Type = Value.self, column: String) throws(PostgresError) -> Value {
        guard let index = columns.position(of: column) else {
            throw PostgresError(
                .decoding,
                message: "no column \"\(column)\" in the result (columns: \(columns.names.joined(separator: ", ")))")
        }
        return try decode(type, at: index)
    }

    /// Decodes the column at `index` (0-based); text that was not valid UTF-8 is refused, never repaired.
    public func decode<Value: PostgresDecodable>(_ type: Value.Type = Value.self, at index: Int) throws(PostgresError) -> Value {
        guard values.indices.contains(index) else {
            throw PostgresError(.decoding, message: "the result has \(values.count) columns; column \(index + 1) was asked for")
        }
        guard !hasInvalidText(at: index) else {
            throw PostgresError(
                .decoding,
                message: "column \"\(columns.names[index])\" (\(columns.types[index])) holds bytes that are not valid UTF-8 "
                    + "(is the database's encoding SQL_ASCII?)")
        }
        do {
            guard let text = values[index] else { return try Value.decodeNull() }
            return try Value.decode(postgresText: text, type: columns.types[index])
        } catch {
            throw PostgresError(
                .decoding,
                message: "column \"\(columns.names[index])\" (\(columns.types[index])) as \(Value.self): \(error.reason)")
        }
    }

    /// Decodes the leading columns into a tuple, in order: `let (id, name) = try row.decode((Int, String?).self)`.
    public func decode<each Value: PostgresDecodable>(_ types: (repeat each Value).Type) throws(PostgresError) -> (repeat each Value) {
        var index = 0
        func next<Next: PostgresDecodable>(_ type: Next.Type) throws(PostgresError) -> Next {
            defer { index += 1 }
            return try decode(type, at: index)
        }
        return (repeat try next((each Value).self))
    }
}

/// The outcome of one statement: its rows (empty for commands) and how many rows it affected.
public struct PostgresRows: Sendable, RandomAccessCollection {
    /// The columns of the rows.
    public let columns: PostgresColumns
    /// The rows, in the order the server sent them.
    public let rows: [PostgresRow]
    /// Rows inserted, updated, deleted, copied or selected, as the server's command tag reports.
    public let affectedRows: Int

    /// Copies a `PGresult` out into Swift values; the caller clears the result.
    init(copying result: OpaquePointer) {
        let fields = 0..<PQnfields(result)
        let columns = PostgresColumns(
            names: fields.map { PQfname(result, $0).map { String(cString: $0) } ?? "?column?" },
            types: fields.map { PostgresDataType(oid: PQftype(result, $0)) })
        self.columns = columns
        self.rows = (0..<PQntuples(result)).map { row in
            var invalidText: Set<Int> = []
            let values = fields.map { field -> String? in
                guard PQgetisnull(result, row, field) == 0 else { return nil }
                let (text, isValid) = Self.text(at: PQgetvalue(result, row, field))
                if !isValid { invalidText.insert(Int(field)) }
                return text
            }
            return PostgresRow(columns: columns, values: values, invalidTextColumns: invalidText)
        }
        self.affectedRows = PQcmdTuples(result).flatMap { Int(String(cString: $0)) } ?? 0
    }

    /// A value's text, and whether its bytes were valid UTF-8 (if not, the text has U+FFFD in their place).
    private static func text(at bytes: UnsafePointer<CChar>) -> (text: String, isValid: Bool) {
        if let text = String(validatingCString: bytes) { return (text, true) }
        return (String(cString: bytes), false)
    }

    public var startIndex: Int { rows.startIndex }
    public var endIndex: Int { rows.endIndex }
    public subscript(position: Int) -> PostgresRow { rows[position] }

    /// The only row, or an error naming the statement when there is none or more than one.
    public func single(_ what: String = "row") throws(PostgresError) -> PostgresRow {
        guard rows.count == 1 else {
            throw PostgresError(.decoding, message: "expected exactly one \(what), got \(rows.count)")
        }
        return rows[0]
    }
}
