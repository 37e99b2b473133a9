import Foundation
import Postgres

/// What a batch is about to write to one target record, stored in `couplet.write_intents` before
/// the write and deleted with the batch's couplings, in one transaction, after it.
///
/// The write to the target and the coupling save are commits in two databases. A worker killed
/// between them (or while its statement runs: the server finishes it after the client is gone)
/// leaves a target record written and a coupling holding the old modified-on; the next run would
/// take the integration's own write for a person's change and, in a conflict, copy it back over
/// a newer edit. An intent left behind tells the next run what the record holds if the write
/// happened, so the run records the write as its own instead.
struct WriteIntent: Sendable {
    /// Whether the intent is for a new record or a change to a coupled one.
    enum Operation: String, Sendable {
        case insert
        case update
    }

    /// The source record the write carries.
    var sourceID: String
    /// Insert or update.
    var operation: Operation
    /// The target record's key; nil for an insert whose key the database assigns on insert.
    var targetID: String?
    /// The key was assigned by Couplet: a record holding it can only be the one Couplet wrote.
    var keyAssigned: Bool
    /// The target's column values after the write.
    var expected: FieldValues
    /// The source's state the write was computed from.
    var source: RecordStamp
}

/// Reads and writes `couplet.write_intents` for one mapping and direction.
struct WriteIntents {
    let mapping: String
    let direction: SyncDirection
    let coordination: PostgresConnection

    /// Stores the intents of a batch before its writes (one statement, committed at once).
    func record(_ intents: [WriteIntent], runID: Int64) async throws {
        guard !intents.isEmpty else { return }
        try await coordination.query(
            """
            INSERT INTO couplet.write_intents AS w
                (mapping, direction, source_id, operation, target_id, key_assigned, expected, source_modified_at, source_version, run_id)
            SELECT \(mapping), \(direction.storedName), i.source_id, i.operation, i.target_id, i.key_assigned, i.expected::jsonb,
                   i.source_modified_at, i.source_version, \(runID)
            FROM unnest(\(intents.map(\.sourceID)), \(intents.map(\.operation.rawValue)), \(intents.map(\.targetID)),
                        \(intents.map(\.keyAssigned)), \(intents.map { RecordsJSON.encode($0.expected) }),
                        \(intents.map(\.source.modifiedOn)), \(intents.map(\.source.version)))
                 AS i(source_id, operation, target_id, key_assigned, expected, source_modified_at, source_version)
            ON CONFLICT (mapping, direction, source_id) DO UPDATE SET
                operation = excluded.operation, target_id = excluded.target_id, key_assigned = excluded.key_assigned,
                expected = excluded.expected, source_modified_at = excluded.source_modified_at,
                source_version = excluded.source_version, run_id = excluded.run_id,
                created_at = now()
            """, name: "record write intents")
    }

    /// Deletes the intents of these source records; run in the transaction that saves their couplings.
    func clear(sourceIDs: [String], on db: PostgresConnection) async throws {
        guard !sourceIDs.isEmpty else { return }
        try await db.query(
            """
            DELETE FROM couplet.write_intents
            WHERE mapping = \(mapping) AND direction = \(direction.storedName) AND source_id = ANY(\(sourceIDs))
            """, name: "clear write intents")
    }

    /// Up to `limit` intents left behind by runs other than `runID`, after source id `after`.
    func leftBehind(besides runID: Int64, after: String, limit: Int) async throws -> [WriteIntent] {
        try await coordination.query(
            """
            SELECT source_id, operation, target_id, key_assigned, expected::text, source_modified_at, source_version
            FROM couplet.write_intents
            WHERE mapping = \(mapping) AND direction = \(direction.storedName) AND run_id <> \(runID) AND source_id > \(after)
            ORDER BY source_id LIMIT \(limit)
            """, name: "intents left behind"
        ).map { row in
            let (sourceID, operation, targetID, keyAssigned, expected, sourceModifiedOn, sourceVersion) = try row.decode(
                (String, String, String?, Bool, String, Date, String?).self)
            return WriteIntent(
                sourceID: sourceID, operation: WriteIntent.Operation(rawValue: operation) ?? .update, targetID: targetID,
                keyAssigned: keyAssigned, expected: RecordsJSON.decodeObject(expected) ?? [:],
                source: RecordStamp(modifiedOn: sourceModifiedOn, version: sourceVersion))
        }
    }
}
