import Foundation
import Testing
@testable import Sync

@Suite("Decision: direction and skipped couplings")
struct DirectionDecisionTests {
    @Test("a pass the mapping does not make is skipped", arguments: [
        (MappingDirection.toIntegration, SyncDirection.fromIntegration),
        (.fromIntegration, .toIntegration),
    ])
    func directionNotMapped(mapping: MappingDirection, pass: SyncDirection) {
        let probe = ChangesProbe()
        let decision = decide(Timeline.mapping(mapping), pass, counterpart: Timeline.coupled(target: Timeline.unchanged), probe: probe)
        #expect(decision == .skip(.directionNotMapped))
        #expect(probe.calls == 0)
    }

    @Test("a skipped coupling is skipped even when the source changed")
    func skippedCoupling() {
        let probe = ChangesProbe()
        let decision = decide(counterpart: Timeline.coupled(target: Timeline.unchanged, Timeline.coupling(skipped: true)), probe: probe)
        #expect(decision == .skip(.couplingSkipped))
        #expect(probe.calls == 0)
    }

    @Test("a skipped coupling is skipped before the deletion policy applies")
    func skippedBeforeDeletion() {
        let mapping = Timeline.mapping(deletion: .removeCoupling)
        #expect(decide(mapping, counterpart: Timeline.coupled(target: .deleted, Timeline.coupling(skipped: true))) == .skip(.couplingSkipped))
    }

    @Test("a skipped coupling that failed last time is not retried")
    func skippedFailureNotRetried() {
        let coupling = Timeline.coupling(skipped: true, localResult: .failure)
        #expect(decide(source: Timeline.unchanged, counterpart: Timeline.coupled(target: Timeline.unchanged, coupling)) == .skip(.couplingSkipped))
    }

    @Test("a one-way mapping synchronizes its own direction", arguments: [
        (MappingDirection.toIntegration, SyncDirection.toIntegration),
        (.fromIntegration, .fromIntegration),
    ])
    func oneWayMappingRuns(mapping: MappingDirection, pass: SyncDirection) {
        let decision = decide(Timeline.mapping(mapping), pass, counterpart: Timeline.coupled(target: Timeline.unchanged))
        #expect(decision == .update(Timeline.values, resolvedConflict: nil))
    }
}

@Suite("Decision: records that are not coupled")
struct UncoupledDecisionTests {
    @Test("sync-only-coupled skips an uncoupled record without matching or inserting")
    func syncOnlyCoupled() {
        let probe = ChangesProbe()
        let mapping = Timeline.mapping(syncOnlyCoupled: true, matchConfigured: true)
        #expect(decide(mapping, counterpart: .notCoupled(match: .notTried), probe: probe) == .skip(.notCoupled))
        #expect(probe.calls == 0)
    }

    @Test("with match fields, matching comes first")
    func matchFirst() {
        let probe = ChangesProbe()
        #expect(decide(Timeline.mapping(matchConfigured: true), counterpart: .notCoupled(match: .notTried), probe: probe) == .match)
        #expect(probe.calls == 0)
    }

    @Test("without match fields the record is inserted with all its values")
    func insertWithoutMatch() {
        #expect(decide(counterpart: .notCoupled(match: .notTried)) == .insert(Timeline.values))
    }

    @Test("when no match is found the record is inserted")
    func insertAfterNoMatch() {
        #expect(decide(Timeline.mapping(matchConfigured: true), counterpart: .notCoupled(match: .notFound)) == .insert(Timeline.values))
    }

    @Test("without inserts the unmatched record is skipped", arguments: [MatchOutcome.notFound, .notTried])
    func insertNotAllowed(match: MatchOutcome) {
        let probe = ChangesProbe()
        let mapping = Timeline.mapping(allowInsert: false, matchConfigured: match == .notFound)
        #expect(decide(mapping, counterpart: .notCoupled(match: match), probe: probe) == .skip(.insertNotAllowed))
        #expect(probe.calls == 0)
    }

    @Test("a match is coupled and copies nothing by itself")
    func coupleMatch() {
        let probe = ChangesProbe(.success(Timeline.values))
        let decision = decide(Timeline.mapping(allowInsert: false, matchConfigured: true), counterpart: .notCoupled(match: .found(targetID: "acc-9")),
                              probe: probe)
        #expect(decision == .couple(targetID: "acc-9"))
        #expect(probe.calls == 0)
    }

    @Test("a pair just coupled by match (no stamps) whose fields differ meets the update-conflict policy", arguments: UpdateConflictPolicy.allCases)
    func freshCouplingFollowsPolicy(policy: UpdateConflictPolicy) {
        let fresh = Coupling(localID: "10000", integrationID: "acc-9")
        let decision = decide(Timeline.mapping(update: policy), counterpart: .coupled(fresh, target: Timeline.unchanged))
        switch policy {
        case .fail: #expect(decision.failureCode == .updateConflict)
        case .sendToIntegration: #expect(decision == .update(Timeline.values, resolvedConflict: .sendToIntegration))
        case .getFromIntegration: #expect(decision == .keepTarget(.getFromIntegration))
        case .merge: #expect(decision.failureCode == .updateConflict, "nothing is known of the fields: each counts as changed on both sides")
        }
    }

    @Test("a record whose counterpart was deleted and uncoupled is not created again")
    func uncoupledByDeletionIsSkipped() {
        let probe = ChangesProbe(.success(Timeline.values))
        #expect(decide(Timeline.mapping(), counterpart: .uncoupledByDeletion(counterpartID: "acc-1"), probe: probe) == .skip(.counterpartDeleted))
        #expect(probe.calls == 0)
    }

    @Test("propagate: a deleted source deletes an unchanged target; a changed one fails, in either kind of mapping",
          arguments: [MappingDirection.bidirectional, .toIntegration])
    func propagateDeletion(direction: MappingDirection) {
        let mapping = Timeline.mapping(direction, deletion: .propagate)
        #expect(decide(mapping, source: .deleted, counterpart: Timeline.coupled(target: Timeline.unchanged)) == .deleteTarget)
        #expect(decide(mapping, source: .deleted, counterpart: Timeline.coupled(target: Timeline.changed)).failureCode == .deletedCounterpart)
    }

    @Test("propagate in a bidirectional mapping: the survivor's pass leaves the deletion to the deleted side's pass, unless the survivor changed")
    func propagateSurvivorPass() {
        let mapping = Timeline.mapping(deletion: .propagate)
        #expect(decide(mapping, source: Timeline.unchanged, counterpart: Timeline.coupled(target: .deleted)) == .skip(.deletionPropagatedByOtherPass))
        #expect(decide(mapping, source: Timeline.changed, counterpart: Timeline.coupled(target: .deleted)).failureCode == .deletedCounterpart)
    }

    @Test("an ambiguous match fails with advice")
    func ambiguousMatch() throws {
        let decision = decide(Timeline.mapping(matchConfigured: true), counterpart: .notCoupled(match: .ambiguous(count: 3)))
        guard case .fail(let failure) = decision else {
            Issue.record("expected a failure, got \(decision)")
            return
        }
        #expect(failure.code == .ambiguousMatch)
        #expect(failure.message == "customer 10000 cannot be coupled by mapping CUSTOMER: 3 account records have the same match-field values. Make the match fields unique (or add one), or couple customer 10000 manually, then run CUSTOMER again.")
    }

    @Test("a match shared by duplicate source records fails as ambiguous, naming the target")
    func duplicateSources() throws {
        let decision = decide(Timeline.mapping(matchConfigured: true), .fromIntegration,
                              counterpart: .notCoupled(match: .duplicateSources(targetID: "20000", count: 2)))
        guard case .fail(let failure) = decision else {
            Issue.record("expected a failure, got \(decision)")
            return
        }
        #expect(failure.code == .ambiguousMatch)
        #expect(failure.message.hasPrefix("account acc-1 cannot be coupled by mapping CUSTOMER: it matches customer 20000, but 2 account records have the same match-field values."))
    }

    @Test("a match that is coupled to another record fails naming both")
    func matchAlreadyCoupled() {
        let decision = decide(Timeline.mapping(matchConfigured: true), .fromIntegration,
                              counterpart: .notCoupled(match: .alreadyCoupled(targetID: "20000", coupledSourceID: "acc-2")))
        guard case .fail(let failure) = decision else {
            Issue.record("expected a failure, got \(decision)")
            return
        }
        #expect(failure.code == .matchAlreadyCoupled)
        #expect(failure.message.hasPrefix("account acc-1 cannot be coupled by mapping CUSTOMER: it matches customer 20000, which is already coupled to account acc-2."))
    }

    @Test("an insert whose values cannot be computed fails", arguments: [MatchOutcome.notTried, .notFound])
    func insertFailure(match: MatchOutcome) {
        #expect(decide(counterpart: .notCoupled(match: match), probe: ChangesProbe(.failure(diffFailure))) == .fail(diffFailure))
    }

    @Test("an uncoupled source that was deleted is skipped")
    func uncoupledDeleted() {
        #expect(decide(source: .deleted, counterpart: .notCoupled(match: .notTried)) == .skip(.sourceDeleted))
    }

    @Test("an insert happens in either direction")
    func insertFromIntegration() {
        #expect(decide(Timeline.mapping(.fromIntegration), .fromIntegration, counterpart: .notCoupled(match: .notTried)) == .insert(Timeline.values))
    }
}

@Suite("Decision: changes of coupled records")
struct ChangeDecisionTests {
    @Test("nothing changed on either side: unchanged, without computing changes")
    func nothingChanged() {
        let probe = ChangesProbe()
        #expect(decide(source: Timeline.unchanged, counterpart: Timeline.coupled(target: Timeline.unchanged), probe: probe) == .unchanged)
        #expect(probe.calls == 0)
    }

    @Test("no echo: a record whose modified-on equals the stored one is the integration's own write")
    func noEcho() {
        // The last toIntegration pass wrote account acc-1 at minute 7 and stored that modified-on.
        var coupling = Timeline.coupling()
        coupling.integration.lastSynced = RecordStamp(modifiedOn: minute(7))
        coupling.local.lastSynced = RecordStamp(modifiedOn: minute(6))
        let decision = decide(Timeline.mapping(), .fromIntegration, source: .present(RecordStamp(modifiedOn: minute(7))),
                              counterpart: .coupled(coupling, target: .present(RecordStamp(modifiedOn: minute(6)))))
        #expect(decision == .unchanged)
    }

    @Test("a modified-on earlier than the stored one is a change (a now() stamp committed after the integration's write)")
    func earlierIsAChange() {
        let decision = decide(source: .present(RecordStamp(modifiedOn: minute(-3))), counterpart: Timeline.coupled(target: Timeline.unchanged))
        #expect(decision != .unchanged)
    }

    @Test("only the source changed: its changed fields are written")
    func sourceChanged() {
        #expect(decide(counterpart: Timeline.coupled(target: Timeline.unchanged)) == .update(Timeline.values, resolvedConflict: nil))
    }

    @Test("the source changed but no mapped field differs: unchanged")
    func sourceChangedNoFieldDiffers() {
        #expect(decide(counterpart: Timeline.coupled(target: Timeline.unchanged), probe: ChangesProbe(.success([:]))) == .unchanged)
    }

    @Test("the source changed and its values cannot be computed: the record fails")
    func sourceChangedFailure() {
        #expect(decide(counterpart: Timeline.coupled(target: Timeline.unchanged), probe: ChangesProbe(.failure(diffFailure))) == .fail(diffFailure))
    }

    @Test("a side never synced counts as changed")
    func neverSynced() {
        let coupling = Coupling(localID: "10000", integrationID: "acc-1")
        #expect(decide(Timeline.mapping(.toIntegration), source: Timeline.unchanged,
                       counterpart: .coupled(coupling, target: Timeline.unchanged)) == .update(Timeline.values, resolvedConflict: nil))
    }

    @Test("only the target changed: nothing to do in this pass, whatever the mapping direction", arguments: [
        (MappingDirection.bidirectional, SyncDirection.toIntegration),
        (.bidirectional, .fromIntegration),
        (.toIntegration, .toIntegration),
        (.fromIntegration, .fromIntegration),
    ])
    func targetChangedOnly(mapping: MappingDirection, pass: SyncDirection) {
        let probe = ChangesProbe()
        let decision = decide(Timeline.mapping(mapping), pass, source: Timeline.unchanged,
                              counterpart: Timeline.coupled(target: Timeline.changed), probe: probe)
        #expect(decision == .unchanged)
        #expect(probe.calls == 0)
    }

    @Test("a record that failed last time is retried although it did not change")
    func failedLastTimeIsRetried() {
        let coupling = Timeline.coupling(localResult: .failure)
        #expect(decide(source: Timeline.unchanged, counterpart: Timeline.coupled(target: Timeline.unchanged, coupling))
                == .update(Timeline.values, resolvedConflict: nil))
    }

    @Test("a retried record whose fields now agree is unchanged")
    func retryWithNothingToWrite() {
        let coupling = Timeline.coupling(localResult: .failure)
        #expect(decide(source: Timeline.unchanged, counterpart: Timeline.coupled(target: Timeline.unchanged, coupling),
                       probe: ChangesProbe(.success([:]))) == .unchanged)
    }

    @Test("a failure of the opposite pass does not retry this pass")
    func oppositeFailureDoesNotRetry() {
        let coupling = Timeline.coupling(integrationResult: .failure)
        #expect(decide(source: Timeline.unchanged, counterpart: Timeline.coupled(target: Timeline.unchanged, coupling)) == .unchanged)
    }
}

@Suite("Decision: update conflicts")
struct ConflictDecisionTests {
    @Test("both changed in a one-way mapping: the source overwrites the target", arguments: [
        (MappingDirection.toIntegration, SyncDirection.toIntegration),
        (.fromIntegration, .fromIntegration),
    ])
    func oneWayOverwrites(mapping: MappingDirection, pass: SyncDirection) {
        let decision = decide(Timeline.mapping(mapping), pass, counterpart: Timeline.coupled(target: Timeline.changed))
        #expect(decision == .update(Timeline.values, resolvedConflict: nil))
    }

    @Test("both changed but every field agrees: no conflict, unchanged", arguments: UpdateConflictPolicy.allCases)
    func bothChangedEqualFields(policy: UpdateConflictPolicy) {
        let decision = decide(Timeline.mapping(update: policy), counterpart: Timeline.coupled(target: Timeline.changed),
                              probe: ChangesProbe(.success([:])))
        #expect(decision == .unchanged)
    }

    @Test("both changed and differing under the fail policy: the record fails naming the fields")
    func conflictFails() {
        let probe = ChangesProbe(.success(["name": "B", "creditlimit": "5"]))
        let decision = decide(counterpart: Timeline.coupled(target: Timeline.changed), probe: probe)
        guard case .fail(let failure) = decision else {
            Issue.record("expected a failure, got \(decision)")
            return
        }
        #expect(failure.code == .updateConflict)
        #expect(failure.detail == "creditlimit, name")
        #expect(failure.message == "customer 10000 and account acc-1 were both changed since the last sync and differ in creditlimit, name. Choose the record that wins this once (couplet resolve CUSTOMER 10000 --use local|integration), or make the two records agree, or set the update-conflict policy of mapping CUSTOMER to send to or get from the integration table (or merge, which lets changes to different fields both travel), then run CUSTOMER again.")
    }

    @Test("the conflict message names the records from the pass's point of view")
    func conflictFromIntegration() {
        let decision = decide(Timeline.mapping(), .fromIntegration, counterpart: Timeline.coupled(target: Timeline.changed))
        guard case .fail(let failure) = decision else {
            Issue.record("expected a failure, got \(decision)")
            return
        }
        #expect(failure.message.hasPrefix("account acc-1 and customer 10000 were both changed"))
    }

    @Test("the winning side's pass writes its values and records the resolution", arguments: [
        (UpdateConflictPolicy.sendToIntegration, SyncDirection.toIntegration),
        (.getFromIntegration, .fromIntegration),
    ])
    func winnerWrites(policy: UpdateConflictPolicy, pass: SyncDirection) {
        let decision = decide(Timeline.mapping(update: policy), pass, counterpart: Timeline.coupled(target: Timeline.changed))
        #expect(decision == .update(Timeline.values, resolvedConflict: policy))
    }

    @Test("the losing side's pass keeps the target for the opposite pass", arguments: [
        (UpdateConflictPolicy.sendToIntegration, SyncDirection.fromIntegration),
        (.getFromIntegration, .toIntegration),
    ])
    func loserKeepsTarget(policy: UpdateConflictPolicy, pass: SyncDirection) {
        let decision = decide(Timeline.mapping(update: policy), pass, counterpart: Timeline.coupled(target: Timeline.changed))
        #expect(decision == .keepTarget(policy))
    }

    @Test("a failed opposite pass makes the target count as changed: a conflict")
    func oppositeFailureIsAConflict() {
        let coupling = Timeline.coupling(integrationResult: .failure)
        let decision = decide(counterpart: Timeline.coupled(target: Timeline.unchanged, coupling))
        guard case .fail(let failure) = decision else {
            Issue.record("expected a failure, got \(decision)")
            return
        }
        #expect(failure.code == .updateConflict)
    }

    @Test("a conflict whose values cannot be computed fails with the diff's failure")
    func conflictDiffFailure() {
        let decision = decide(Timeline.mapping(update: .sendToIntegration), counterpart: Timeline.coupled(target: Timeline.changed),
                              probe: ChangesProbe(.failure(diffFailure)))
        #expect(decision == .fail(diffFailure))
    }

    @Test("policies name their winning side")
    func winners() {
        #expect(UpdateConflictPolicy.fail.winner == nil)
        #expect(UpdateConflictPolicy.sendToIntegration.winner == .local)
        #expect(UpdateConflictPolicy.getFromIntegration.winner == .integration)
    }

    @Test("in a delta, a record last changed by the integration's login is its write: unchanged when coupled, skipped when not")
    func changedByIntegration() {
        var coupled = RecordSyncInput(direction: .toIntegration, sourceID: "10000", source: Timeline.changed,
                                      counterpart: Timeline.coupled(target: Timeline.unchanged))
        coupled.changedByIntegration = true
        #expect(SyncDecision(for: coupled, in: Timeline.mapping()) { () throws(SyncFailure) -> FieldValues in Timeline.values } == .unchanged)
        var uncoupled = RecordSyncInput(direction: .toIntegration, sourceID: "10000", source: Timeline.changed,
                                        counterpart: .notCoupled(match: .notTried))
        uncoupled.changedByIntegration = true
        #expect(SyncDecision(for: uncoupled, in: Timeline.mapping()) { () throws(SyncFailure) -> FieldValues in Timeline.values }
            == .skip(.changedByIntegration))
    }

    @Test("both changed, but only fields carried one way differ: no conflict, the source's values are written", arguments: UpdateConflictPolicy.allCases)
    func oneWayFieldsNeverConflict(policy: UpdateConflictPolicy) {
        let record = RecordSyncInput(direction: .toIntegration, sourceID: "10000", source: Timeline.changed,
                                     counterpart: Timeline.coupled(target: Timeline.changed), twoWayColumns: ["city"])
        let decision = SyncDecision(for: record, in: Timeline.mapping(update: policy)) { () throws(SyncFailure) -> FieldValues in Timeline.values }
        #expect(decision == .update(Timeline.values, resolvedConflict: nil))
        let twoWay = RecordSyncInput(direction: .toIntegration, sourceID: "10000", source: Timeline.changed,
                                     counterpart: Timeline.coupled(target: Timeline.changed), twoWayColumns: ["name"])
        let conflict = SyncDecision(for: twoWay, in: Timeline.mapping(update: policy)) { () throws(SyncFailure) -> FieldValues in Timeline.values }
        #expect(conflict != .update(Timeline.values, resolvedConflict: nil), "a two-way field differing is a conflict for the policy")
    }
}

@Suite("Decision: deleted records")
struct DeletionDecisionTests {
    @Test("a deleted target under the fail policy fails naming both records")
    func targetDeletedFails() {
        let decision = decide(counterpart: Timeline.coupled(target: .deleted))
        guard case .fail(let failure) = decision else {
            Issue.record("expected a failure, got \(decision)")
            return
        }
        #expect(failure.code == .deletedCounterpart)
        #expect(failure.message == "customer 10000 is coupled to account acc-1, which was deleted. Restore it (couplet resolve CUSTOMER 10000 --restore), delete customer 10000 too (--delete) or remove the coupling (--uncouple); or set the deletion-conflict policy of mapping CUSTOMER to restore or remove coupling, then run CUSTOMER again.")
    }

    @Test("a deleted target is restored with all the source's values")
    func targetDeletedRestored() {
        let probe = ChangesProbe()
        #expect(decide(Timeline.mapping(deletion: .restore), counterpart: Timeline.coupled(target: .deleted), probe: probe) == .restore(Timeline.values))
        #expect(probe.calls == 1)
    }

    @Test("a restore whose values cannot be computed fails")
    func restoreFailure() {
        let decision = decide(Timeline.mapping(deletion: .restore), counterpart: Timeline.coupled(target: .deleted),
                              probe: ChangesProbe(.failure(diffFailure)))
        #expect(decision == .fail(diffFailure))
    }

    @Test("a deleted target's coupling is removed under that policy")
    func targetDeletedUncoupled() {
        let probe = ChangesProbe()
        #expect(decide(Timeline.mapping(deletion: .removeCoupling), counterpart: Timeline.coupled(target: .deleted), probe: probe)
                == .removeCoupling(.deletionPolicy))
        #expect(probe.calls == 0)
    }

    @Test("the deletion policy applies even when the source did not change", arguments: DeletionConflictPolicy.allCases)
    func deletionBeforeChangeDetection(policy: DeletionConflictPolicy) {
        let decision = decide(Timeline.mapping(deletion: policy), source: Timeline.unchanged, counterpart: Timeline.coupled(target: .deleted))
        #expect(decision != .unchanged)
    }

    @Test("a deleted target in a one-way mapping follows the policy too", arguments: DeletionConflictPolicy.allCases)
    func targetDeletedOneWay(policy: DeletionConflictPolicy) {
        let decision = decide(Timeline.mapping(.toIntegration, deletion: policy), counterpart: Timeline.coupled(target: .deleted))
        switch policy {
        case .fail: #expect(decision.failureCode == .deletedCounterpart)
        case .restore: #expect(decision == .restore(Timeline.values))
        case .removeCoupling, .propagate: #expect(decision == .removeCoupling(.deletionPolicy))
        }
    }

    @Test("both records deleted: the coupling goes, whatever the policy", arguments: DeletionConflictPolicy.allCases)
    func bothDeleted(policy: DeletionConflictPolicy) {
        #expect(decide(Timeline.mapping(deletion: policy), source: .deleted, counterpart: Timeline.coupled(target: .deleted)) == .removeCoupling(.bothDeleted))
    }

    @Test("a deleted source in a bidirectional mapping is left to the opposite pass", arguments: [DeletionConflictPolicy.fail, .restore, .removeCoupling])
    func sourceDeletedBidirectional(policy: DeletionConflictPolicy) {
        #expect(decide(Timeline.mapping(deletion: policy), source: .deleted, counterpart: Timeline.coupled(target: Timeline.unchanged)) == .skip(.sourceDeleted))
    }

    @Test("a deleted source in a one-way mapping fails under the fail policy")
    func sourceDeletedOneWayFails() {
        let decision = decide(Timeline.mapping(.toIntegration), source: .deleted, counterpart: Timeline.coupled(target: Timeline.unchanged))
        guard case .fail(let failure) = decision else {
            Issue.record("expected a failure, got \(decision)")
            return
        }
        #expect(failure.code == .deletedCounterpart)
        #expect(failure.message.hasPrefix("account acc-1 is coupled to customer 10000, which was deleted."))
    }

    @Test("a deleted source in a one-way mapping cannot be restored against the direction")
    func sourceDeletedOneWayRestore() {
        let decision = decide(Timeline.mapping(.toIntegration, deletion: .restore), source: .deleted,
                              counterpart: Timeline.coupled(target: Timeline.unchanged))
        guard case .fail(let failure) = decision else {
            Issue.record("expected a failure, got \(decision)")
            return
        }
        #expect(failure.code == .restoreNotPossible)
        #expect(failure.message == "account acc-1 is coupled to customer 10000, which was deleted, and mapping CUSTOMER cannot restore it because it only writes to account. Remove the coupling (couplet resolve CUSTOMER 10000 --uncouple), or set the deletion-conflict policy of CUSTOMER to remove coupling, then run CUSTOMER again.")
    }

    @Test("a deleted source in a one-way mapping is uncoupled under that policy")
    func sourceDeletedOneWayUncoupled() {
        let decision = decide(Timeline.mapping(.fromIntegration, deletion: .removeCoupling), .fromIntegration, source: .deleted,
                              counterpart: Timeline.coupled(target: Timeline.changed))
        #expect(decision == .removeCoupling(.deletionPolicy))
    }
}

extension SyncDecision {
    /// The failure's code when the decision is a failure.
    var failureCode: SyncFailure.Code? {
        if case .fail(let failure) = self { failure.code } else { nil }
    }
}
