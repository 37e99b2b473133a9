import Foundation
import Postgres

/// Once records are coupled, the coupled records that refer to them through a lookup that clears on
/// failure are synchronized again, so that the value cleared for want of the coupling arrives.
///
/// Business Central couples contacts after customers: on the first synchronization a customer's
/// primary contact is not coupled yet, its "Clear Value on Failed Sync" field is written empty, and
/// Business Central sets the account's primary contact in code when it couples the contact. Without
/// such a step the account kept no primary contact until the customer changed again, and a change
/// to the account meanwhile carried the empty value back over the customer's. Here, after a run of
/// mapping M coupled records, each other enabled mapping X with a field whose rules `lookup(M)` and
/// that clears on failure has the couplings of its records whose field names one of the new
/// couplings marked unsynced on the lookup's source side: the next run of X (a delta retries such
/// pairs first, and a held schedule's probe sees them) synchronizes them again, writing only what
/// differs and following X's conflict policy like any other run.
struct ReferenceFollowUp {
    let coordination: PostgresConnection
    let endpoints: EndpointDirectory

    /// Couplings read, and ids sent to an endpoint, per statement.
    static let batchSize = 1000

    /// A field of another mapping that looks up `referenced` and clears on failure, in one direction.
    struct Dependent {
        var mapping: MappingDefinition
        var field: FieldMapping
        var direction: SyncDirection

        /// The side whose column holds the referenced mapping's keys: the pass's source.
        var side: SyncSide { direction.source }
    }

    /// Marks unsynced the dependents' couplings whose records refer to a coupling of `referenced` made
    /// at or after `since` (the coordination database's clock). Returns how many it marked.
    @discardableResult
    func markReferringUnsynced(after referenced: String, coupledSince since: Date) async throws -> Int {
        let dependents = try await dependents(of: referenced)
        guard !dependents.isEmpty else { return 0 }
        var marked = 0
        var after: String?
        while case let batch = try await newCouplings(of: referenced, since: since, after: after), let last = batch.last {
            for dependent in dependents {
                let keys = batch.map { dependent.side == .local ? $0.local : $0.integration }
                marked += try await markUnsynced(dependent, referring: keys)
            }
            after = last.local
        }
        return marked
    }

    /// The enabled mappings' fields that look up `referenced` and clear on failure, with the direction of each lookup.
    func dependents(of referenced: String) async throws -> [Dependent] {
        let names = try await coordination.query(
            """
            SELECT DISTINCT f.mapping FROM couplet.field_mappings f JOIN couplet.table_mappings t ON t.name = f.mapping
            WHERE f.clear_on_failure AND t.enabled AND f.mapping <> \(referenced) ORDER BY f.mapping
            """, name: "mappings clearing lookups on failure"
        ).map { try $0.decode(String.self, at: 0) }
        var dependents: [Dependent] = []
        for name in names {
            let mapping = try await MappingStore.load(name, on: coordination)
            for field in mapping.fields where field.clearOnFailure && field.constant == nil {
                for direction in mapping.settings.direction.passes
                where field.direction.includes(direction) && field.transformation(for: direction).referencedMappings.contains(referenced) {
                    dependents.append(Dependent(mapping: mapping, field: field, direction: direction))
                }
            }
        }
        return dependents
    }

    /// Up to a batch of `referenced`'s couplings made at or after `since`, in local-id order after `after`.
    private func newCouplings(of referenced: String, since: Date, after: String?) async throws -> [(local: String, integration: String)] {
        try await coordination.query(
            """
            SELECT local_id, integration_id FROM couplet.couplings
            WHERE mapping = \(referenced) AND coupled_at >= \(since) AND (\(after)::text IS NULL OR local_id > \(after))
            ORDER BY local_id LIMIT \(Self.batchSize)
            """, name: "new couplings"
        ).map { try $0.decode((String, String).self) }
    }

    /// Clears the dependent's source-side stamp on the couplings of its records whose field holds one of `keys`.
    private func markUnsynced(_ dependent: Dependent, referring keys: [String]) async throws -> Int {
        let referring = try await records(of: dependent, referring: keys)
        guard !referring.isEmpty else { return 0 }
        let (idColumn, stampColumn) = dependent.side == .local
            ? (try PostgresIdentifier("local_id"), try PostgresIdentifier("local_modified_at"))
            : (try PostgresIdentifier("integration_id"), try PostgresIdentifier("integration_modified_at"))
        return try await coordination.query(
            """
            WITH marked AS (
                UPDATE couplet.couplings SET \(stampColumn) = NULL
                WHERE mapping = \(dependent.mapping.settings.name) AND \(idColumn) = ANY(\(referring)::text[]) AND \(stampColumn) IS NOT NULL
                RETURNING 1)
            SELECT count(*) FROM marked
            """, name: "mark referring couplings unsynced"
        ).single().decode(Int.self, at: 0)
    }

    /// The keys of the dependent's records, on its source side, whose field holds one of `keys`.
    private func records(of dependent: Dependent, referring keys: [String]) async throws -> [String] {
        let side = dependent.mapping.side(dependent.side)
        let column = try PostgresIdentifier(dependent.field.field(on: dependent.side))
        let endpoint = try await endpoints.connect(side.endpoint)
        defer { endpoint.close() }
        return try await endpoint.query(
            "SELECT \(side.key)::text FROM \(side.table) WHERE \(column)::text = ANY(\(keys)::text[])", name: "records referring to new couplings"
        ).map { try $0.decode(String.self, at: 0) }
    }
}
