import Foundation
import Postgres

/// A table an emulator serves and keeps row versions for.
public struct TrackedTable: Sendable {
    /// The table's schema.
    public var schema: String
    /// The table's name (recorded as the `entity` of its versions).
    public var name: String
    /// The uuid primary key column.
    public var key: String
    /// A timestamptz column the emulator sets to the clock on every insert and update, whatever the
    /// client sent (Business Central's `lastModifiedDateTime`); nil for none.
    public var stampColumn: String?

    /// A table to track.
    public init(schema: String, name: String, key: String, stampColumn: String? = nil) {
        self.schema = schema
        self.name = name
        self.key = key
        self.stampColumn = stampColumn
    }
}

/// An emulator's bookkeeping in its own schema: a row version per record (the etag), deletions kept
/// as tombstones for change tracking, and the transaction that wrote each, so a delta token (the
/// oldest transaction still running when it was issued) misses no late commit.
///
/// Installed idempotently at start; the served tables only gain triggers (`<schema>_track`, and
/// `<schema>_stamp` where a stamp column is kept), never a column.
public struct RowVersions: Sendable {
    /// The bookkeeping schema, a constant of the emulator (so it is safe to write into SQL).
    public let schema: String

    /// The bookkeeping in `schema`, such as `dataverse_emulator`.
    public init(schema: StaticString) {
        self.schema = "\(schema)"
    }

    /// Creates the schema, sequence, table and trigger functions if missing.
    var script: String {
        """
        CREATE SCHEMA IF NOT EXISTS \(schema);
        CREATE SEQUENCE IF NOT EXISTS \(schema).row_version;
        CREATE TABLE IF NOT EXISTS \(schema).versions (
            schema_name text NOT NULL, entity text NOT NULL, id uuid NOT NULL, version bigint NOT NULL,
            deleted boolean NOT NULL DEFAULT false, changed_xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
            changed_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (schema_name, entity, id));
        CREATE INDEX IF NOT EXISTS versions_changed ON \(schema).versions (schema_name, entity, changed_xid);
        CREATE OR REPLACE FUNCTION \(schema).track_change() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            old_id uuid;
            new_id uuid;
        BEGIN
            IF TG_OP <> 'INSERT' THEN old_id := (to_jsonb(OLD) ->> TG_ARGV[0])::uuid; END IF;
            IF TG_OP <> 'DELETE' THEN new_id := (to_jsonb(NEW) ->> TG_ARGV[0])::uuid; END IF;
            IF old_id IS NOT NULL AND old_id IS DISTINCT FROM new_id THEN
                INSERT INTO \(schema).versions AS v (schema_name, entity, id, version, deleted)
                VALUES (TG_TABLE_SCHEMA, TG_TABLE_NAME, old_id, nextval('\(schema).row_version'), true)
                ON CONFLICT (schema_name, entity, id) DO UPDATE SET version = EXCLUDED.version, deleted = true,
                    changed_xid = pg_current_xact_id(), changed_at = now();
            END IF;
            IF new_id IS NOT NULL THEN
                INSERT INTO \(schema).versions AS v (schema_name, entity, id, version, deleted)
                VALUES (TG_TABLE_SCHEMA, TG_TABLE_NAME, new_id, nextval('\(schema).row_version'), false)
                ON CONFLICT (schema_name, entity, id) DO UPDATE SET version = EXCLUDED.version, deleted = false,
                    changed_xid = pg_current_xact_id(), changed_at = now();
            END IF;
            RETURN NULL;
        END $$;
        CREATE OR REPLACE FUNCTION \(schema).stamp() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW := jsonb_populate_record(NEW, jsonb_build_object(TG_ARGV[0], clock_timestamp()));
            RETURN NEW;
        END $$;
        """
    }

    /// Installs the bookkeeping and the triggers on `tables`, and gives existing records a version.
    public func install(_ tables: [TrackedTable], on connection: PostgresConnection) async throws {
        try await connection.withTransaction { connection in
            // One installer at a time (two emulators starting on one database).
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\(schema + " install")))")
            try await connection.runScript("SET LOCAL client_min_messages = warning", name: "emulator quiet install")
            try await connection.runScript(script, name: "emulator bookkeeping")
            for table in tables.sorted(by: { ($0.schema, $0.name) < ($1.schema, $1.name) }) {
                try await installTriggers(table, on: connection)
            }
        }
    }

    private func installTriggers(_ table: TrackedTable, on connection: PostgresConnection) async throws {
        let identifier = try PostgresIdentifier(table.name, schema: table.schema)
        let key = try PostgresIdentifier(table.key)
        try await connection.query(PostgresQuery(unsafeSQL: "DROP TRIGGER IF EXISTS \(schema)_track ON \(identifier.quoted)"))
        try await connection.query(
            PostgresQuery(
                unsafeSQL: "CREATE TRIGGER \(schema)_track AFTER INSERT OR UPDATE OR DELETE ON \(identifier.quoted) "
                    + "FOR EACH ROW EXECUTE FUNCTION \(schema).track_change(\(Self.literal(table.key)))"))
        try await connection.query(PostgresQuery(unsafeSQL: "DROP TRIGGER IF EXISTS \(schema)_stamp ON \(identifier.quoted)"))
        if let column = table.stampColumn {
            try await connection.query(
                PostgresQuery(
                    unsafeSQL: "CREATE TRIGGER \(schema)_stamp BEFORE INSERT OR UPDATE ON \(identifier.quoted) "
                        + "FOR EACH ROW EXECUTE FUNCTION \(schema).stamp(\(Self.literal(column)))"))
        }
        try await connection.query(
            """
            INSERT INTO \(PostgresQuery(unsafeSQL: schema)).versions (schema_name, entity, id, version)
            SELECT \(table.schema), \(table.name), t.\(key), nextval(\(schema + ".row_version")::regclass)
            FROM \(identifier) t ON CONFLICT DO NOTHING
            """, name: "emulator version backfill")
    }

    // MARK: Reading versions

    /// `LEFT JOIN` of the versions of `entity` in `schema` to the table aliased `t` whose key is `key`
    /// (alias `v`; `coalesce(v.version, 0)` is a record's version).
    public func join(schema tableSchema: String, entity: String, key: PostgresIdentifier) -> PostgresQuery {
        """
        LEFT JOIN \(PostgresQuery(unsafeSQL: schema)).versions v ON v.schema_name = \(tableSchema) AND v.entity = \(entity) \
        AND v.id = t.\(key)
        """
    }

    /// Locks the record `id` of `table` (`FOR UPDATE`) and returns its version, or nil when it is not there.
    ///
    /// The version is read by a second statement once the lock is held: a writer that held the lock
    /// first has committed its new version by then, and only a new statement sees it (a locking
    /// read that waited re-reads the locked row alone, not the version row joined to it).
    public func lockedVersion(
        of id: String, in table: PostgresIdentifier, schema tableSchema: String, entity: String, key: PostgresIdentifier,
        on connection: PostgresConnection
    ) async throws -> String? {
        let locked = try await connection.query("SELECT FROM \(table) t WHERE t.\(key) = \(id)::uuid FOR UPDATE", name: "emulator lock record")
        guard !locked.isEmpty else { return nil }
        let rows = try await connection.query(
            """
            SELECT coalesce(v.version, 0)::text FROM \(table) t \(join(schema: tableSchema, entity: entity, key: key))
            WHERE t.\(key) = \(id)::uuid
            """, name: "emulator current version")
        return try rows.first?.decode(String.self, at: 0)
    }

    /// A trigger argument: a string literal, quotes doubled.
    private static func literal(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }
}
