import Foundation

/// Whether a record exists, and in which state.
public enum RecordPresence: Sendable, Equatable {
    /// The record exists, in this state (its modified-on and row version as the endpoint reports them).
    case present(RecordStamp)
    /// The record no longer exists.
    case deleted
    /// The record exists but does not pass the mapping's filter on its side (a customer blocked
    /// after it was coupled): the integration neither writes it nor takes it for deleted.
    case outsideFilter
}

/// What match-based coupling found for an uncoupled source record.
public enum MatchOutcome: Sendable, Equatable {
    /// Matching has not been tried for this record (yet).
    case notTried
    /// No target record has the same match-field values.
    case notFound
    /// Exactly one uncoupled target record matches.
    case found(targetID: String)
    /// `count` target records match.
    case ambiguous(count: Int)
    /// The only match `targetID` is already coupled to the source record `coupledSourceID`.
    case alreadyCoupled(targetID: String, coupledSourceID: String)
    /// The only match `targetID` matches `count` source records with the same match-field values
    /// (duplicates on the source side): coupling any one of them would be a guess.
    case duplicateSources(targetID: String, count: Int)
}

/// The other side of a source record: a coupled record, or not coupled at all.
public enum Counterpart: Sendable, Equatable {
    /// No coupling exists; `match` says what match-based coupling found so far.
    case notCoupled(match: MatchOutcome)
    /// A coupling exists; `target` is the coupled target record's state.
    case coupled(Coupling, target: RecordPresence)
    /// No coupling exists because the record's counterpart `counterpartID` was deleted and the
    /// deletion policy removed the coupling: creating the counterpart again would undo a person's deletion.
    case uncoupledByDeletion(counterpartID: String)
}

/// Everything the decision needs to know about one source record in one pass.
public struct RecordSyncInput: Sendable, Equatable {
    /// The pass being run.
    public var direction: SyncDirection
    /// The source record's id.
    public var sourceID: String
    /// The source record's state.
    public var source: RecordPresence
    /// The coupling and target record, if any.
    public var counterpart: Counterpart
    /// For a coupled pair under the `merge` policy: which fields each record changed since the
    /// last sync; `nil` when not known (every field then counts as changed on both sides).
    public var fieldChanges: FieldChanges?
    /// The pass's target columns whose fields the mapping carries both ways; `nil` when every
    /// field counts as carried both ways. As in Business Central, only a change to one of these
    /// makes a record changed on both sides a conflict: a one-way field belongs to its source.
    public var twoWayColumns: Set<String>?
    /// In a delta, the source record was last changed by the integration's own endpoint login
    /// (its side's modified-by column says so): the integration's write, never a person's change.
    public var changedByIntegration = false
    /// What a person asked to be done to the pair and is still pending, if anything.
    public var action: PendingRecordAction?

    /// The input for record `sourceID` in a pass in `direction`.
    public init(
        direction: SyncDirection, sourceID: String, source: RecordPresence, counterpart: Counterpart,
        fieldChanges: FieldChanges? = nil, twoWayColumns: Set<String>? = nil, action: PendingRecordAction? = nil
    ) {
        self.direction = direction
        self.sourceID = sourceID
        self.source = source
        self.counterpart = counterpart
        self.fieldChanges = fieldChanges
        self.twoWayColumns = twoWayColumns
        self.action = action
    }

    /// The verdict on the pending action, if there is one, in a pass of `mapping`.
    public func actionVerdict(in mapping: MappingSettings) -> ActionVerdict? {
        action?.verdict(for: self, in: mapping)
    }
}
