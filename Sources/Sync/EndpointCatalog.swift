import Postgres

/// A table, view or foreign table as an endpoint's catalog describes it to the sync role.
public struct CatalogTable: Sendable, Equatable {
    /// `pg_class.relkind`: `r` table, `p` partitioned table, `v` view, `m` materialized view, `f` foreign table, …
    public var kind: String
    /// Its columns in order.
    public var columns: [CatalogColumn]
    /// Whether the session's role may read, insert and update (any column).
    public var canSelect: Bool, canInsert: Bool, canUpdate: Bool

    /// A table of this kind with these columns and rights.
    public init(kind: String, columns: [CatalogColumn], canSelect: Bool, canInsert: Bool, canUpdate: Bool) {
        (self.kind, self.columns) = (kind, columns)
        (self.canSelect, self.canInsert, self.canUpdate) = (canSelect, canInsert, canUpdate)
    }

    /// The column called `name`, if there is one.
    func column(_ name: String) -> CatalogColumn? { columns.first { $0.name == name } }

    /// What `kind` is, in words.
    var kindName: String {
        ["r": "table", "p": "partitioned table", "v": "view", "m": "materialized view", "f": "foreign table", "S": "sequence",
         "i": "index", "I": "partitioned index", "c": "composite type", "t": "TOAST table"][kind] ?? "relation of kind \(kind)"
    }
}

/// What the sync role sees of an endpoint's tables, read from `pg_catalog` with bound parameters.
enum EndpointCatalog {
    /// The relation `table` names as the endpoint's session resolves it (its `search_path` for an
    /// unqualified name), or nil when there is none.
    static func table(_ table: PostgresIdentifier, on connection: PostgresConnection) async throws -> CatalogTable? {
        let relation = try await connection.query(
            """
            SELECT c.relkind::text, has_any_column_privilege(c.oid, 'SELECT'), has_any_column_privilege(c.oid, 'INSERT'),
                   has_any_column_privilege(c.oid, 'UPDATE')
            FROM pg_catalog.pg_class c WHERE c.oid = pg_catalog.to_regclass(\(table.quoted))
            """, name: "catalog relation")
        guard let row = relation.first else { return nil }
        let (kind, canSelect, canInsert, canUpdate) = try row.decode((String, Bool, Bool, Bool).self)
        return CatalogTable(
            kind: kind, columns: try await columns(of: table, on: connection),
            canSelect: canSelect, canInsert: canInsert, canUpdate: canUpdate)
    }

    /// The live columns of `table`, with domains resolved to their base type.
    private static func columns(of table: PostgresIdentifier, on connection: PostgresConnection) async throws -> [CatalogColumn] {
        try await connection.query(
            """
            SELECT a.attname::text, pg_catalog.format_type(a.atttypid, a.atttypmod), pg_catalog.format_type(b.oid, NULL),
                   b.typcategory::text
            FROM pg_catalog.pg_attribute a
            JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
            JOIN pg_catalog.pg_type b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
            WHERE a.attrelid = pg_catalog.to_regclass(\(table.quoted)) AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY a.attnum
            """, name: "catalog columns"
        ).map { row in
            let (name, type, baseType, category) = try row.decode((String, String, String, String).self)
            return CatalogColumn(name: name, type: type, baseType: baseType, category: TypeCategory(code: category))
        }
    }

    /// Asks the endpoint to run `SELECT 1 FROM table WHERE <filter> LIMIT 0` — the filter as the
    /// engine will use it, values bound — in a read-only transaction with short lock and statement
    /// timeouts; `LIMIT 0` reads no row. Throws the server's error when a column does not exist, a
    /// value does not fit its column's type, or a column standing alone is not boolean.
    static func checkFilter(_ filter: RecordFilter, on table: PostgresIdentifier, connection: PostgresConnection) async throws {
        try await connection.withTransaction { check in
            try await check.runScript(
                "SET TRANSACTION READ ONLY; SET LOCAL statement_timeout = '10s'; SET LOCAL lock_timeout = '5s'",
                name: "read-only filter check")
            try await check.query(
                "SELECT 1 FROM \(table) WHERE \(filter.sql) LIMIT 0", name: "check filter")
        }
    }
}
