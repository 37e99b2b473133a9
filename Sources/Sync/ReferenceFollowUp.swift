import Foundation
import Logging
import Postgres

/// Once records are coupled, the value that a lookup clearing on failure wrote empty for want of
/// their coupling is written: only that field, on the coupled records that refer to them.
///
/// Business Central couples contacts after customers: on the first synchronization a customer's
/// primary contact is not coupled yet, so its "Clear Value on Failed Sync" field is written empty,
/// and Business Central sets the account's primary contact in code when it couples the contact.
/// Without that step the account kept no primary contact, and a change to the account carried the
/// empty value back over the customer's. Here, after a run of mapping M coupled records, each other
/// enabled mapping X with a field whose rules `lookup(M)` and that clears on failure is visited, under
/// X's own lock: for its coupled records whose field names one of the new couplings, the field's
/// value through its rules is written to the counterpart where it differs — that field alone, only if
/// the counterpart still carries the modified-on just read. The source's stamp is left as it is (its
/// other changes still travel); the counterpart's advances past the write only when it was in step
/// (a person's change to it still travels back). A record the counterpart refuses is logged and left.
struct ReferenceFollowUp {
    let coordination: PostgresConnection
    let logger: Logger

    /// Couplings read, and records read and written, per statement.
    static let batchSize = 1000

    /// A field of another mapping that looks up the referenced mapping and clears on failure, in one direction.
    struct Dependent {
        var mapping: MappingDefinition
        var field: FieldMapping
        var direction: SyncDirection
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

    /// Writes the dependent's field on the counterparts of its records that refer to a coupling of
    /// `referenced` made at or after `since` (the coordination database's clock), through `pass` (the
    /// dependent mapping's pass in the lookup's direction). Returns how many records it wrote.
    @discardableResult
    func refresh(
        _ dependent: Dependent, of referenced: String, coupledSince since: Date, through pass: SyncPass
    ) async throws -> Int {
        var written = 0
        var after: String?
        while case let batch = try await newCouplings(of: referenced, since: since, after: after), let last = batch.last {
            let keys = Dictionary(
                batch.map { dependent.direction == .toIntegration ? ($0.local, $0.integration) : ($0.integration, $0.local) },
                uniquingKeysWith: { first, _ in first })
            let referring = try await referringPairs(dependent, keys: Array(keys.keys), reading: pass.source)
            for start in stride(from: 0, to: referring.count, by: Self.batchSize) {
                let pairs = Array(referring[start..<min(start + Self.batchSize, referring.count)])
                written += try await write(dependent, pairs: pairs, through: pass) { mapping, value in mapping == referenced ? keys[value] : nil }
            }
            after = last.local
        }
        return written
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

    /// The dependent's coupled pairs, as (source id, target id) in the lookup's direction, whose
    /// source record's field holds one of `keys`.
    private func referringPairs(
        _ dependent: Dependent, keys: [String], reading source: any TableEndpoint
    ) async throws -> [(source: String, target: String)] {
        let referring = try await source.ids(whose: dependent.field.field(on: dependent.direction.source), isAnyOf: keys)
        guard !referring.isEmpty else { return [] }
        let (sourceColumn, targetColumn) = try Self.idColumns(dependent.direction)
        return try await coordination.query(
            """
            SELECT \(sourceColumn), \(targetColumn) FROM couplet.couplings
            WHERE mapping = \(dependent.mapping.settings.name) AND \(sourceColumn) = ANY(\(referring)::text[]) ORDER BY 1
            """, name: "coupled referring records"
        ).map { try $0.decode((String, String).self) }
    }

    /// Writes the field on the pairs' targets where its value through the rules differs; returns how many were written.
    private func write(
        _ dependent: Dependent, pairs: [(source: String, target: String)], through pass: SyncPass, lookup: @escaping LookupResolver
    ) async throws -> Int {
        let field = dependent.field
        let (from, to) = (field.field(on: dependent.direction.source), field.field(on: dependent.direction.target))
        let sources = Dictionary(try await pass.source.records(ids: pairs.map(\.source)).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let targets = Dictionary(try await pass.target.records(ids: pairs.map(\.target)).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let changes: [RecordChange] = pairs.compactMap { pair in
            guard let source = sources[pair.source], let target = targets[pair.target],
                  let value = try? field.transformation(for: dependent.direction).apply(to: source.values[from] ?? nil, lookup: lookup),
                  !field.comparison.same(value, target.values[to] ?? nil)
            else { return nil }
            return RecordChange(id: pair.target, values: [to: value], expected: target.stamp)
        }
        let written = try await update(changes, dependent, through: pass)
        try await advanceTargetStamps(dependent, written: written, read: targets)
        return written.count
    }

    /// Writes `changes`, leaving (and logging) each record the target refuses. Returns the new
    /// state of each record written.
    private func update(_ changes: [RecordChange], _ dependent: Dependent, through pass: SyncPass) async throws -> [String: RecordStamp] {
        guard !changes.isEmpty else { return [:] }
        var written: [String: RecordStamp] = [:]
        for (change, result) in zip(changes, try await pass.target.update(changes)) {
            switch result {
            case .success(let stamp): written[change.id] = stamp
            case .failure(let refusal):
                logger.warning(
                    "cannot write the value a coupling completed",
                    metadata: ["mapping": "\(dependent.mapping.settings.name)", "record": "\(change.id)", "error": "\(refusal.detail)"])
            }
        }
        return written
    }

    /// Moves each written target's stored state to its new one where it was the state read before
    /// the write: a target in step stays in step, one a person changed stays changed.
    private func advanceTargetStamps(
        _ dependent: Dependent, written: [String: RecordStamp], read targets: [String: SyncRecord]
    ) async throws {
        let moved = written.keys.sorted().compactMap { id in
            targets[id].flatMap { read in written[id].map { (id: id, read: read.stamp, written: $0) } }
        }
        guard !moved.isEmpty else { return }
        let (_, targetColumn) = try Self.idColumns(dependent.direction)
        let side = dependent.direction.target == .local ? "local" : "integration"
        let (stamp, version) = (try PostgresIdentifier(side + "_modified_at"), try PostgresIdentifier(side + "_version"))
        try await coordination.query(
            """
            UPDATE couplet.couplings c SET \(stamp) = w.written, \(version) = w.written_version
            FROM unnest(\(moved.map(\.id))::text[], \(moved.map(\.read.modifiedOn))::timestamptz[], \(moved.map(\.read.version))::text[],
                        \(moved.map(\.written.modifiedOn))::timestamptz[], \(moved.map(\.written.version))::text[])
                 AS w(id, read, read_version, written, written_version)
            WHERE c.mapping = \(dependent.mapping.settings.name) AND c.\(targetColumn) = w.id AND c.\(stamp) = w.read
              AND (c.\(version) IS NULL OR c.\(version) = w.read_version)
            """, name: "advance stamps of completed values")
    }

    /// The couplings' id columns of the lookup direction's source and target.
    private static func idColumns(_ direction: SyncDirection) throws -> (source: PostgresIdentifier, target: PostgresIdentifier) {
        let local = try PostgresIdentifier("local_id"), integration = try PostgresIdentifier("integration_id")
        return direction.source == .local ? (local, integration) : (integration, local)
    }
}
