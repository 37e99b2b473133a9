import Postgres

/// The writes both emulators make: a row from column values, and an update of some columns of one row.
/// Values are bound as text of unknown type, so Postgres casts each to its column's type.
public enum RowStatements {
    /// A column name and its value as text (nil for SQL null).
    public typealias Column = (name: String, value: String?)

    /// `INSERT INTO table (columns) VALUES (values)`.
    public static func insert(into table: PostgresIdentifier, _ columns: [Column], on connection: PostgresConnection) async throws {
        let names = try columns.map { try PostgresIdentifier($0.name) }
        let values = PostgresQuery.joined(columns.map { "\(PostgresBinding(text: $0.value, type: .unknown))" }, separator: ", ")
        try await connection.query("INSERT INTO \(table) (\(names)) VALUES (\(values))", name: "emulator insert")
    }

    /// `UPDATE table SET … WHERE key = id`; with no columns it still updates the row (its triggers run).
    public static func update(
        _ table: PostgresIdentifier, key: PostgresIdentifier, id: String, _ columns: [Column], on connection: PostgresConnection
    ) async throws {
        var assignments = try columns.map { column -> PostgresQuery in
            "\(try PostgresIdentifier(column.name)) = \(PostgresBinding(text: column.value, type: .unknown))"
        }
        if assignments.isEmpty { assignments = ["\(key) = t.\(key)"] }
        try await connection.query(
            "UPDATE \(table) t SET \(PostgresQuery.joined(assignments, separator: ", ")) WHERE t.\(key) = \(id)::uuid", name: "emulator update")
    }
}
