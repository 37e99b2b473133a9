import Foundation
import Postgres

/// The couplings statements of `couplet verify`: keyset pages over a mapping's couplings, and the
/// mark that hands a pair to the engine as changed.
extension CouplingStore {
    /// Up to `limit` coupled pairs of `mapping` whose local id comes after `after` (all when nil),
    /// in local-id order: one page of a walk over every coupling that holds one page in memory.
    /// Only the ids: the rest of a coupling is loaded (`load`) for the few pairs that need it.
    static func page(mapping: String, after: String?, limit: Int, on db: PostgresConnection) async throws -> [CoupledPair] {
        let after: PostgresQuery = after.map { "AND local_id > \($0)" } ?? ""
        return try await db.query(
            """
            SELECT local_id, integration_id FROM couplet.couplings
            WHERE mapping = \(mapping) \(after) ORDER BY local_id LIMIT \(limit)
            """, name: "page couplings"
        ).map { row in CoupledPair(localID: try row.decode(String.self, at: 0), integrationID: try row.decode(String.self, at: 1)) }
    }

    /// Which of these ids of `side` are coupled in `mapping`: a page of a side's keys told coupled
    /// from uncoupled with one lookup on the couplings' index, never a scan of the whole mapping.
    static func coupledIDs(mapping: String, side: SyncSide, among ids: [String], on db: PostgresConnection) async throws -> Set<String> {
        guard !ids.isEmpty else { return [] }
        let column = try PostgresIdentifier(side == .local ? "local_id" : "integration_id")
        return Set(try await db.query(
            "SELECT \(column) FROM couplet.couplings WHERE mapping = \(mapping) AND \(column) = ANY(\(ids)::text[])",
            name: "coupled ids"
        ).map { try $0.decode(String.self, at: 0) })
    }

    /// Marks `side` of the pairs with these local ids as changed since its last sync (forgets its
    /// synced modified-on), so that the next pass from `side` compares every field and writes
    /// what differs. Returns how many couplings were marked.
    ///
    /// This is how `couplet verify --repair` hands drift to the engine: the records look unchanged
    /// by their modified-on, so without the mark a records run would count them unchanged.
    static func markChanged(mapping: String, side: SyncSide, localIDs: [String], on db: PostgresConnection) async throws -> Int {
        guard !localIDs.isEmpty else { return 0 }
        let column = try PostgresIdentifier(side == .local ? "local_modified_at" : "integration_modified_at")
        return try await db.query(
            "UPDATE couplet.couplings SET \(column) = NULL WHERE mapping = \(mapping) AND local_id = ANY(\(localIDs))",
            name: "mark couplings changed"
        ).affectedRows
    }
}

/// The two ids of a coupled pair.
struct CoupledPair: Sendable, Hashable {
    let localID: String
    let integrationID: String
}
