import Postgres

/// Reads and writes `couplet.deleted_counterparts`: records whose coupled counterpart was deleted
/// and whose coupling the deletion policy removed. Such a record is not created on the other side
/// again — that would undo a person's deletion — until a person asks (a records run, or coupling
/// or uncoupling the record by hand, forgets it).
public enum DeletedCounterparts {
    /// Remembers survivors (their side, id and deleted counterpart's id).
    static func remember(_ survivors: [(side: SyncSide, id: String, counterpart: String)], mapping: String, on db: PostgresConnection) async throws {
        guard !survivors.isEmpty else { return }
        try await db.query(
            """
            INSERT INTO couplet.deleted_counterparts (mapping, side, record_id, counterpart_id)
            SELECT \(mapping), * FROM unnest(\(survivors.map(\.side.rawValue)), \(survivors.map(\.id)), \(survivors.map(\.counterpart)))
            ON CONFLICT (mapping, side, record_id) DO UPDATE SET counterpart_id = excluded.counterpart_id, uncoupled_at = now()
            """, name: "remember deleted counterparts")
    }

    /// The deleted counterparts of these records on `side`, keyed by record id.
    static func load(mapping: String, side: SyncSide, ids: [String], on db: PostgresConnection) async throws -> [String: String] {
        guard !ids.isEmpty else { return [:] }
        let rows = try await db.query(
            """
            SELECT record_id, counterpart_id FROM couplet.deleted_counterparts
            WHERE mapping = \(mapping) AND side = \(side.rawValue) AND record_id = ANY(\(ids))
            """, name: "load deleted counterparts")
        return Dictionary(try rows.map { try $0.decode((String, String).self) }, uniquingKeysWith: { first, _ in first })
    }

    /// Forgets these records of `side`: a person asked for them to be synchronized again.
    public static func forget(mapping: String, side: SyncSide, ids: [String], on db: PostgresConnection) async throws {
        guard !ids.isEmpty else { return }
        try await db.query(
            "DELETE FROM couplet.deleted_counterparts WHERE mapping = \(mapping) AND side = \(side.rawValue) AND record_id = ANY(\(ids))",
            name: "forget deleted counterparts")
    }
}
