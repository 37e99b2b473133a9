import Postgres

/// One of the two demo databases' sets of tables: creating them, and dropping them for a reset.
public struct DemoSchema: Sendable {
    /// `erp` or `crm`: the endpoint the tables belong to.
    public let endpoint: String
    /// The tables, in creation order.
    public let tables: [String]
    /// The statements that create them.
    let script: String
    /// The trigger function the script creates, if any.
    let function: String?

    /// The Business Central-shaped ERP.
    public static let erp = DemoSchema(
        endpoint: "erp", tables: ERPSchema.tables, script: ERPSchema.script, function: "demo_stamp_modified_at")
    /// The Dataverse-shaped CRM.
    public static let crm = DemoSchema(
        endpoint: "crm", tables: CRMSchema.tables, script: CRMSchema.script, function: "demo_stamp_modifiedon")
    /// The ERP shaped like Business Central's API v2.0, for the Business Central emulator (its
    /// `lastModifiedDateTime` is the emulator's to keep: no trigger function).
    public static let businessCentralAPI = DemoSchema(
        endpoint: "erp", tables: BusinessCentralAPISchema.tables, script: BusinessCentralAPISchema.script, function: nil)

    /// The demo tables that exist in the connected database, with whether each holds rows.
    public func existingTables(on connection: PostgresConnection) async throws -> [(table: String, hasRows: Bool)] {
        let existing = try await connection.query(
            "SELECT relname FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace AND relname = ANY(\(tables))",
            name: "demo tables"
        ).map { try $0.decode(String.self, at: 0) }
        var result: [(table: String, hasRows: Bool)] = []
        for table in tables where existing.contains(table) {
            let identifier = try PostgresIdentifier(table)
            let hasRows = try await connection.query("SELECT EXISTS (SELECT FROM \(identifier))", name: "demo table rows")
                .single().decode(Bool.self, at: 0)
            result.append((table, hasRows))
        }
        return result
    }

    /// Drops the demo tables (those that exist) and the trigger function, then creates them afresh.
    public func recreate(on connection: PostgresConnection) async throws {
        let drops = try tables.reversed().map { "DROP TABLE IF EXISTS \(try PostgresIdentifier($0).quoted) CASCADE;" }
        let dropFunction = try function.map { ["DROP FUNCTION IF EXISTS \(try PostgresIdentifier($0).quoted)() CASCADE;"] } ?? []
        try await connection.runScript((["SET LOCAL client_min_messages = warning;"] + drops + dropFunction).joined(separator: "\n"), name: "drop demo \(endpoint) tables")
        try await connection.runScript(script, name: "create demo \(endpoint) tables")
    }

    /// A BEFORE INSERT OR UPDATE trigger per table that stamps `column` with `now()`, and an index on it
    /// (delta syncs read in modified-on order).
    static func modifiedOnTriggers(tables: [String], column: String, function: String) -> String {
        tables.map { table in
            """

            CREATE TRIGGER stamp_\(column) BEFORE INSERT OR UPDATE ON \(table) FOR EACH ROW EXECUTE FUNCTION \(function)();
            CREATE INDEX ON \(table) (\(column));
            """
        }.joined()
    }
}
