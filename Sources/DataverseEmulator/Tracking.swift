import Foundation
import Postgres

/// The emulator's bookkeeping in its own schema, `dataverse_emulator`: a row version per record (the
/// etag), deletions kept as tombstones for change tracking, and the transaction that wrote each, so a
/// delta token (the oldest transaction still running when it was issued) misses no late commit.
///
/// Installed idempotently at start; the served tables only gain one trigger each
/// (`dataverse_emulator_track`), never a column.
enum Tracking {
    /// The bookkeeping schema.
    static let schema = "dataverse_emulator"

    /// Creates the schema, sequence, table and trigger function if missing.
    static let script = """
        CREATE SCHEMA IF NOT EXISTS dataverse_emulator;
        CREATE SEQUENCE IF NOT EXISTS dataverse_emulator.row_version;
        CREATE TABLE IF NOT EXISTS dataverse_emulator.versions (
            schema_name text NOT NULL, entity text NOT NULL, id uuid NOT NULL, version bigint NOT NULL,
            deleted boolean NOT NULL DEFAULT false, changed_xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
            changed_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (schema_name, entity, id));
        CREATE INDEX IF NOT EXISTS versions_changed ON dataverse_emulator.versions (schema_name, entity, changed_xid);
        CREATE OR REPLACE FUNCTION dataverse_emulator.track_change() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            old_id uuid;
            new_id uuid;
        BEGIN
            IF TG_OP <> 'INSERT' THEN old_id := (to_jsonb(OLD) ->> TG_ARGV[0])::uuid; END IF;
            IF TG_OP <> 'DELETE' THEN new_id := (to_jsonb(NEW) ->> TG_ARGV[0])::uuid; END IF;
            IF old_id IS NOT NULL AND old_id IS DISTINCT FROM new_id THEN
                INSERT INTO dataverse_emulator.versions AS v (schema_name, entity, id, version, deleted)
                VALUES (TG_TABLE_SCHEMA, TG_TABLE_NAME, old_id, nextval('dataverse_emulator.row_version'), true)
                ON CONFLICT (schema_name, entity, id) DO UPDATE SET version = EXCLUDED.version, deleted = true,
                    changed_xid = pg_current_xact_id(), changed_at = now();
            END IF;
            IF new_id IS NOT NULL THEN
                INSERT INTO dataverse_emulator.versions AS v (schema_name, entity, id, version, deleted)
                VALUES (TG_TABLE_SCHEMA, TG_TABLE_NAME, new_id, nextval('dataverse_emulator.row_version'), false)
                ON CONFLICT (schema_name, entity, id) DO UPDATE SET version = EXCLUDED.version, deleted = false,
                    changed_xid = pg_current_xact_id(), changed_at = now();
            END IF;
            RETURN NULL;
        END $$;
        """

    /// Installs the bookkeeping and a trigger on every entity table, and gives existing records a version.
    static func install(catalog: Catalog, on connection: PostgresConnection) async throws {
        try await connection.withTransaction { connection in
            // One installer at a time (two emulators starting on one database).
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext('dataverse_emulator install'))")
            try await connection.runScript("SET LOCAL client_min_messages = warning", name: "emulator quiet install")
            try await connection.runScript(script, name: "emulator bookkeeping")
            for entity in catalog.entities.values.sorted(by: { $0.logicalName < $1.logicalName }) {
                try await installTrigger(entity, on: connection)
            }
        }
    }

    private static func installTrigger(_ entity: EntityInfo, on connection: PostgresConnection) async throws {
        let key = try PostgresIdentifier(entity.primaryIdAttribute)
        let quotedKey = "'" + entity.primaryIdAttribute.replacingOccurrences(of: "'", with: "''") + "'"
        try await connection.query("DROP TRIGGER IF EXISTS dataverse_emulator_track ON \(entity.table)")
        try await connection.query(
            PostgresQuery(
                unsafeSQL: "CREATE TRIGGER dataverse_emulator_track AFTER INSERT OR UPDATE OR DELETE ON \(entity.table.quoted) "
                    + "FOR EACH ROW EXECUTE FUNCTION dataverse_emulator.track_change(\(quotedKey))"))
        try await connection.query(
            """
            INSERT INTO dataverse_emulator.versions (schema_name, entity, id, version)
            SELECT \(entity.schema), \(entity.logicalName), t.\(key), nextval('dataverse_emulator.row_version')
            FROM \(entity.table) t ON CONFLICT DO NOTHING
            """, name: "emulator version backfill")
    }
}
