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
        guard let coupling, case .present(let stamp) = source else { return false }
        return coupling.hasChanged(direction.source, stamp: stamp)
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

/// One decision with a person's pending action, out of every combination that matters to actions:
/// mapping direction and policies, pass, source and target states, skipped or not, diff outcome.
struct ActionCase {
    let mapping: MappingSettings
    let input: RecordSyncInput
    let request: PendingRecordAction.Request
    let diff: Result<FieldValues, SyncFailure>
    let decision: SyncDecision
    let verdict: ActionVerdict?
    /// The decision for the same record without the action.
    let unasked: SyncDecision

    var target: RecordPresence? {
        if case .coupled(_, let target) = input.counterpart { target } else { nil }
    }

    /// 3 directions × 3 update × 4 deletion policies × 2 passes × 3 source states × 16 coupled
    /// counterparts (and not coupled) × 4 requests × 3 diff outcomes.
    static let all: [ActionCase] = {
        var cases: [ActionCase] = []
        let requests: [PendingRecordAction.Request] = [.use(.local), .use(.integration), .restore, .delete]
        var counterparts: [Counterpart] = [.notCoupled(match: .notTried)]
        for skipped in [false, true] {
            for result in [SyncResult.success, .failure] {
                for target in [Timeline.changed, Timeline.unchanged, .deleted, .outsideFilter] {
                    counterparts.append(.coupled(Timeline.coupling(skipped: skipped, localResult: result), target: target))
                }
            }
        }
        for direction in MappingDirection.allCases {
            for update in UpdateConflictPolicy.allCases {
                for deletion in DeletionConflictPolicy.allCases {
                    let mapping = Timeline.mapping(direction, update: update, deletion: deletion)
                    for pass in SyncDirection.allCases {
                        for source in [Timeline.changed, Timeline.unchanged, .deleted, .outsideFilter] {
                            for counterpart in counterparts {
                                for request in requests {
                                    for diff in [Result<FieldValues, SyncFailure>.success(Timeline.values), .success([:]), .failure(diffFailure)] {
                                        cases.append(make(mapping, pass, source, counterpart, request, diff))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return cases
    }()

    private static func make(
        _ mapping: MappingSettings, _ pass: SyncDirection, _ source: RecordPresence, _ counterpart: Counterpart,
        _ request: PendingRecordAction.Request, _ diff: Result<FieldValues, SyncFailure>
    ) -> ActionCase {
        let sourceID = pass == .toIntegration ? "10000" : "acc-1"
        let action = PendingRecordAction(id: 7, request: request)
        let input = RecordSyncInput(direction: pass, sourceID: sourceID, source: source, counterpart: counterpart, action: action)
        var unaskedInput = input
        unaskedInput.action = nil
        let decide = { (input: RecordSyncInput) in
            SyncDecision(for: input, in: mapping) { () throws(SyncFailure) -> FieldValues in try diff.get() }
        }
        return ActionCase(
            mapping: mapping, input: input, request: request, diff: diff, decision: decide(input),
            verdict: input.actionVerdict(in: mapping), unasked: decide(unaskedInput))
    }

    /// The inputs and the outcome in one line.
    var summary: String {
        "\(mapping.direction) \(input.direction) \(mapping.updateConflictPolicy)/\(mapping.deletionConflictPolicy) \(request) "
            + "source=\(input.source) \(input.counterpart) diff=\(diff) → \(String(describing: verdict)) \(decision)"
    }
}

/// The action cases that break a rule, shown briefly when there are any.
func expectNoAction(_ rule: Comment, sourceLocation: SourceLocation = #_sourceLocation, violating isViolation: (ActionCase) -> Bool) {
    let violations = ActionCase.all.filter(isViolation)
    let examples = violations.prefix(2).map(\.summary).joined(separator: "; ")
    #expect(violations.isEmpty, "\(rule): \(violations.count), e.g. \(examples)", sourceLocation: sourceLocation)
}

@Suite("Decision: a person's pending action on a pair")
struct ActionDecisionTests {
    /// A pass of a bidirectional CUSTOMER (fail policies) over 10000 ↔ acc-1, skipped after two failures, with `request` pending.
    private func decideAsked(
        _ request: PendingRecordAction.Request, _ pass: SyncDirection, source: RecordPresence, target: RecordPresence,
        mapping: MappingSettings = Timeline.mapping(), probe: ChangesProbe = ChangesProbe()
    ) -> (SyncDecision, ActionVerdict?) {
        let input = RecordSyncInput(
            direction: pass, sourceID: pass == .toIntegration ? "10000" : "acc-1", source: source,
            counterpart: Timeline.coupled(target: target, Timeline.coupling(skipped: true)),
            action: PendingRecordAction(id: 1, request: request))
        let decision = SyncDecision(for: input, in: mapping) { () throws(SyncFailure) -> FieldValues in try probe.changes() }
        return (decision, input.actionVerdict(in: mapping))
    }

    @Test("each action and state: the decision and whether this pass carries the action out", arguments: [
        // use(X) with both records present: the pass from X writes whatever changed, the other keeps its target.
        (PendingRecordAction.Request.use(.local), SyncDirection.toIntegration, Timeline.unchanged, Timeline.changed,
         SyncDecision.update(Timeline.values, resolvedConflict: .sendToIntegration), ActionVerdict.carriesOut),
        (.use(.local), .fromIntegration, Timeline.changed, Timeline.changed, .skip(.actionLeftToOtherPass), .leftToOtherPass),
        (.use(.integration), .fromIntegration, Timeline.changed, Timeline.changed, .update(Timeline.values, resolvedConflict: .getFromIntegration), .carriesOut),
        (.use(.integration), .toIntegration, Timeline.changed, Timeline.changed, .skip(.actionLeftToOtherPass), .leftToOtherPass),
        // restore: the survivor's pass restores, the deleted side's waits for it.
        (.restore, .toIntegration, Timeline.unchanged, .deleted, .restore(Timeline.values), .carriesOut),
        (.restore, .fromIntegration, .deleted, Timeline.unchanged, .skip(.actionLeftToOtherPass), .leftToOtherPass),
        // delete: the deleted side's pass deletes the survivor, the survivor's waits for it.
        (.delete, .fromIntegration, .deleted, Timeline.changed, .deleteTarget, .carriesOut),
        (.delete, .toIntegration, Timeline.changed, .deleted, .skip(.actionLeftToOtherPass), .leftToOtherPass),
    ])
    func applies(
        request: PendingRecordAction.Request, pass: SyncDirection, source: RecordPresence, target: RecordPresence,
        expected: SyncDecision, verdict: ActionVerdict
    ) {
        let (decision, actual) = decideAsked(request, pass, source: source, target: target)
        #expect(decision == expected, "the skipped coupling is overridden: a person asked")
        #expect(actual == verdict)
    }

    @Test("use(X) with records that agree writes nothing, and the action is carried out")
    func useWithNothingToWrite() {
        let (decision, verdict) = decideAsked(.use(.local), .toIntegration, source: Timeline.unchanged, target: Timeline.changed,
                                              probe: ChangesProbe(.success([:])))
        #expect(decision == .unchanged && verdict == .carriesOut)
    }

    @Test("an action in the wrong state does not apply: the record is decided as without it, and the reason names the pair", arguments: [
        (PendingRecordAction.Request.restore, Timeline.changed, Timeline.changed, "neither customer 10000 nor account acc-1 was deleted"),
        (.delete, Timeline.changed, Timeline.unchanged, "neither customer 10000 nor account acc-1 was deleted"),
        (.restore, .deleted, .deleted, "customer 10000 and account acc-1 were both deleted"),
        (.use(.local), Timeline.changed, .deleted, "account acc-1 was deleted, so mapping CUSTOMER cannot copy customer 10000 over it"),
        (.use(.local), Timeline.changed, .outsideFilter, "customer 10000 or account acc-1 is outside the filter of mapping CUSTOMER"),
    ])
    func notApplicable(request: PendingRecordAction.Request, source: RecordPresence, target: RecordPresence, reason: String) {
        let (decision, verdict) = decideAsked(request, .toIntegration, source: source, target: target)
        guard case .notApplicable(let text) = verdict else {
            Issue.record("expected not applicable, got \(String(describing: verdict))")
            return
        }
        #expect(text.hasPrefix(reason), "\(text)")
        #expect(decision == .skip(.couplingSkipped), "as without the action: the coupling stays skipped")
    }

    @Test("a one-way mapping never leaves an action to a pass it does not make")
    func oneWayNotApplicable() {
        let (decision, verdict) = decideAsked(.restore, .toIntegration, source: .deleted, target: Timeline.unchanged,
                                              mapping: Timeline.mapping(.toIntegration))
        guard case .notApplicable(let text) = verdict else {
            Issue.record("expected not applicable, got \(String(describing: verdict))")
            return
        }
        #expect(text.hasPrefix("mapping CUSTOMER never writes customer records"), "\(text)")
        #expect(decision == .skip(.couplingSkipped))
    }

    @Test("over every combination: an action that does not apply changes nothing about the decision")
    func notApplicableDecidesAsUnasked() {
        expectNoAction("not applicable, yet decided otherwise") { item in
            if case .notApplicable = item.verdict { item.decision != item.unasked } else { false }
        }
    }

    @Test("over every combination: a verdict only in a pass the mapping makes, and nothing else than the action asks")
    func appliedActionsDoWhatWasAsked() {
        expectNoAction("applied action decided something else") { item in
            guard item.mapping.direction.includes(item.input.direction) else { return item.decision != .skip(.directionNotMapped) }
            switch (item.verdict, item.request, item.decision) {
            case (.leftToOtherPass?, _, .skip(.actionLeftToOtherPass)): return !item.mapping.direction.includes(item.input.direction.opposite)
            case (.carriesOut?, .use(let winner), .update(let values, let resolved?)):
                return winner != item.input.direction.source || values.isEmpty || resolved != .winning(winner)
            case (.carriesOut?, .use, .unchanged): return item.diff != .success([:])
            case (.carriesOut?, .restore, .restore): return item.target != .deleted || item.input.source == .deleted
            case (.carriesOut?, .delete, .deleteTarget): return item.input.source != .deleted
            case (.carriesOut?, .use, .fail(let failure)), (.carriesOut?, .restore, .fail(let failure)): return item.diff != .failure(failure)
            case (.notApplicable?, _, _): return false
            default: return true
            }
        }
    }

    @Test("over every combination: a deleted source is never written from, and only a delete action deletes beside the policy")
    func actionsKeepDeletionRules() {
        expectNoAction("write from a deleted source") { item in
            guard item.input.source == .deleted else { return false }
            return switch item.decision {
            case .insert, .update, .restore, .couple: true
            default: false
            }
        }
        expectNoAction("deletion neither asked nor by the policy") { item in
            item.decision == .deleteTarget && item.request != .delete && item.mapping.deletionConflictPolicy != .propagate
        }
    }
}
