import Foundation
import Postgres

/// Reads and writes `couplet.couplings`, a batch per statement.
public enum CouplingStore {
    /// Removes up to `limit` couplings of `mapping`; returns how many (0 when none are left).
    public static func uncouple(mapping: String, limit: Int, on db: PostgresConnection) async throws -> Int {
        try await db.query(
            """
            DELETE FROM couplet.couplings WHERE (mapping, local_id) IN (
                SELECT mapping, local_id FROM couplet.couplings WHERE mapping = \(mapping) LIMIT \(limit))
            """, name: "uncouple batch"
        ).affectedRows
    }

    /// Releases skipped records (coupled or not) so the next run retries them; returns how many.
    public static func retrySkipped(mapping: String, on db: PostgresConnection) async throws -> Int {
        try await db.withTransaction { tx in
            let coupled = try await tx.query(
                "UPDATE couplet.couplings SET skipped = false WHERE mapping = \(mapping) AND skipped", name: "retry skipped couplings"
            ).affectedRows
            let uncoupled = try await tx.query(
                "UPDATE couplet.sync_failures SET skipped = false WHERE mapping = \(mapping) AND skipped", name: "retry skipped failures"
            ).affectedRows
            return coupled + uncoupled
        }
    }

    /// The couplings of records on `side` with these ids, keyed by that id.
    static func load(mapping: String, side: SyncSide, ids: [String], on db: PostgresConnection) async throws -> [String: Coupling] {
        let idColumn = try PostgresIdentifier(side == .local ? "local_id" : "integration_id")
        let rows = try await db.query(
            """
            SELECT c.local_id, c.integration_id, c.local_modified_at, c.local_version, c.local_result, c.local_error,
                   c.local_error_class, c.local_run_at, c.local_fields::text, c.integration_modified_at, c.integration_version,
                   c.integration_result, c.integration_error, c.integration_error_class, c.integration_run_at,
                   c.integration_fields::text, c.skipped
            FROM unnest(\(ids)::text[]) AS i(id)
            CROSS JOIN LATERAL (SELECT * FROM couplet.couplings WHERE mapping = \(mapping) AND \(idColumn) = i.id) AS c
            """, name: "load couplings")
        var couplings: [String: Coupling] = [:]
        for row in rows {
            let (localID, integrationID) = try row.decode((String, String).self)
            let coupling = Coupling(
                localID: localID, integrationID: integrationID, local: try couplingSide(row, from: 2),
                integration: try couplingSide(row, from: 9), isSkipped: try row.decode(Bool.self, at: 16))
            couplings[side == .local ? localID : integrationID] = coupling
        }
        return couplings
    }

    private static func couplingSide(_ row: PostgresRow, from offset: Int) throws -> CouplingSide {
        let version = try row.decode(String?.self, at: offset + 1)
        return CouplingSide(
            lastSynced: try row.decode(Date?.self, at: offset).map { RecordStamp(modifiedOn: $0, version: version) },
            lastResult: try row.decode(String?.self, at: offset + 2).flatMap(SyncResult.init(rawValue:)),
            lastError: try row.decode(String?.self, at: offset + 3), lastErrorClass: try row.decode(String?.self, at: offset + 4),
            lastRun: try row.decode(Date?.self, at: offset + 5),
            fields: try row.decode(String?.self, at: offset + 6).flatMap(FieldFingerprints.init(json:)))
    }

    /// Inserts or replaces these couplings in one statement.
    static func save(_ couplings: [Coupling], mapping: String, on db: PostgresConnection) async throws {
        guard !couplings.isEmpty else { return }
        try await db.query(
            """
            INSERT INTO couplet.couplings AS c (mapping, local_id, integration_id, local_modified_at, local_version, local_result,
                local_error, local_error_class, local_run_at, local_fields, integration_modified_at, integration_version,
                integration_result, integration_error, integration_error_class, integration_run_at, integration_fields, skipped)
            SELECT \(mapping), local_id, integration_id, local_modified_at, local_version, local_result, local_error, local_error_class,
                local_run_at, local_fields::jsonb, integration_modified_at, integration_version, integration_result, integration_error,
                integration_error_class, integration_run_at, integration_fields::jsonb, skipped
            FROM unnest(\(couplings.map(\.localID)), \(couplings.map(\.integrationID)),
                \(couplings.map(\.local.lastSynced?.modifiedOn)), \(couplings.map(\.local.lastSynced?.version)),
                \(couplings.map { $0.local.lastResult?.rawValue }),
                \(couplings.map(\.local.lastError)), \(couplings.map(\.local.lastErrorClass)), \(couplings.map(\.local.lastRun)),
                \(couplings.map(\.local.fields?.json)),
                \(couplings.map(\.integration.lastSynced?.modifiedOn)), \(couplings.map(\.integration.lastSynced?.version)),
                \(couplings.map { $0.integration.lastResult?.rawValue }),
                \(couplings.map(\.integration.lastError)), \(couplings.map(\.integration.lastErrorClass)),
                \(couplings.map(\.integration.lastRun)), \(couplings.map(\.integration.fields?.json)), \(couplings.map(\.isSkipped)))
                AS u(local_id, integration_id, local_modified_at, local_version, local_result, local_error, local_error_class,
                     local_run_at, local_fields, integration_modified_at, integration_version, integration_result, integration_error,
                     integration_error_class, integration_run_at, integration_fields, skipped)
            ON CONFLICT (mapping, local_id) DO UPDATE SET
                integration_id = excluded.integration_id, local_modified_at = excluded.local_modified_at,
                local_version = excluded.local_version, integration_version = excluded.integration_version,
                local_result = excluded.local_result, local_error = excluded.local_error,
                local_error_class = excluded.local_error_class, local_run_at = excluded.local_run_at,
                integration_modified_at = excluded.integration_modified_at, integration_result = excluded.integration_result,
                integration_error = excluded.integration_error, integration_error_class = excluded.integration_error_class,
                integration_run_at = excluded.integration_run_at, skipped = excluded.skipped,
                local_fields = excluded.local_fields, integration_fields = excluded.integration_fields
            """, name: "save couplings")
    }

    /// Deletes the couplings of these local ids.
    static func remove(localIDs: [String], mapping: String, on db: PostgresConnection) async throws {
        guard !localIDs.isEmpty else { return }
        try await db.query(
            "DELETE FROM couplet.couplings WHERE mapping = \(mapping) AND local_id = ANY(\(localIDs))", name: "remove couplings")
    }
}

/// The couplings of other mappings that `lookup(...)` rules read, loaded once per batch.
struct LookupTable {
    private var targets: [String: [String: String]] = [:]

    /// Loads, for each mapping the pass's rules look up, the counterparts of the values in `records`.
    static func load(for diff: FieldDiff, direction: SyncDirection, records: [SyncRecord], on db: PostgresConnection) async throws -> LookupTable {
        var table = LookupTable()
        for field in diff.fields {
            let referenced = field.transformation(for: direction).referencedMappings
            guard !referenced.isEmpty else { continue }
            let values = Array(Set(records.compactMap { $0.values[field.field(on: direction.source)] ?? nil }))
            for mapping in referenced {
                let (from, to) = direction == .toIntegration ? ("local_id", "integration_id") : ("integration_id", "local_id")
                let rows = try await db.query(
                    """
                    SELECT \(try PostgresIdentifier(from)), \(try PostgresIdentifier(to)) FROM couplet.couplings
                    WHERE mapping = \(mapping) AND \(try PostgresIdentifier(from)) = ANY(\(values))
                    """, name: "lookup couplings")
                for row in rows {
                    let (value, target) = try row.decode((String, String).self)
                    table.targets[mapping, default: [:]][value] = target
                }
            }
        }
        return table
    }

    /// The counterpart of `value` through `mapping`'s couplings; nil when it is not coupled.
    func resolve(_ mapping: String, _ value: String) -> String? { targets[mapping]?[value] }
}
