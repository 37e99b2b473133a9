import Foundation
import Postgres

/// What one batch decided, and then wrote, before it is saved to the coordination database.
struct BatchOutcome {
    /// A record to insert in the target (new, or restoring a deleted counterpart).
    struct Insert {
        var record: SyncRecord
        var coupling: Coupling?
        var values: FieldValues
    }

    /// A change to write to a coupled target.
    struct Update {
        var record: SyncRecord
        var coupling: Coupling
        var values: FieldValues
        /// The target's values as read, changes applied: what the record holds after the write.
        var expected: FieldValues
        /// The target's state when it was read: the write happens only if it still holds.
        var target: RecordStamp
        /// The coupling is new (made by match) and is saved whatever the write does.
        var isNewCoupling: Bool
        /// A conflict was resolved (the source won, or `merge` wrote only the source's fields): the
        /// target is not taken for synced, so its changes to what this pass does not carry (its
        /// one-way fields, under `merge` its own fields) still flow back in the opposite pass.
        var keepsTargetChanges = false
    }

    /// A coupled target to delete because its source was deleted.
    struct Deletion {
        var coupling: Coupling
        var target: RecordStamp
    }

    let direction: SyncDirection
    /// The mapping syncs both ways: a pair just coupled is in step only once both passes compared it.
    let bidirectional: Bool
    /// The mapping's update-conflict policy is `merge`: couplings keep each side's field fingerprints.
    let mergesFields: Bool
    private(set) var inserts: [Insert] = []
    private(set) var updates: [Update] = []
    private(set) var deletions: [Deletion] = []
    private(set) var counts = SyncCounts()
    /// The oldest modified-on of a source record whose target changed meanwhile: the watermark must stay before it.
    private(set) var oldestLeftForNextRun: Date?
    /// The source records whose write intents the save clears.
    private(set) var intended: [String] = []
    private var couplings: [Coupling] = []
    /// The batch's source records, by id.
    private var sourceRecords: [String: SyncRecord] = [:]
    private var removedCouplings: [String] = []
    /// The local ids of the pairs deleted with their source.
    private var deletedPairs: [String] = []
    private var survivors: [(side: SyncSide, id: String, counterpart: String)] = []
    private var uncoupledFailures: [(id: String, failure: SyncFailure)] = []
    private var succeeded: [String] = []
    private var errors: [(record: SyncRecord, coupling: Coupling?, failure: SyncFailure)] = []
    /// The pending actions of the batch's records: settled by the save, done only once their write succeeded.
    var actions = ActionSettlements()
    private let now = Date()

    /// An empty outcome for a pass in `direction` of a mapping that syncs both ways or one way,
    /// and merges field by field or not.
    init(direction: SyncDirection, bidirectional: Bool, mergesFields: Bool) {
        self.direction = direction
        self.bidirectional = bidirectional
        self.mergesFields = mergesFields
    }

    /// Files one record's decision; `isNewCoupling` marks a pair just coupled by match, saved whatever happens next.
    mutating func add(
        _ decision: SyncDecision, for record: SyncRecord, coupling: Coupling?, target: SyncRecord?, isNewCoupling: Bool = false,
        sourceDeleted: Bool = false
    ) {
        if isNewCoupling { counts.coupled += 1 }
        sourceRecords[record.id] = record
        switch decision {
        case .skip:
            counts.skipped += 1
        case .keepTarget:
            counts.unchanged += 1
            if isNewCoupling, let coupling { couplings.append(coupling) }
        case .unchanged:
            counts.unchanged += 1
            actions.wrote(.nothing, for: record.id)
            if isNewCoupling, bidirectional, let coupling {
                // Just coupled: in step only once the opposite pass, too, found nothing to carry.
                couplings.append(coupling)
            } else if let coupling {
                // Only the source is known to be synced, unless the pair was just coupled (one way) and agrees.
                let synced = coupling.recordingSuccess(
                    direction: direction, source: record.stamp, target: isNewCoupling ? target?.stamp : nil, at: now)
                couplings.append(remembering(synced, source: record.values, target: isNewCoupling ? target?.values : nil))
            }
        case .insert(let values):
            inserts.append(Insert(record: record, coupling: nil, values: values))
        case .restore(let values):
            inserts.append(Insert(record: record, coupling: coupling, values: values))
        case .update(let values, let resolved):
            if let coupling, let target {
                let expected = target.values.merging(values) { _, new in new }
                updates.append(Update(
                    record: record, coupling: coupling, values: values, expected: expected, target: target.stamp,
                    isNewCoupling: isNewCoupling, keepsTargetChanges: resolved != nil))
            }
        case .deleteTarget:
            if let coupling, let target { deletions.append(Deletion(coupling: coupling, target: target.stamp)) }
        case .removeCoupling(let reason):
            guard let coupling else { break }
            removedCouplings.append(coupling.localID)
            counts.uncoupled += 1
            if reason == .deletionPolicy { remember(survivorOf: coupling, sourceDeleted: sourceDeleted) }
        case .fail(let failure):
            failed(record, coupling: coupling, failure: failure)
        case .match, .couple:
            // The pass decides again: with the match outcome, then as a coupled pair.
            failed(record, coupling: coupling, failure: SyncFailure(code: .configuration) { name in
                "\(name.specific(record.id, or: "the record")) was not decided"
            })
        }
    }

    /// The survivor of a deleted counterpart, remembered so it is not created on the other side again.
    private mutating func remember(survivorOf coupling: Coupling, sourceDeleted: Bool) {
        let side = sourceDeleted ? direction.target : direction.source
        survivors.append((side, coupling.id(on: side), coupling.id(on: side.opposite)))
    }

    /// The intents of the batch's writes, to store before writing (`keyed`: the inserts with their
    /// keys assigned, in `keyColumn`). A new record is expected to hold NULL in each of `mappedColumns`
    /// it does not write: a person's value there after the insert is a change, not the insert's own.
    mutating func intents(inserting keyed: [NewRecord], keyColumn: String, mappedColumns: [String]) -> [WriteIntent] {
        let unwritten = Dictionary(mappedColumns.map { ($0, String?.none) }, uniquingKeysWith: { first, _ in first })
        let inserted = zip(inserts, keyed).map { insert, new in
            WriteIntent(
                sourceID: insert.record.id, operation: .insert, targetID: new.values[keyColumn] ?? nil,
                keyAssigned: new.keyAssigned, expected: new.values.merging(unwritten) { written, _ in written },
                source: insert.record.stamp)
        }
        let updated = updates.map { update in
            WriteIntent(
                sourceID: update.record.id, operation: .update, targetID: update.coupling.id(on: direction.target),
                keyAssigned: false, expected: update.expected, source: update.record.stamp)
        }
        intended = (inserted + updated).map(\.sourceID)
        return inserted + updated
    }

    /// The target record was inserted: couple it to its source.
    mutating func inserted(_ insert: Insert, targetID: String, target: RecordStamp) {
        let (localID, integrationID) = direction == .toIntegration ? (insert.record.id, targetID) : (targetID, insert.record.id)
        let fresh = Coupling(localID: localID, integrationID: integrationID).recordingSuccess(
            direction: direction, source: insert.record.stamp, target: target, at: now)
        couplings.append(remembering(fresh, source: insert.record.values, target: insert.values))
        if let old = insert.coupling, old.localID != localID { removedCouplings.append(old.localID) }
        succeeded.append(insert.record.id)
        counts.inserted += 1
        actions.wrote(.restored(id: targetID), for: insert.record.id)
        if insert.coupling == nil { counts.coupled += 1 }
    }

    /// The pairs the batch synced (inserted, updated or found unchanged), with their source
    /// records: where the target's key may need to travel back.
    var syncedPairs: [(record: SyncRecord, targetID: String)] {
        couplings.compactMap { coupling in
            guard coupling[direction.source].lastResult == .success, let record = sourceRecords[coupling.id(on: direction.source)] else {
                return nil
            }
            return (record, coupling.id(on: direction.target))
        }
    }

    /// Source records were written after their pairs synced (the target's key written back):
    /// their couplings store the source's new state, so the write does not echo.
    mutating func sourceRewritten(_ stamps: [String: RecordStamp]) {
        for index in couplings.indices {
            guard let stamp = stamps[couplings[index].id(on: direction.source)] else { continue }
            couplings[index][direction.source].lastSynced = stamp
        }
    }

    /// An update the integration made and did not record (its writer stopped) is recorded now as its own.
    /// Under `merge` the write may have left the target's own changes for the opposite pass, so
    /// the target is not taken for synced.
    mutating func adopted(_ coupling: Coupling, source: RecordStamp, target: RecordStamp) {
        couplings.append(coupling.recordingSuccess(direction: direction, source: source, target: mergesFields ? nil : target, at: now))
    }

    /// A record the integration inserted and did not couple (its writer stopped) is coupled now as
    /// its own, replacing the coupling to the deleted record it restored, if any. A nil `target`
    /// (the record changed since) leaves the target side to count as changed.
    mutating func adopted(_ fresh: Coupling, replacing old: Coupling?, source: RecordStamp, target: RecordStamp?) {
        var result = fresh.recordingSuccess(direction: direction, source: source, target: target, at: now)
        if target == nil { result[direction.target].lastSynced = nil }
        if let old, old.localID != fresh.localID { removedCouplings.append(old.localID) }
        couplings.append(result)
        if old == nil { counts.coupled += 1 }
        succeeded.append(fresh.id(on: direction.source))
    }

    /// The coupled target was updated: store both sides' new state, so the write does not echo
    /// back — the target's only when it holds nothing else to carry (not after a resolved conflict).
    mutating func updated(_ update: Update, target: RecordStamp) {
        let synced = update.coupling.recordingSuccess(
            direction: direction, source: update.record.stamp, target: update.keepsTargetChanges ? nil : target, at: now)
        let target = update.keepsTargetChanges ? nil : update.expected
        couplings.append(remembering(synced, source: update.record.values, target: target, written: update.values))
        counts.modified += 1
        actions.wrote(.updated(fields: update.values.keys.sorted()), for: update.record.id)
    }

    /// Under `merge`, `coupling` with the fingerprints of what each side holds now: the source's
    /// values; the target's whole `target` when it is in step, else its old ones with `written`
    /// over them.
    private func remembering(_ coupling: Coupling, source: FieldValues, target: FieldValues?, written: FieldValues = [:]) -> Coupling {
        guard mergesFields else { return coupling }
        var result = coupling
        result[direction.source].fields = FieldFingerprints(source)
        if let target {
            result[direction.target].fields = FieldFingerprints(target)
        } else if !written.isEmpty {
            result[direction.target].fields = result[direction.target].fields?.updating(written)
        }
        return result
    }

    /// The target changed after it was read: nothing was written and the coupling stays as it was
    /// (a new one is saved as it is), so the next run sees both sides' changes (and, if they
    /// differ, the update-conflict policy).
    mutating func changedMeanwhile(_ update: Update) {
        if update.isNewCoupling { couplings.append(update.coupling) }
        leftForNextRun(update.record.modifiedOn)
    }

    /// The target was deleted with its source: the coupling goes too.
    mutating func deleted(_ deletion: Deletion) {
        removedCouplings.append(deletion.coupling.localID)
        deletedPairs.append(deletion.coupling.localID)
        counts.deleted += 1
        actions.wrote(.deleted, for: deletion.coupling.id(on: direction.source))
    }

    /// The intents of these source records are cleared by the save (they were reconciled).
    mutating func clearing(_ sourceIDs: [String]) {
        intended += sourceIDs
    }

    /// The target changed after it was read, so its deletion waits for the next run.
    mutating func deletionWaits(_ deletion: Deletion) {
        counts.skipped += 1
    }

    private mutating func leftForNextRun(_ modifiedOn: Date) {
        counts.skipped += 1
        oldestLeftForNextRun = min(oldestLeftForNextRun ?? modifiedOn, modifiedOn)
    }

    /// The record failed: as decided, or while being written (the target refused it, its key is taken).
    mutating func failed(_ record: SyncRecord, coupling: Coupling?, failure: SyncFailure) {
        counts.failed += 1
        errors.append((record, coupling, failure))
        if let coupling {
            couplings.append(coupling.recordingFailure(direction: direction, failure: failure, at: now))
        } else {
            uncoupledFailures.append((record.id, failure))
        }
    }

    /// Saves couplings, remembered deletions, failures and errors, settles the batch's record
    /// actions, and clears the batch's write intents, in one transaction.
    func save(mapping: String, runID: Int64, intents: WriteIntents, on db: PostgresConnection) async throws {
        try await db.withTransaction { tx in
            try await CouplingStore.remove(localIDs: removedCouplings, mapping: mapping, on: tx)
            try await CouplingStore.save(couplings, mapping: mapping, on: tx)
            try await DeletedCounterparts.remember(survivors, mapping: mapping, on: tx)
            try await saveUncoupledFailures(mapping: mapping, side: direction.source, on: tx)
            try await closeErrors(mapping: mapping, on: tx)
            try await saveErrors(mapping: mapping, runID: runID, on: tx)
            try await RecordActions.settle(actions.settled, runID: runID, on: tx)
            try await intents.clear(sourceIDs: intended, on: tx)
        }
    }

    /// A record without a coupling that fails with a failure of the same class twice is skipped,
    /// like a coupled one (unless its failure is not skippable).
    private func saveUncoupledFailures(mapping: String, side: SyncSide, on db: PostgresConnection) async throws {
        if !succeeded.isEmpty {
            try await db.query(
                "DELETE FROM couplet.sync_failures WHERE mapping = \(mapping) AND side = \(side.rawValue) AND record_id = ANY(\(succeeded))",
                name: "clear failures")
        }
        guard !uncoupledFailures.isEmpty else { return }
        let failures = uncoupledFailures.map(\.failure)
        try await db.query(
            """
            WITH failure AS (
                SELECT * FROM unnest(\(uncoupledFailures.map(\.id)), \(failures.map(\.message)), \(failures.map(\.failureClass)),
                                     \(failures.map(\.isSkippable)))
                    AS u(record_id, error, error_class, skippable))
            INSERT INTO couplet.sync_failures AS f (mapping, side, record_id, error, error_class)
            SELECT \(mapping), \(side.rawValue), record_id, error, error_class FROM failure
            ON CONFLICT (mapping, side, record_id) DO UPDATE
                SET skipped = f.skipped OR (f.error_class = excluded.error_class
                                            AND (SELECT skippable FROM failure WHERE failure.record_id = excluded.record_id)),
                    error = excluded.error, error_class = excluded.error_class, failed_at = now()
            """, name: "save failures")
    }

    /// Logs the batch's failures, one open row per record and failure class: a failure already
    /// open is counted again (once per run), one of a new class closes the record's others as superseded.
    private func saveErrors(mapping: String, runID: Int64, on db: PostgresConnection) async throws {
        let lastFailure = Dictionary(errors.enumerated().map { ($1.record.id, $0) }, uniquingKeysWith: max)
        let latest = errors.enumerated().filter { lastFailure[$1.record.id] == $0 }.map(\.element)
        guard !latest.isEmpty else { return }
        let ids = latest.map { error -> (local: String?, integration: String?) in
            let counterpart = error.coupling?.id(on: direction.target)
            return direction == .toIntegration ? (error.record.id, counterpart) : (counterpart, error.record.id)
        }
        let failures = latest.map(\.failure)
        try await db.query(
            """
            UPDATE couplet.sync_errors e SET closed_at = now(), closed_reason = 'superseded'
            FROM unnest(\(latest.map(\.record.id)), \(failures.map(\.failureClass))) AS f(record_id, error_class)
            WHERE e.closed_at IS NULL AND e.mapping = \(mapping) AND e.direction = \(direction.storedName)
              AND e.record_id = f.record_id AND e.error_class <> f.error_class
            """, name: "supersede sync errors")
        try await db.query(
            """
            INSERT INTO couplet.sync_errors AS e (first_run_id, last_run_id, mapping, direction, local_id, integration_id,
                                                  message, record_message, detail, error_class)
            SELECT \(runID), \(runID), \(mapping), \(direction.storedName), * FROM unnest(\(ids.map(\.local)), \(ids.map(\.integration)),
                \(failures.map(\.summary)), \(failures.map(\.message)), \(failures.map(\.detail)), \(failures.map(\.failureClass)))
            ON CONFLICT (mapping, direction, record_id, error_class) WHERE closed_at IS NULL DO UPDATE
                SET occurrences = e.occurrences + (e.last_run_id IS DISTINCT FROM excluded.last_run_id)::int,
                    last_seen_at = now(), last_run_id = excluded.last_run_id, local_id = excluded.local_id,
                    integration_id = excluded.integration_id, message = excluded.message,
                    record_message = excluded.record_message, detail = excluded.detail
            """, name: "log sync errors")
    }

    /// Closes the open errors of the records the batch synced, the conflicts a person resolved
    /// (both directions: the winner's values were written), then of the pairs it uncoupled or
    /// deleted with their source.
    private func closeErrors(mapping: String, on db: PostgresConnection) async throws {
        let synced = Array(Set(succeeded + syncedPairs.map(\.record.id)))
        if !synced.isEmpty {
            try await db.query(
                """
                UPDATE couplet.sync_errors SET closed_at = now(), closed_reason = 'synced'
                WHERE closed_at IS NULL AND mapping = \(mapping) AND direction = \(direction.storedName) AND record_id = ANY(\(synced))
                """, name: "close synced errors")
        }
        if !actions.resolvedConflicts.isEmpty {
            try await db.query(
                """
                UPDATE couplet.sync_errors SET closed_at = now(), closed_reason = 'synced'
                WHERE closed_at IS NULL AND mapping = \(mapping) AND (error_class = 'update_conflict' OR error_class LIKE 'update_conflict:%')
                  AND local_id = ANY(\(actions.resolvedConflicts))
                """, name: "close resolved conflicts")
        }
        guard !removedCouplings.isEmpty else { return }
        try await db.query(
            """
            UPDATE couplet.sync_errors
            SET closed_at = now(), closed_reason = CASE WHEN local_id = ANY(\(deletedPairs)) THEN 'deleted' ELSE 'uncoupled' END
            WHERE closed_at IS NULL AND mapping = \(mapping) AND local_id = ANY(\(removedCouplings))
            """, name: "close uncoupled errors")
    }
}
