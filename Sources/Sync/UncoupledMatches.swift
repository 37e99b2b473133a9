import Foundation
import Postgres

/// What a person does about an uncoupled record that match-based coupling would couple.
public enum MatchAction: Sendable, Equatable {
    /// `couplet match MAPPING` couples it (and so does a full sync): the record is on the side of the mapping's first pass.
    case matchRun
    /// A full sync couples it: the record is on the side of the second pass, which `couplet match` does not run.
    case fullSync
    /// The mapping synchronizes only coupled records, so no run matches: `couplet couple` by hand.
    case coupleByHand
}

/// An uncoupled record whose match fields find exactly one uncoupled counterpart: matching would
/// couple the two, as the engine's match does.
public struct MatchFinding: Sendable, Equatable {
    /// The side of the uncoupled record the engine's pass starts from.
    public var side: SyncSide
    /// That record's key.
    public var id: String
    /// The key of the record on the other side it would couple with.
    public var counterpartID: String
    /// What couples them.
    public var action: MatchAction

    /// The record `id` on `side` would couple with `counterpartID`.
    public init(side: SyncSide, id: String, counterpartID: String, action: MatchAction) {
        self.side = side
        self.id = id
        self.counterpartID = counterpartID
        self.action = action
    }

    /// The local (ERP) key of the pair.
    public var localID: String { side == .local ? id : counterpartID }
    /// The integration (CRM) key of the pair.
    public var integrationID: String { side == .local ? counterpartID : id }
}

/// Records of one side that share their match fields' normalised values: matching refuses each
/// of them that is uncoupled (several candidates, or several sources for one target).
public struct DuplicateFinding: Sendable, Equatable {
    /// The side the records are on.
    public var side: SyncSide
    /// The match fields of one priority, on that side, in configuration order.
    public var fields: [String]
    /// The shared values and the records holding them.
    public var group: DuplicateGroup

    /// Records on `side` sharing `fields`' values.
    public init(side: SyncSide, fields: [String], group: DuplicateGroup) {
        self.side = side
        self.fields = fields
        self.group = group
    }
}

/// `couplet verify`'s look at the records no coupling covers: which would couple by the mapping's
/// match fields, and which share their match values with others on their side.
///
/// Each side a pass starts from is walked in key order, a page of keys at a time; the page's
/// couplings are looked up by its ids (never an anti-join over the whole mapping), and only its
/// uncoupled records are read and matched. Duplicates are grouped by the endpoint's server, per
/// side and match priority. Memory follows the page and the report's limit, not the tables.
struct UncoupledMatches: Sendable {
    let mapping: MappingDefinition
    let coordination: PostgresConnection
    let local: PostgresTableEndpoint
    let integration: PostgresTableEndpoint

    private func endpoint(_ side: SyncSide) -> PostgresTableEndpoint { side == .local ? local : integration }

    private func probe(_ direction: SyncDirection) -> MatchProbe {
        MatchProbe(mapping: mapping, direction: direction, source: endpoint(direction.source), target: endpoint(direction.target),
                   coordination: coordination)
    }

    /// Counts would-match records into `report`, keeping the first `limit`; a side in
    /// `fullyCoupled` (every record passing its filter is coupled) has none and is not walked.
    func matches(pageSize: Int, limit: Int, skipping fullyCoupled: Set<SyncSide>, into report: inout VerifyReport) async throws {
        guard !mapping.matchFields.isEmpty else { return }
        report.matchFieldsChecked = true
        let passes = mapping.settings.direction.passes
        for (index, direction) in passes.enumerated() where !fullyCoupled.contains(direction.source) {
            let action: MatchAction = mapping.settings.syncOnlyCoupled ? .coupleByHand : index == 0 ? .matchRun : .fullSync
            // The second pass runs after the first: a pair the first would couple is listed from there only.
            let earlier = index == 0 ? nil : probe(passes[0])
            try await walk(probe(direction), action: action, earlier: earlier, pageSize: pageSize, limit: limit, into: &report)
        }
    }

    private func walk(
        _ probe: MatchProbe, action: MatchAction, earlier: MatchProbe?, pageSize: Int, limit: Int, into report: inout VerifyReport
    ) async throws {
        let side = probe.direction.source
        var after: String?
        while case let keys = try await endpoint(side).keys(after: after, limit: pageSize), let last = keys.last {
            after = last
            let coupled = try await CouplingStore.coupledIDs(mapping: mapping.settings.name, side: side, among: keys, on: coordination)
            var uncoupled = keys.filter { !coupled.contains($0) }
            guard !uncoupled.isEmpty else { continue }
            // A record whose counterpart a person deleted is not matched again (the deletion is remembered).
            let remembered = try await DeletedCounterparts.load(mapping: mapping.settings.name, side: side, ids: uncoupled, on: coordination)
            uncoupled = uncoupled.filter { remembered[$0] == nil }
            report.uncoupled += uncoupled.count
            let order = Dictionary(uncoupled.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
            let records = try await endpoint(side).records(ids: uncoupled).sorted { order[$0.id, default: 0] < order[$1.id, default: 0] }
            var found = try await probe.outcomes(records).compactMap { record, outcome -> (String, String)? in
                guard case .found(let targetID) = outcome else { return nil }
                return (record.id, targetID)
            }
            if let earlier, !found.isEmpty {
                let counterparts = try await earlier.source.records(ids: found.map(\.1))
                let theirs = Dictionary(try await earlier.outcomes(counterparts).map { ($0.0.id, $0.1) }, uniquingKeysWith: { first, _ in first })
                found = found.filter { id, targetID in theirs[targetID] != .found(targetID: id) }
            }
            for (id, targetID) in found {
                report.count(MatchFinding(side: side, id: id, counterpartID: targetID, action: action), limit: limit)
            }
        }
    }

    /// Counts groups of duplicates on both sides into `report` (a duplicate source refuses its
    /// match, a duplicate target makes it ambiguous), per match priority, keeping the first `limit`.
    func duplicates(limit: Int, into report: inout VerifyReport) async throws {
        guard !mapping.matchFields.isEmpty else { return }
        report.matchFieldsChecked = true
        for side in SyncSide.allCases {
            for fields in Dictionary(grouping: mapping.matchFields, by: \.priority).sorted(by: { $0.key < $1.key }).map(\.value) {
                let columns = fields.map { $0.field.field(on: side) }
                let (total, groups) = try await endpoint(side).duplicateGroups(
                    matching: columns, caseSensitive: fields.allSatisfy(\.caseSensitive), limit: max(0, limit - report.duplicates.count))
                report.duplicateGroups += total
                report.duplicates += groups.map { DuplicateFinding(side: side, fields: columns, group: $0) }
            }
        }
    }
}
