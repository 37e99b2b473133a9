import Postgres

/// Match-based coupling's search, for the engine's pass and for `couplet verify` alike (writing
/// nothing): priority by priority, each source value through its field's rules for the pass's
/// direction, both sides normalised alike by `TableEndpoint.candidates`. The first priority that
/// finds candidates decides: one candidate is found, several are ambiguous; a candidate whose match
/// values other source records share is refused (a match is unique both ways), as is one coupled
/// already or claimed by an earlier record.
struct MatchProbe: Sendable {
    let mapping: MappingDefinition
    let direction: SyncDirection
    let source: any TableEndpoint
    let target: any TableEndpoint
    let coordination: PostgresConnection

    /// Each record's outcome, in the records' order.
    func outcomes(_ records: [SyncRecord]) async throws -> [(SyncRecord, MatchOutcome)] {
        var outcomes: [String: MatchOutcome] = [:]
        var pending = records
        for fields in Dictionary(grouping: mapping.matchFields, by: \.priority).sorted(by: { $0.key < $1.key }).map(\.value) {
            guard !pending.isEmpty else { break }
            let caseSensitive = fields.allSatisfy(\.caseSensitive)
            let tupled = pending.compactMap { record in Self.tuple(of: record, fields, direction: direction).map { (record, $0) } }
            let found = try await target.candidates(
                matching: fields.map { $0.field.field(on: direction.target) }, values: tupled.map(\.1), caseSensitive: caseSensitive)
            var foundHere: [(SyncRecord, String)] = []
            for ((record, _), ids) in zip(tupled, found) where !ids.isEmpty {
                outcomes[record.id] = ids.count == 1 ? .found(targetID: ids[0]) : .ambiguous(count: ids.count)
                if ids.count == 1 { foundHere.append((record, ids[0])) }
            }
            try await refuseDuplicateSources(foundHere, fields, caseSensitive: caseSensitive, &outcomes)
            pending = pending.filter { outcomes[$0.id] == nil }
        }
        return try await refuseTaken(records.map { ($0, outcomes[$0.id] ?? .notFound) })
    }

    /// Found matches whose (untransformed) values other source records share are refused rather
    /// than coupled by whichever comes first.
    private func refuseDuplicateSources(
        _ found: [(SyncRecord, String)], _ fields: [MatchField], caseSensitive: Bool, _ outcomes: inout [String: MatchOutcome]
    ) async throws {
        guard !found.isEmpty else { return }
        let sharing = try await source.candidates(
            matching: fields.map { $0.field.field(on: direction.source) },
            values: found.map { record, _ in fields.map { (record.values[$0.field.field(on: direction.source)] ?? nil) ?? "" } },
            caseSensitive: caseSensitive)
        for ((record, targetID), ids) in zip(found, sharing) where ids.count > 1 {
            outcomes[record.id] = .duplicateSources(targetID: targetID, count: ids.count)
        }
    }

    /// Turns a found target that is coupled already, or found for two records, into `alreadyCoupled`.
    private func refuseTaken(_ outcomes: [(SyncRecord, MatchOutcome)]) async throws -> [(SyncRecord, MatchOutcome)] {
        let found = outcomes.compactMap { if case .found(let id) = $0.1 { id } else { nil } }
        let coupled = try await CouplingStore.load(mapping: mapping.settings.name, side: direction.target, ids: found, on: coordination)
        var claimed: [String: String] = coupled.mapValues { $0.id(on: direction.source) }
        return outcomes.map { record, outcome in
            guard case .found(let id) = outcome else { return (record, outcome) }
            if let other = claimed[id] { return (record, .alreadyCoupled(targetID: id, coupledSourceID: other)) }
            claimed[id] = record.id
            return (record, outcome)
        }
    }

    /// The record's values of `fields` as the target would hold them (each through its field's
    /// rules for `direction`); nil when one is missing, empty or fails its rules — never matched.
    static func tuple(of record: SyncRecord, _ fields: [MatchField], direction: SyncDirection) -> [String]? {
        var tuple: [String] = []
        for match in fields {
            let raw = record.values[match.field.field(on: direction.source)] ?? nil
            guard let value = try? match.field.transformation(for: direction).apply(to: raw), !value.isEmpty else { return nil }
            tuple.append(value)
        }
        return tuple
    }
}
