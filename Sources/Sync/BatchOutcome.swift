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
        /// The target's modified-on when it was read: the write happens only if it still holds.
        var targetModifiedOn: Date?
    }

    private(set) var inserts: [Insert] = []
    private(set) var updates: [Update] = []
    private(set) var counts = SyncCounts()
    /// The oldest modified-on of a source record whose target changed meanwhile: the watermark must stay before it.
    private(set) var oldestLeftForNextRun: Date?
    private var couplings: [Coupling] = []
    private var removedCouplings: [String] = []
    private var uncoupledFailures: [(id: String, message: String, skippable: Bool)] = []
    private var succeeded: [String] = []
    private var errors: [(record: SyncRecord, coupling: Coupling?, message: String, detail: String?)] = []
    private var direction = SyncDirection.toIntegration
    private let now = Date()

    /// Files one record's decision.
    mutating func add(_ decision: SyncDecision, for record: SyncRecord, coupling: Coupling?, target: SyncRecord?, direction: SyncDirection) {
        self.direction = direction
        switch decision {
        case .skip:
            counts.skipped += 1
        case .keepTarget:
            counts.unchanged += 1
        case .unchanged:
            counts.unchanged += 1
            if let coupling {
                // Only the source is known to be synced: the target may hold changes the opposite pass has yet to carry.
                couplings.append(
                    coupling.recordingSuccess(direction: direction, sourceModifiedOn: record.modifiedOn, targetModifiedOn: nil, at: now))
            }
        case .insert(let values):
            inserts.append(Insert(record: record, coupling: nil, values: values))
        case .restore(let values):
            inserts.append(Insert(record: record, coupling: coupling, values: values))
        case .update(let values, _):
            if let coupling { updates.append(Update(record: record, coupling: coupling, values: values, targetModifiedOn: target?.modifiedOn)) }
        case .removeCoupling:
            if let coupling { removedCouplings.append(coupling.localID) }
            counts.uncoupled += 1
        case .fail(let failure):
            fail(record, coupling: coupling, message: failure.message, detail: failure.detail, skippable: failure.isSkippable)
        case .couple(let targetID, let changes):
            let fresh = direction == .toIntegration
                ? Coupling(localID: record.id, integrationID: targetID) : Coupling(localID: targetID, integrationID: record.id)
            counts.coupled += 1
            if changes.isEmpty {
                couplings.append(fresh.recordingSuccess(direction: direction, sourceModifiedOn: record.modifiedOn, targetModifiedOn: nil, at: now))
            } else {
                updates.append(Update(record: record, coupling: fresh, values: changes, targetModifiedOn: nil))
            }
        case .match:
            preconditionFailure("the pass decides again with the match outcome")
        }
    }

    /// The target record was inserted: couple it to its source.
    mutating func inserted(_ insert: Insert, targetID: String, targetModifiedOn: Date) {
        let (localID, integrationID) = direction == .toIntegration ? (insert.record.id, targetID) : (targetID, insert.record.id)
        let fresh = Coupling(localID: localID, integrationID: integrationID)
        couplings.append(
            fresh.recordingSuccess(direction: direction, sourceModifiedOn: insert.record.modifiedOn, targetModifiedOn: targetModifiedOn, at: now))
        if let old = insert.coupling, old.localID != localID { removedCouplings.append(old.localID) }
        succeeded.append(insert.record.id)
        counts.inserted += 1
        if insert.coupling == nil { counts.coupled += 1 }
    }

    /// The coupled target was updated: store both sides' new modified-on, so the write does not echo back.
    mutating func updated(_ update: Update, targetModifiedOn: Date) {
        couplings.append(
            update.coupling.recordingSuccess(
                direction: direction, sourceModifiedOn: update.record.modifiedOn, targetModifiedOn: targetModifiedOn, at: now))
        counts.modified += 1
    }

    /// The target changed after it was read: nothing was written and the coupling stays as it was,
    /// so the next run sees both sides' changes (and, if they differ, the update-conflict policy).
    mutating func changedMeanwhile(_ update: Update) {
        counts.skipped += 1
        oldestLeftForNextRun = min(oldestLeftForNextRun ?? update.record.modifiedOn, update.record.modifiedOn)
    }

    /// The target refused the record's write.
    mutating func refused(_ record: SyncRecord, coupling: Coupling?, message: String) {
        fail(record, coupling: coupling, message: "the target refused \(record.id): \(message)", detail: nil)
    }

    private mutating func fail(_ record: SyncRecord, coupling: Coupling?, message: String, detail: String?, skippable: Bool = true) {
        counts.failed += 1
        errors.append((record, coupling, message, detail))
        if let coupling {
            couplings.append(coupling.recordingFailure(direction: direction, message: message, at: now, skippable: skippable))
        } else {
            uncoupledFailures.append((record.id, message, skippable))
        }
    }

    /// Saves couplings, failures and errors, one statement each.
    func save(mapping: String, direction: SyncDirection, runID: Int64, on db: PostgresConnection) async throws {
        try await db.withTransaction { tx in
            try await CouplingStore.remove(localIDs: removedCouplings, mapping: mapping, on: tx)
            try await CouplingStore.save(couplings, mapping: mapping, on: tx)
            try await saveUncoupledFailures(mapping: mapping, side: direction.source, on: tx)
            try await saveErrors(mapping: mapping, direction: direction, runID: runID, on: tx)
        }
    }

    /// A record without a coupling that fails the same way twice is skipped, like a coupled one
    /// (unless its failure is not skippable).
    private func saveUncoupledFailures(mapping: String, side: SyncSide, on db: PostgresConnection) async throws {
        if !succeeded.isEmpty {
            try await db.query(
                "DELETE FROM couplet.sync_failures WHERE mapping = \(mapping) AND side = \(side.rawValue) AND record_id = ANY(\(succeeded))",
                name: "clear failures")
        }
        guard !uncoupledFailures.isEmpty else { return }
        try await db.query(
            """
            WITH failure AS (
                SELECT * FROM unnest(\(uncoupledFailures.map(\.id)), \(uncoupledFailures.map(\.message)), \(uncoupledFailures.map(\.skippable)))
                    AS u(record_id, error, skippable))
            INSERT INTO couplet.sync_failures AS f (mapping, side, record_id, error)
            SELECT \(mapping), \(side.rawValue), record_id, error FROM failure
            ON CONFLICT (mapping, side, record_id) DO UPDATE
                SET skipped = f.skipped OR (f.error = excluded.error
                                            AND (SELECT skippable FROM failure WHERE failure.record_id = excluded.record_id)),
                    error = excluded.error, failed_at = now()
            """, name: "save failures")
    }

    private func saveErrors(mapping: String, direction: SyncDirection, runID: Int64, on db: PostgresConnection) async throws {
        guard !errors.isEmpty else { return }
        let ids = errors.map { error -> (local: String?, integration: String?) in
            let counterpart = error.coupling?.id(on: direction.target)
            return direction == .toIntegration ? (error.record.id, counterpart) : (counterpart, error.record.id)
        }
        try await db.query(
            """
            INSERT INTO couplet.sync_errors (run_id, mapping, direction, local_id, integration_id, message, detail)
            SELECT \(runID), \(mapping), \(direction.storedName), * FROM unnest(\(ids.map(\.local)), \(ids.map(\.integration)),
                \(errors.map(\.message)), \(errors.map(\.detail)))
            """, name: "log sync errors")
    }
}
