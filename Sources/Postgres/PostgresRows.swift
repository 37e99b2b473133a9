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
public struct PostgresRow: Sendable {
    /// The result's columns.
    public let columns: PostgresColumns
    /// Raw text values, nil for SQL NULL.
    public let values: [String?]

    /// Decodes the column called `column`; the error names the column and both types.
    public func decode<Value: PostgresDecodable>(_ type: Value.Type = Value.self, column: String) throws(PostgresError) -> Value {
        guard let index = columns.position(of: column) else {
            throw PostgresError(
                .decoding,
                message: "no column \"\(column)\" in the result (columns: \(columns.names.joined(separator: ", ")))")
        }
        return try decode(type, at: index)
    }

    /// Decodes the column at `index` (0-based).
    public func decode<Value: PostgresDecodable>(_ type: Value.Type = Value.self, at index: Int) throws(PostgresError) -> Value {
        guard values.indices.contains(index) else {
            throw PostgresError(.decoding, message: "the result has \(values.count) columns; column \(index + 1) was asked for")
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
        let fieldCount = Int(PQnfields(result))
        let rowCount = Int(PQntuples(result))
        let columns = PostgresColumns(
            names: (0..<fieldCount).map { PQfname(result, Int32($0)).map { String(cString: $0) } ?? "?column?" },
            types: (0..<fieldCount).map { PostgresDataType(oid: PQftype(result, Int32($0))) })
        self.columns = columns
        self.rows = (0..<rowCount).map { row in
            PostgresRow(
                columns: columns,
                values: (0..<fieldCount).map { field in
                    PQgetisnull(result, Int32(row), Int32(field)) == 1
                        ? nil : String(cString: PQgetvalue(result, Int32(row), Int32(field)))
                })
        }
        self.affectedRows = PQcmdTuples(result).flatMap { Int(String(cString: $0)) } ?? 0
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
