import Foundation

/// The outcome of the last pass that carried one side's changes.
public enum SyncResult: String, Sendable, Equatable {
    /// The record was handled: written, found unchanged, uncoupled or left to the opposite pass.
    case success
    /// The record failed; the side's `lastError` says why.
    case failure
}

/// What a coupling remembers about one side of the pair.
///
/// The result and error belong to the pass whose *source* is this side: the integration
/// side's `lastResult` is the outcome of the last integration → local pass for the record.
public struct CouplingSide: Sendable, Equatable {
    /// The side's state (modified-on and row version) as of the last successful sync (after the
    /// integration's own write, so that the write does not echo back); `nil` if never synced.
    public var lastSynced: RecordStamp?
    /// The outcome of the last pass from this side; `nil` if none ran.
    public var lastResult: SyncResult?
    /// The message of the last failure of a pass from this side.
    public var lastError: String?
    /// The class of that failure (`SyncFailure.failureClass`), which the skip rule compares.
    public var lastErrorClass: String?
    /// When a pass from this side last handled the record.
    public var lastRun: Date?
    /// Under the `merge` update-conflict policy, what each mapped column held when last synced;
    /// `nil` when not known (every field then counts as changed).
    public var fields: FieldFingerprints?

    /// A side state; all `nil` means never synchronized.
    public init(lastSynced: RecordStamp? = nil, lastResult: SyncResult? = nil,
                lastError: String? = nil, lastErrorClass: String? = nil, lastRun: Date? = nil, fields: FieldFingerprints? = nil) {
        self.lastSynced = lastSynced
        self.lastResult = lastResult
        self.lastError = lastError
        self.lastErrorClass = lastErrorClass
        self.lastRun = lastRun
        self.fields = fields
    }
}

/// A coupled pair of records, one on each side, with what the last syncs left behind.
public struct Coupling: Sendable, Equatable {
    /// The local (ERP) record's id.
    public var localID: String
    /// The integration (CRM) record's id.
    public var integrationID: String
    /// What is known about the local side.
    public var local: CouplingSide
    /// What is known about the integration side.
    public var integration: CouplingSide
    /// The record failed twice in a row with the same error and is left alone until retried.
    public var isSkipped: Bool

    /// A coupling of two records; by default never synchronized and not skipped.
    public init(localID: String, integrationID: String, local: CouplingSide = CouplingSide(),
                integration: CouplingSide = CouplingSide(), isSkipped: Bool = false) {
        self.localID = localID
        self.integrationID = integrationID
        self.local = local
        self.integration = integration
        self.isSkipped = isSkipped
    }

    /// The id on `side`.
    public func id(on side: SyncSide) -> String {
        side == .local ? localID : integrationID
    }

    /// The state of `side`.
    public subscript(side: SyncSide) -> CouplingSide {
        get { side == .local ? local : integration }
        set {
            if side == .local { local = newValue } else { integration = newValue }
        }
    }

    /// Whether `side` counts as changed: its record's state differs from the stored one (or none
    /// is stored), or its last pass failed and the coupling is not skipped.
    ///
    /// A state equal to the stored one is the integration's own write: not a change. An *earlier*
    /// modified-on is a change: a writer stamping `now()` (its transaction's start) can commit
    /// after the integration's write and still carry an older stamp than it. An equal modified-on
    /// with another row version is a change too: an edit in the same second as the write, on an
    /// endpoint that stamps whole seconds. A version that was not stored leaves the modified-on
    /// to decide alone.
    public func hasChanged(_ side: SyncSide, stamp: RecordStamp) -> Bool {
        let state = self[side]
        if let synced = state.lastSynced, stamp.modifiedOn == synced.modifiedOn,
            synced.version == nil || stamp.version == nil || stamp.version == synced.version {
            return state.lastResult == .failure && !isSkipped
        }
        return true
    }

    /// Whether a failure turns into a skip: it is of the same class as the previous failure
    /// (the same cause — not the same server text, which may hold values and times).
    ///
    /// `previousClass` is the class of the same side's last failure, `nil` when its last pass succeeded.
    public static func becomesSkipped(previousClass: String?, newClass: String) -> Bool {
        previousClass == newClass
    }

    /// The coupling after a pass in `direction` handled the record without failing.
    ///
    /// Stores the source's state, and the target's (its state after the write, or as read when
    /// nothing was written) when given, so that neither counts as changed next time; clears the
    /// source side's error and the skip.
    public func recordingSuccess(direction: SyncDirection, source: RecordStamp,
                                 target: RecordStamp?, at time: Date) -> Coupling {
        var result = self
        result[direction.source] = CouplingSide(lastSynced: source, lastResult: .success, lastError: nil, lastRun: time)
        if let target {
            result[direction.target].lastSynced = target
        }
        result.isSkipped = false
        return result
    }

    /// The coupling after a pass in `direction` failed with `failure`.
    ///
    /// The source side keeps its stored modified-on (so the record is retried), records the
    /// failure, and the coupling becomes skipped when the same side failed with a failure of the
    /// same class last time — unless the failure is not skippable (it waits for another record).
    public func recordingFailure(direction: SyncDirection, failure: SyncFailure, at time: Date) -> Coupling {
        var result = self
        let previous = self[direction.source]
        let previousClass = previous.lastResult == .failure ? previous.lastErrorClass : nil
        result[direction.source].lastResult = .failure
        result[direction.source].lastError = failure.message
        result[direction.source].lastErrorClass = failure.failureClass
        result[direction.source].lastRun = time
        let repeated = Self.becomesSkipped(previousClass: previousClass, newClass: failure.failureClass)
        result.isSkipped = isSkipped || (failure.isSkippable && repeated)
        return result
    }

    /// The coupling released from a skip by a person, so that the next run tries again.
    ///
    /// The last error stays: failing once more with it skips the record again.
    public func retrying() -> Coupling {
        var result = self
        result.isSkipped = false
        return result
    }
}
