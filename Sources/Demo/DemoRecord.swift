import Postgres

/// A row the seeder writes with COPY: its table, the columns it fills, and its values in that order.
protocol DemoRecord: Sendable {
    /// The table the row goes to.
    static var table: String { get }
    /// The columns the row fills, in the order of `values`.
    static var columns: [String] { get }
    /// One value per column (nil optionals are NULL).
    var values: [any PostgresEncodable] { get }
}

/// A row of a small code table, written as it is listed.
struct CodeRow<Table: CodeTable>: DemoRecord {
    static var table: String { Table.table }
    static var columns: [String] { Table.columns }
    let values: [any PostgresEncodable]
}

/// A small table of fixed rows (currencies, payment terms, …).
protocol CodeTable: Sendable {
    static var table: String { get }
    static var columns: [String] { get }
    static var rows: [[any PostgresEncodable]] { get }
}

/// Code tables as records.
extension CodeTable {
    /// The table's rows as records.
    static var records: [CodeRow<Self>] { rows.map { CodeRow(values: $0) } }
}

/// Writing demo records.
extension PostgresConnection {
    /// Writes `records` into their table with one COPY and returns how many were written.
    @discardableResult
    func copy<Record: DemoRecord>(_ records: [Record]) async throws -> Int {
        let columns = try Record.columns.map { try PostgresIdentifier($0) }
        return try await copy(into: try PostgresIdentifier(Record.table), columns: columns, rows: records.lazy.map(\.values))
    }
}
