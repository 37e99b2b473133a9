import Postgres
import Sync

/// A reference mappings file applied over the demo behind emulators: its mappings in dependency
/// order, the engine that runs them and the coordination database holding their couplings.
protocol ReferenceIntegration {
    /// The file's mappings, in dependency order.
    static var mappings: [String] { get }
    var engine: SyncEngine { get }
    var coordination: PostgresConnection { get }
}

/// Running a reference's mappings and reading what they left.
extension ReferenceIntegration {
    /// Runs every mapping's full sync in dependency order; returns each mapping's counts, both directions added up.
    @discardableResult
    func fullSyncs() async throws -> [String: SyncCounts] {
        var all: [String: SyncCounts] = [:]
        for mapping in Self.mappings {
            all[mapping] = try await engine.run(mapping: mapping, kind: .full).values.reduce(into: SyncCounts()) { sum, counts in
                sum.inserted += counts.inserted
                sum.modified += counts.modified
                sum.failed += counts.failed
                sum.coupled += counts.coupled
            }
        }
        return all
    }

    /// A mapping's couplings: local id → integration id.
    func pairs(_ mapping: String) async throws -> [String: String] {
        let rows = try await coordination.query("SELECT local_id, integration_id FROM couplet.couplings WHERE mapping = \(mapping)")
        return Dictionary(try rows.map { try $0.decode((String, String).self) }, uniquingKeysWith: { first, _ in first })
    }

    /// The open sync errors of `mapping`, each as its record's id and message.
    func errors(_ mapping: String) async throws -> [String] {
        try await coordination.query(
            """
            SELECT coalesce(local_id, integration_id) || ': ' || record_message FROM couplet.sync_errors
            WHERE mapping = \(mapping) AND closed_at IS NULL
            """).map { try $0.decode(String.self, at: 0) }
    }
}
