import CoupletSchema
import Foundation
import Postgres
import PostgresTestSupport
import Testing

/// Before 0015: CUSTOMER, three runs, each logging records 1 and 2 again; record 1 still fails
/// (its failure says so), record 2 synced since.
private let floodedLog = """
    INSERT INTO couplet.endpoints (name) VALUES ('erp'), ('crm');
    INSERT INTO couplet.table_mappings (name, local_endpoint, local_table, local_key, local_modified,
        integration_endpoint, integration_table, integration_key, integration_modified)
    VALUES ('CUSTOMER', 'erp', 'customer', 'no', 'modified_at', 'crm', 'account', 'id', 'modified_at');
    INSERT INTO couplet.sync_runs (mapping, kind, direction) SELECT 'CUSTOMER', 'delta', 'to_integration' FROM generate_series(1, 3);
    INSERT INTO couplet.sync_failures (mapping, side, record_id, error, error_class)
    VALUES ('CUSTOMER', 'local', '1', 'customer 1 fails', 'uncoupled_reference:salesperson_code');
    INSERT INTO couplet.sync_errors (run_id, mapping, direction, local_id, message, error_class, created_at)
    SELECT r.id, 'CUSTOMER', 'to_integration', v.record, 'customer ' || v.record || ' fails', 'uncoupled_reference:salesperson_code',
           now() - (4 - r.id) * interval '10 minutes'
    FROM couplet.sync_runs r, (VALUES ('1'), ('2')) v(record);
    """

@Suite("Migration 0015 on a flooded error log")
struct ErrorLogMigrationTests {
    @Test("one row per record and class is left, counting the runs; a record that still fails stays open, one that synced closes")
    func foldsTheFlood() async throws {
        try await TestDatabase.with { database in
            let db = try await database.connect()
            defer { db.close() }
            let before = CoupletSchema.migrations.filter { $0.version < 15 }
            try await SchemaMigrator(migrations: before, ledger: CoupletSchema.ledger).migrate(on: db)
            try await db.runScript(floodedLog, name: "flooded log")
            try await CoupletSchema.migrator.migrate(on: db)
            let rows = try await db.query(
                """
                SELECT local_id, occurrences, last_run_id - first_run_id, last_seen_at - first_seen_at = interval '20 minutes',
                       coalesce(closed_reason, 'open'), record_message
                FROM couplet.sync_errors ORDER BY local_id
                """).map { try $0.decode((String, Int, Int64, Bool, String, String).self) }
            #expect(rows.map { "\($0.0) \($0.1) \($0.2) \($0.3) \($0.4) \($0.5)" }
                == ["1 3 2 true open customer 1 fails", "2 3 2 true synced customer 2 fails"])
            let health = try await db.query("SELECT open_errors, errors_last_24h FROM couplet.sync_health").single().decode((Int, Int).self)
            #expect(health == (1, 2))
        }
    }
}
