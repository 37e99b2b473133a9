import Foundation

/// Why a record is left alone and counted as skipped.
public enum SkipReason: String, Sendable, Equatable, CustomStringConvertible {
    /// The mapping does not synchronize in this pass's direction.
    case directionNotMapped
    /// The coupling is skipped after failing twice with the same error.
    case couplingSkipped
    /// The record is not coupled and the mapping synchronizes only coupled records.
    case notCoupled
    /// The record is not coupled, no match was found, and the mapping may not insert.
    case insertNotAllowed
    /// The source record was deleted; the opposite pass handles its coupling.
    case sourceDeleted
    /// The counterpart was deleted and the coupling removed by the deletion policy: the record is
    /// not created on the other side again unless a person asks.
    case counterpartDeleted
    /// The coupled counterpart exists but is outside the mapping's filter: it is neither written nor
    /// taken for deleted while it stays outside.
    case counterpartOutsideFilter
    /// The counterpart was deleted and the policy propagates deletions: the pass from the deleted
    /// side deletes this record (a full or records run finds the deletion).
    case deletionPropagatedByOtherPass
    /// A delta found an uncoupled record last changed by the integration's own login: its write,
    /// not a person's new record, so it does not travel back.
    case changedByIntegration
    /// A person's pending action on the pair is carried out by the pass the other way.
    case actionLeftToOtherPass

    /// The reason in words, for the sync log.
    public var description: String {
        switch self {
        case .directionNotMapped: "the mapping does not synchronize in this direction"
        case .couplingSkipped: "the coupling is skipped after failing twice with the same error; retry it to synchronize the record again"
        case .notCoupled: "the record is not coupled and the mapping synchronizes only coupled records"
        case .insertNotAllowed: "the record is not coupled, no match was found, and the mapping does not insert new records"
        case .sourceDeleted: "the record was deleted; the opposite direction applies the deletion-conflict policy"
        case .counterpartDeleted: "its coupled counterpart was deleted and the coupling removed; it is not created again unless you ask (couplet resolve MAPPING ID --restore, or --delete to delete it too)"
        case .deletionPropagatedByOtherPass: "its coupled counterpart was deleted; the pass from the deleted side deletes this record when it sees the deletion (a full run, or a delta over change tracking)"
        case .counterpartOutsideFilter: "its coupled counterpart is outside the mapping's filter; it is synchronized again once it passes the filter"
        case .changedByIntegration: "it was last changed by the integration's own login (its modified-by column), so a delta does not take it for a person's new record; a full run or couplet sync MAPPING --records ID synchronizes it"
        case .actionLeftToOtherPass: "a person's pending action on the pair (couplet.record_actions) is carried out by the pass the other way"
        }
    }
}

/// Why a coupling is removed.
public enum UncouplingReason: String, Sendable, Equatable {
    /// The deletion-conflict policy is to remove the coupling.
    case deletionPolicy
    /// Both records were deleted: nothing is left to synchronize.
    case bothDeleted
}

/// What the engine does with one source record in one pass.
///
/// Made by `init(for:in:changes:)`, which follows DOMAIN.md's sync run, step 2, in this order:
/// direction not mapped → skip; a person's pending action on a coupled pair that applies to the
/// pass → what it asks (`PendingRecordAction.verdict`); coupling skipped → skip; a record of the pair deleted →
/// deletion-conflict policy; not coupled → match, else insert if allowed, else skip; source
/// unchanged → unchanged; both changed and a field carried both ways differs (bidirectional
/// mapping) → update-conflict policy (`merge`: field by field, see `FieldChanges`); otherwise write the
/// changed fields (none → unchanged).
public enum SyncDecision: Sendable, Equatable {
    /// Leave the record alone; counted as skipped.
    case skip(SkipReason)
    /// Nothing to write; counted as unchanged. The engine may still store the source's
    /// modified-on in the coupling.
    case unchanged
    /// Run match-based coupling for the record, then decide again with its `MatchOutcome`.
    case match
    /// Insert a target record with these values (the target's defaults fill the rest) and
    /// couple it to the source.
    case insert(FieldValues)
    /// Couple the source to the matched target `targetID`. Coupling copies nothing by itself:
    /// the pass then decides the new pair as one whose records both changed since the last sync,
    /// so when their fields differ the update-conflict policy decides (NULLs included).
    case couple(targetID: String)
    /// Write these changed values to the coupled target. `resolvedConflict` is the policy
    /// that let the source win when both records had changed, `nil` when there was no conflict;
    /// `merge` writes only the fields the source changed, and the target's own changes are left
    /// for the opposite pass.
    case update(FieldValues, resolvedConflict: UpdateConflictPolicy?)
    /// Both records changed and differ, and the policy lets the target win: write nothing and
    /// leave the coupling as it is; the opposite pass copies the target's values.
    case keepTarget(UpdateConflictPolicy)
    /// The coupled target was deleted: create it again with these values and re-couple.
    case restore(FieldValues)
    /// Delete the coupling; the records stay as they are.
    case removeCoupling(UncouplingReason)
    /// The source was deleted and the policy propagates deletions: delete the coupled target
    /// (only if it still carries the modified-on it was read with) and the coupling.
    case deleteTarget
    /// The record fails with this failure.
    case fail(SyncFailure)

    /// The decision for `record` in `mapping`.
    ///
    /// `changes` computes the values to write (normally `FieldDiff.changes`) against the
    /// target's current values, or against no target when there is none (insert, restore);
    /// it is called only when the decision depends on it, at most once. Its failure fails the
    /// record.
    public init(for record: RecordSyncInput, in mapping: MappingSettings,
                changes: () throws(SyncFailure) -> FieldValues) {
        guard mapping.direction.includes(record.direction) else {
            self = .skip(.directionNotMapped)
            return
        }
        self = withoutActuallyEscaping(changes) { changes in
            DecisionContext(record: record, mapping: mapping, changes: changes).decide()
        }
    }
}

/// The steps of the decision, sharing the record, the mapping and the changes.
private struct DecisionContext {
    let record: RecordSyncInput
    let mapping: MappingSettings
    let changes: () throws(SyncFailure) -> FieldValues

    private var direction: SyncDirection { record.direction }
    private var source: RecordIdentity { mapping.record(record.sourceID, on: direction.source) }

    func decide() -> SyncDecision {
        switch record.counterpart {
        case .notCoupled(let match): uncoupled(match: match)
        case .coupled(let coupling, let target): coupled(coupling, target: target)
        case .uncoupledByDeletion: .skip(.counterpartDeleted)
        }
    }

    private func uncoupled(match: MatchOutcome) -> SyncDecision {
        guard record.source != .deleted else { return .skip(.sourceDeleted) }
        guard !record.changedByIntegration else { return .skip(.changedByIntegration) }
        guard !mapping.syncOnlyCoupled else { return .skip(.notCoupled) }
        switch match {
        case .notTried: return mapping.matchConfigured ? .match : insertOrSkip()
        case .notFound: return insertOrSkip()
        case .found(let targetID): return .couple(targetID: targetID)
        case .ambiguous(let count): return .fail(ambiguousMatch(count))
        case .alreadyCoupled(let targetID, let other): return .fail(matchAlreadyCoupled(targetID, other))
        case .duplicateSources(let targetID, let count): return .fail(duplicateSources(targetID, count))
        }
    }

    private func coupled(_ coupling: Coupling, target: RecordPresence) -> SyncDecision {
        if let asked = asked() { return asked }
        guard !coupling.isSkipped else { return .skip(.couplingSkipped) }
        switch (record.source, target) {
        case (.deleted, .outsideFilter): return deletedBesideFilteredOut(coupling)
        case (.outsideFilter, _), (_, .outsideFilter): return .skip(.counterpartOutsideFilter)
        case (.deleted, .deleted): return .removeCoupling(.bothDeleted)
        case (.present(let source), .deleted): return targetDeleted(coupling, source: source)
        case (.deleted, .present(let target)): return sourceDeleted(coupling, target: target)
        case (.present(let source), .present(let target)):
            let sourceChanged = !record.changedByIntegration && coupling.hasChanged(direction.source, stamp: source)
            let targetChanged = coupling.hasChanged(direction.target, stamp: target)
            guard sourceChanged else { return .unchanged }
            return withChanges { update($0, coupling: coupling, targetChanged: targetChanged) }
        }
    }

    /// What a person's pending action decides, when it applies to this pass: it overrides the
    /// policies and a skipped coupling. `nil`: decide as without it.
    private func asked() -> SyncDecision? {
        guard let action = record.action, let verdict = record.actionVerdict(in: mapping) else { return nil }
        switch verdict {
        case .notApplicable: return nil
        case .leftToOtherPass: return .skip(.actionLeftToOtherPass)
        case .carriesOut:
            switch action.request {
            case .use(let winner):
                // As a conflict the policy resolves: the loser is left unsynced, so its changes to fields only it carries still flow back.
                return withChanges { $0.isEmpty ? .unchanged : .update($0, resolvedConflict: .winning(winner)) }
            case .restore: return withChanges { .restore($0) }
            case .delete: return .deleteTarget
            }
        }
    }

    private func insertOrSkip() -> SyncDecision {
        mapping.allowInsert ? withChanges { .insert($0) } : .skip(.insertNotAllowed)
    }

    private func update(_ changes: FieldValues, coupling: Coupling, targetChanged: Bool) -> SyncDecision {
        guard !changes.isEmpty else { return .unchanged }
        guard targetChanged, mapping.direction == .bidirectional, changes.keys.contains(where: isTwoWay) else {
            return .update(changes, resolvedConflict: nil)
        }
        let policy = mapping.updateConflictPolicy
        if policy == .merge { return merged(changes, coupling: coupling) }
        switch policy.winner {
        case nil: return .fail(updateConflict(changes, coupling: coupling))
        case direction.source: return .update(changes, resolvedConflict: policy)
        default: return .keepTarget(policy)
        }
    }

    /// Both records changed: the fields only the source changed travel (and one-way fields, which
    /// belong to the source); a field the target changed stays (the opposite pass carries it),
    /// unless the source changed it too to another value, which fails the record. Nothing to
    /// carry is `unchanged`.
    private func merged(_ changes: FieldValues, coupling: Coupling) -> SyncDecision {
        let changed = record.fieldChanges
        let travelling = changes.filter { !isTwoWay($0.key) || (changed?.source.contains($0.key) ?? true) }
        let clashing = travelling.keys.filter { isTwoWay($0) && (changed?.target.contains($0) ?? true) }
        guard clashing.isEmpty else { return .fail(fieldConflict(clashing.sorted(), coupling: coupling)) }
        return travelling.isEmpty ? .unchanged : .update(travelling, resolvedConflict: .merge)
    }

    /// Whether the target column's field is carried both ways (only those can conflict).
    private func isTwoWay(_ column: String) -> Bool {
        record.twoWayColumns?.contains(column) ?? true
    }

    private func targetDeleted(_ coupling: Coupling, source: RecordStamp) -> SyncDecision {
        switch mapping.deletionConflictPolicy {
        case .fail: return .fail(deletedCounterpart(coupling, deleted: direction.target))
        case .restore: return withChanges { .restore($0) }
        case .removeCoupling: return .removeCoupling(.deletionPolicy)
        case .propagate:
            guard mapping.direction == .bidirectional else { return .removeCoupling(.deletionPolicy) }
            if coupling.hasChanged(direction.source, stamp: source) {
                return .fail(survivorChanged(coupling, deleted: direction.target))
            }
            return .skip(.deletionPropagatedByOtherPass)
        }
    }

    /// In a bidirectional mapping the opposite pass sees the surviving record and applies the
    /// policy (propagation excepted: this pass deletes the target); in a one-way mapping this pass is the only one.
    private func sourceDeleted(_ coupling: Coupling, target: RecordStamp) -> SyncDecision {
        if mapping.deletionConflictPolicy == .propagate {
            let changed = coupling.hasChanged(direction.target, stamp: target)
            return changed ? .fail(survivorChanged(coupling, deleted: direction.source)) : .deleteTarget
        }
        guard mapping.direction != .bidirectional else { return .skip(.sourceDeleted) }
        switch mapping.deletionConflictPolicy {
        case .fail: return .fail(deletedCounterpart(coupling, deleted: direction.source))
        case .restore: return .fail(restoreNotPossible(coupling))
        case .removeCoupling, .propagate: return .removeCoupling(.deletionPolicy)
        }
    }

    /// The source was deleted and its counterpart is outside the filter: the integration does not
    /// write that record, so only the coupling can go (remove_coupling); otherwise a person decides.
    private func deletedBesideFilteredOut(_ coupling: Coupling) -> SyncDecision {
        mapping.deletionConflictPolicy == .removeCoupling
            ? .removeCoupling(.deletionPolicy) : .fail(deletedCounterpart(coupling, deleted: direction.source))
    }

    private func withChanges(_ decide: (FieldValues) -> SyncDecision) -> SyncDecision {
        do {
            return decide(try changes())
        } catch {
            return .fail(error)
        }
    }
}

/// The failure messages of the decision.
private extension DecisionContext {
    /// `couplet resolve MAPPING LOCAL_ID`: the start of the command that resolves the pair.
    func resolve(_ coupling: Coupling, _ name: FailureWording) -> String {
        "couplet resolve \(mapping.name) \(name.specific(coupling.localID, or: "LOCAL_ID"))"
    }

    func ambiguousMatch(_ count: Int) -> SyncFailure {
        SyncFailure(code: .ambiguousMatch) { name in
            "\(name(source)) cannot be coupled by mapping \(mapping.name): \(name.specific(String(count), or: "several")) \(mapping.table(on: direction.target)) records have the same match-field values. Make the match fields unique (or add one), or couple \(name(source)) manually, then run \(mapping.name) again."
        }
    }

    func duplicateSources(_ targetID: String, _ count: Int) -> SyncFailure {
        let target = mapping.record(targetID, on: direction.target)
        return SyncFailure(code: .ambiguousMatch) { name in
            "\(name(source)) cannot be coupled by mapping \(mapping.name): it matches \(name(target)), but \(name.specific(String(count), or: "several")) \(mapping.table(on: direction.source)) records have the same match-field values. Remove the duplicates or make the match fields unique, or couple the right one manually, then run \(mapping.name) again."
        }
    }

    func matchAlreadyCoupled(_ targetID: String, _ coupledSourceID: String) -> SyncFailure {
        let target = mapping.record(targetID, on: direction.target)
        let other = mapping.record(coupledSourceID, on: direction.source)
        return SyncFailure(code: .matchAlreadyCoupled) { name in
            "\(name(source)) cannot be coupled by mapping \(mapping.name): it matches \(name(target)), which is already coupled to \(name(other, generic: "another record")). Check the match fields for duplicates, or couple \(name(source)) manually, then run \(mapping.name) again."
        }
    }

    func updateConflict(_ changes: FieldValues, coupling: Coupling) -> SyncFailure {
        let target = mapping.record(coupling.id(on: direction.target), on: direction.target)
        let fields = changes.keys.sorted().joined(separator: ", ")
        return SyncFailure(code: .updateConflict, detail: fields) { name in
            "\(name(source)) and \(name(target)) were both changed since the last sync and differ\(name.specific(" in \(fields)", or: "")). Choose the record that wins this once (\(resolve(coupling, name)) --use local|integration), or make the two records agree, or set the update-conflict policy of mapping \(mapping.name) to send to or get from the integration table (or merge, which lets changes to different fields both travel), then run \(mapping.name) again."
        }
    }

    func fieldConflict(_ columns: [String], coupling: Coupling) -> SyncFailure {
        let target = mapping.record(coupling.id(on: direction.target), on: direction.target)
        let fields = columns.map { "\(mapping.table(on: direction.target)).\($0)" }.joined(separator: ", ")
        return SyncFailure(code: .updateConflict, detail: fields, cause: "fields:" + columns.joined(separator: ",")) { name in
            "\(name(source)) and \(name(target)) both changed \(fields) since the last sync, to different values; mapping \(mapping.name) merges changes to different fields only. Make the two records agree on \(fields), or choose the side that wins for this pair (\(resolve(coupling, name)) --use local|integration), then run \(mapping.name) again."
        }
    }

    func deletedCounterpart(_ coupling: Coupling, deleted side: SyncSide) -> SyncFailure {
        let survivor = mapping.record(coupling.id(on: side.opposite), on: side.opposite)
        let deleted = mapping.record(coupling.id(on: side), on: side)
        return SyncFailure(code: .deletedCounterpart) { name in
            "\(name(survivor)) is coupled to \(name(deleted)), which was deleted. Restore it (\(resolve(coupling, name)) --restore), delete \(name(survivor)) too (--delete) or remove the coupling (--uncouple); or set the deletion-conflict policy of mapping \(mapping.name) to restore or remove coupling, then run \(mapping.name) again."
        }
    }

    func survivorChanged(_ coupling: Coupling, deleted side: SyncSide) -> SyncFailure {
        let survivor = mapping.record(coupling.id(on: side.opposite), on: side.opposite)
        let deleted = mapping.record(coupling.id(on: side), on: side)
        return SyncFailure(code: .deletedCounterpart) { name in
            "\(name(survivor)) is coupled to \(name(deleted)), which was deleted, but \(name(survivor)) changed after the last sync, so mapping \(mapping.name) does not propagate the deletion (the change would be lost). Delete \(name(survivor)) all the same (\(resolve(coupling, name)) --delete), restore the deleted record (--restore) or uncouple the pair (--uncouple), then run \(mapping.name) again."
        }
    }

    func restoreNotPossible(_ coupling: Coupling) -> SyncFailure {
        let survivor = mapping.record(coupling.id(on: direction.target), on: direction.target)
        let deleted = mapping.record(coupling.id(on: direction.source), on: direction.source)
        return SyncFailure(code: .restoreNotPossible) { name in
            "\(name(survivor)) is coupled to \(name(deleted)), which was deleted, and mapping \(mapping.name) cannot restore it because it only writes to \(mapping.table(on: direction.target)). Remove the coupling (\(resolve(coupling, name)) --uncouple), or set the deletion-conflict policy of \(mapping.name) to remove coupling, then run \(mapping.name) again."
        }
    }
}
