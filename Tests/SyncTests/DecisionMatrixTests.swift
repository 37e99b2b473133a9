import Foundation
import Testing
@testable import Sync

/// One decision out of every combination of settings, states and diff outcomes.
struct DecisionCase {
    let mapping: MappingSettings
    let direction: SyncDirection
    let source: RecordPresence
    let counterpart: Counterpart
    let fieldChanges: FieldChanges?
    let diff: Result<FieldValues, SyncFailure>
    let decision: SyncDecision
    let changesCalls: Int

    var coupling: Coupling? {
        if case .coupled(let coupling, _) = counterpart { coupling } else { nil }
    }

    var target: RecordPresence? {
        if case .coupled(_, let target) = counterpart { target } else { nil }
    }

    var sourceChanged: Bool {
        guard let coupling, case .present(let modifiedOn) = source else { return false }
        return coupling.hasChanged(direction.source, modifiedOn: modifiedOn)
    }

    var writes: Bool {
        switch decision {
        case .insert, .couple, .update, .restore: true
        default: false
        }
    }

    /// All combinations: 384 settings × 2 passes × 3 source states × 38 counterparts × 3 diff
    /// outcomes, and for the 96 settings with the `merge` policy × 5 field-change states.
    static let all: [DecisionCase] = {
        var cases: [DecisionCase] = []
        for mapping in settings {
            for direction in SyncDirection.allCases {
                for source in [Timeline.changed, Timeline.unchanged, .deleted] {
                    for counterpart in counterparts {
                        for fields in mapping.updateConflictPolicy == .merge ? fieldStates : [nil] {
                            for diff in diffs {
                                cases.append(make(mapping, direction, source, counterpart, fields, diff))
                            }
                        }
                    }
                }
            }
        }
        return cases
    }()

    private static func make(_ mapping: MappingSettings, _ direction: SyncDirection, _ source: RecordPresence,
                             _ counterpart: Counterpart, _ fields: FieldChanges?, _ diff: Result<FieldValues, SyncFailure>) -> DecisionCase {
        var calls = 0
        let record = RecordSyncInput(direction: direction, sourceID: "1", source: source, counterpart: counterpart, fieldChanges: fields)
        let decision = SyncDecision(for: record, in: mapping) { () throws(SyncFailure) -> FieldValues in
            calls += 1
            return try diff.get()
        }
        return DecisionCase(mapping: mapping, direction: direction, source: source, counterpart: counterpart,
                            fieldChanges: fields, diff: diff, decision: decision, changesCalls: calls)
    }

    /// Two fields differ, none does, or the diff fails.
    private static let diffs: [Result<FieldValues, SyncFailure>] = [
        .success(["name": "Adatum Corporation", "city": "Oslo"]), .success([:]), .failure(diffFailure),
    ]

    /// What the fields did since the last sync: unknown; nothing; the source changed one, the
    /// target nothing; the source one, the target the other; both changed the same one.
    private static let fieldStates: [FieldChanges?] = [
        nil, FieldChanges(), FieldChanges(source: ["name"]), FieldChanges(source: ["name"], target: ["city"]),
        FieldChanges(source: ["name", "city"], target: ["name"]),
    ]

    private static let settings: [MappingSettings] = {
        var result: [MappingSettings] = []
        for direction in MappingDirection.allCases {
            for syncOnlyCoupled in [false, true] {
                for allowInsert in [false, true] {
                    for matchConfigured in [false, true] {
                        for update in UpdateConflictPolicy.allCases {
                            for deletion in DeletionConflictPolicy.allCases {
                                result.append(Timeline.mapping(direction, syncOnlyCoupled: syncOnlyCoupled, allowInsert: allowInsert,
                                                               matchConfigured: matchConfigured, update: update, deletion: deletion))
                            }
                        }
                    }
                }
            }
        }
        return result
    }()

    private static let counterparts: [Counterpart] = {
        var result: [Counterpart] = [
            .notCoupled(match: .notTried), .notCoupled(match: .notFound), .notCoupled(match: .found(targetID: "9")),
            .notCoupled(match: .ambiguous(count: 2)), .notCoupled(match: .alreadyCoupled(targetID: "9", coupledSourceID: "8")),
            .notCoupled(match: .duplicateSources(targetID: "9", count: 2)),
        ]
        for skipped in [false, true] {
            for localResult in [SyncResult.success, .failure] {
                for integrationResult in [SyncResult.success, .failure] {
                    for target in [Timeline.changed, Timeline.unchanged, .deleted, .outsideFilter] {
                        let coupling = Timeline.coupling(skipped: skipped, localResult: localResult, integrationResult: integrationResult)
                        result.append(.coupled(coupling, target: target))
                    }
                }
            }
        }
        return result
    }()
}

/// The cases of the matrix that break a rule, shown briefly when there are any.
func expectNone(_ rule: Comment, sourceLocation: SourceLocation = #_sourceLocation,
                violating isViolation: (DecisionCase) -> Bool) {
    let violations = DecisionCase.all.filter(isViolation)
    let count = violations.count
    let examples = violations.prefix(2).map(\.summary).joined(separator: "; ")
    #expect(count == 0, "\(rule), e.g. \(examples)", sourceLocation: sourceLocation)
}

extension DecisionCase {
    /// The inputs and the decision in one line.
    var summary: String {
        "\(mapping.direction) \(direction) sync-only-coupled=\(mapping.syncOnlyCoupled) insert=\(mapping.allowInsert) "
            + "match=\(mapping.matchConfigured) \(mapping.updateConflictPolicy)/\(mapping.deletionConflictPolicy) "
            + "source=\(source) \(counterpart) fields=\(String(describing: fieldChanges)) diff=\(diff) → \(decision)"
    }
}

@Suite("Decision: invariants over every combination")
struct DecisionMatrixTests {
    @Test("the matrix covers every combination")
    func size() {
        #expect(DecisionCase.all.count == 288 * 2 * 3 * 38 * 3 + 96 * 2 * 3 * 38 * 5 * 3)
    }

    @Test("a pass the mapping does not make never does anything else")
    func unmappedPassSkips() {
        expectNone("unmapped pass not skipped") { item in
            !item.mapping.direction.includes(item.direction)
                && (item.decision != .skip(.directionNotMapped) || item.changesCalls != 0)
        }
    }

    @Test("the changes are computed once for decisions that use them, never for the others")
    func changesComputedOnlyWhenUsed() {
        expectNone("changes computed the wrong number of times") { item in
            switch item.decision {
            case .skip, .match, .couple, .removeCoupling, .deleteTarget: item.changesCalls != 0
            case .insert, .update, .restore, .keepTarget: item.changesCalls != 1
            case .unchanged, .fail: item.changesCalls > 1
            }
        }
    }

    @Test("written values are exactly the diff's, and a failing diff fails the record")
    func valuesComeFromTheDiff() {
        expectNone("decision does not follow the diff") { item in
            guard item.changesCalls == 1 else { return false }
            switch (item.diff, item.decision) {
            case (.failure(let failure), let decision): return decision != .fail(failure)
            case (.success(let values), .update(let written, .merge?)):
                return written != values.filter { item.fieldChanges?.source.contains($0.key) ?? true }
            case (.success(let values), .insert(let written)), (.success(let values), .restore(let written)),
                 (.success(let values), .update(let written, _)):
                return written != values
            default: return false
            }
        }
    }

    @Test("an update never writes nothing")
    func updatesAreNeverEmpty() {
        expectNone("empty update") { item in
            if case .update(let values, _) = item.decision { values.isEmpty } else { false }
        }
    }

    @Test("a skipped coupling is always skipped")
    func skippedIsSkipped() {
        expectNone("skipped coupling not skipped") { item in
            item.mapping.direction.includes(item.direction) && item.coupling?.isSkipped == true
                && item.decision != .skip(.couplingSkipped)
        }
    }

    @Test("inserts, matches and match couplings happen only to uncoupled records the settings allow")
    func uncoupledOutcomes() {
        expectNone("insert, match or couple not allowed") { item in
            switch item.decision {
            case .insert: item.coupling != nil || item.mapping.syncOnlyCoupled || !item.mapping.allowInsert
            case .match: item.counterpart != .notCoupled(match: .notTried) || !item.mapping.matchConfigured || item.mapping.syncOnlyCoupled
            case .couple: item.coupling != nil || item.mapping.syncOnlyCoupled
            default: false
            }
        }
    }

    @Test("a counterpart outside the filter is never written or deleted; only a deleted source's remove_coupling uncouples it")
    func outsideFilterWaits() {
        expectNone("counterpart outside the filter touched") { item in
            guard item.target == .outsideFilter else { return false }
            return switch item.decision {
            case .skip, .fail: false
            case .removeCoupling(.deletionPolicy): item.source != .deleted || item.mapping.deletionConflictPolicy != .removeCoupling
            default: true
            }
        }
    }

    @Test("a deleted source is never written from")
    func deletedSourceNeverWrites() {
        expectNone("write from a deleted source") { $0.source == .deleted && $0.writes }
    }

    @Test("restores and policy uncouplings happen only under their deletion policy")
    func deletionOutcomes() {
        expectNone("deletion outcome without its policy") { item in
            switch item.decision {
            case .restore: item.mapping.deletionConflictPolicy != .restore || item.target != .deleted
            case .removeCoupling(.deletionPolicy):
                item.mapping.deletionConflictPolicy != .removeCoupling
                    && !(item.mapping.deletionConflictPolicy == .propagate && item.mapping.direction != .bidirectional)
            case .deleteTarget: item.mapping.deletionConflictPolicy != .propagate || item.source != .deleted
            case .removeCoupling(.bothDeleted): item.source != .deleted || item.target != .deleted
            default: false
            }
        }
    }

    @Test("conflicts are resolved only in bidirectional mappings, in favour of the policy's winner")
    func conflictOutcomes() {
        expectNone("conflict outcome against the policy") { item in
            switch item.decision {
            case .update(_, .merge?): item.mapping.direction != .bidirectional || item.mapping.updateConflictPolicy != .merge
            case .update(_, let policy?): item.mapping.direction != .bidirectional || policy.winner != item.direction.source
            case .keepTarget(let policy): item.mapping.direction != .bidirectional || policy.winner != item.direction.target
            case .fail(let failure) where failure.code == .updateConflict:
                item.mapping.direction != .bidirectional || ![.fail, .merge].contains(item.mapping.updateConflictPolicy)
            default: false
            }
        }
    }

    @Test("a coupled source that did not change is never written from")
    func unchangedSourceNeverWrites() {
        expectNone("write from an unchanged source") { item in
            item.coupling != nil && item.target != .deleted && !item.sourceChanged && item.writes
        }
    }

    @Test("merge writes only fields the source changed, never one the target changed, and fails exactly when both changed one to different values")
    func mergeIsFieldByField() {
        expectNone("merge decided against the fields") { item in
            guard item.mapping.updateConflictPolicy == .merge, item.mapping.direction == .bidirectional,
                  item.coupling?.isSkipped == false, item.sourceChanged, item.target == Timeline.changed,
                  case .success(let values) = item.diff, !values.isEmpty else { return false }
            let travelling = values.keys.filter { item.fieldChanges?.source.contains($0) ?? true }
            let clashing = travelling.filter { item.fieldChanges?.target.contains($0) ?? true }
            switch item.decision {
            case .fail(let failure): return failure.code != .updateConflict || clashing.isEmpty
            case .update(let written, .merge?): return !clashing.isEmpty || Set(written.keys) != Set(travelling)
            case .unchanged: return !travelling.isEmpty
            default: return true
            }
        }
    }

    @Test("merge: a field the target alone changed is never overwritten, in any state")
    func mergeKeepsTargetChanges() {
        expectNone("merge overwrote a field the target changed") { item in
            guard item.mapping.updateConflictPolicy == .merge, case .update(let written, .merge?) = item.decision else { return false }
            return written.keys.contains { item.fieldChanges?.target.contains($0) ?? true }
        }
    }
}
