import Foundation
import Testing
@testable import Sync

/// Records and couplings on a timeline: everything was last synced at minute 0.
enum Timeline {
    static let unchanged = RecordPresence.present(RecordStamp(modifiedOn: minute(0)))
    static let changed = RecordPresence.present(RecordStamp(modifiedOn: minute(5)))
    static let values: FieldValues = ["name": "Adatum Corporation"]

    /// CUSTOMER with the given settings; by default bidirectional, uncoupled records allowed.
    static func mapping(_ direction: MappingDirection = .bidirectional, syncOnlyCoupled: Bool = false,
                        allowInsert: Bool = true, matchConfigured: Bool = false,
                        update: UpdateConflictPolicy = .fail, deletion: DeletionConflictPolicy = .fail) -> MappingSettings {
        MappingSettings(name: "CUSTOMER", localTable: "customer", integrationTable: "account", direction: direction,
                        syncOnlyCoupled: syncOnlyCoupled, allowInsert: allowInsert, matchConfigured: matchConfigured,
                        updateConflictPolicy: update, deletionConflictPolicy: deletion)
    }

    /// customer 10000 ↔ account acc-1, both sides synced successfully at minute 0.
    static func coupling(skipped: Bool = false, localResult: SyncResult = .success,
                         integrationResult: SyncResult = .success) -> Coupling {
        Coupling(localID: "10000", integrationID: "acc-1",
                 local: CouplingSide(lastSynced: RecordStamp(modifiedOn: minute(0)), lastResult: localResult,
                                     lastError: localResult == .failure ? "boom" : nil),
                 integration: CouplingSide(lastSynced: RecordStamp(modifiedOn: minute(0)), lastResult: integrationResult,
                                           lastError: integrationResult == .failure ? "boom" : nil),
                 isSkipped: skipped)
    }

    static func coupled(target: RecordPresence, _ coupling: Coupling = coupling()) -> Counterpart {
        .coupled(coupling, target: target)
    }
}

/// Counts how often the decision asks for the changes.
final class ChangesProbe {
    private(set) var calls = 0
    private let result: Result<FieldValues, SyncFailure>

    init(_ result: Result<FieldValues, SyncFailure> = .success(Timeline.values)) {
        self.result = result
    }

    func changes() throws(SyncFailure) -> FieldValues {
        calls += 1
        return try result.get()
    }
}

/// The decision for a source record in `direction`, with the probe supplying the changes.
func decide(_ mapping: MappingSettings = Timeline.mapping(), _ direction: SyncDirection = .toIntegration,
            source: RecordPresence = Timeline.changed, counterpart: Counterpart,
            probe: ChangesProbe = ChangesProbe()) -> SyncDecision {
    let sourceID = direction == .toIntegration ? "10000" : "acc-1"
    let record = RecordSyncInput(direction: direction, sourceID: sourceID, source: source, counterpart: counterpart)
    let decision = SyncDecision(for: record, in: mapping) { () throws(SyncFailure) -> FieldValues in
        try probe.changes()
    }
    #expect(probe.calls <= 1, "the changes are computed at most once")
    return decision
}

/// A failure a diff might report.
let diffFailure = SyncFailure(code: .transformationFailed, message: "customer 10000 cannot be synchronized: bad value")
