/// What happens when both coupled records changed since the last sync and their fields differ.
///
/// Named after Business Central's options; the winner is a side, not a direction.
public enum UpdateConflictPolicy: String, Sendable, Equatable, CaseIterable {
    /// Neither record is written; the record fails until a person resolves the conflict.
    case fail
    /// The local (ERP) record wins: its values are sent to the integration (CRM) side.
    case sendToIntegration
    /// The integration (CRM) record wins: its values are copied to the local (ERP) side.
    case getFromIntegration
    /// Field by field (a three-way merge against what the pair held when last synced): a field
    /// changed on one side travels to the other; a field changed on both sides to different
    /// values fails the record until a person resolves it. Beyond Business Central, which calls
    /// any change on both sides a conflict.
    case merge

    /// The policy under which `side` wins.
    public static func winning(_ side: SyncSide) -> UpdateConflictPolicy {
        side == .local ? .sendToIntegration : .getFromIntegration
    }

    /// The side whose values are kept, or `nil` for `fail` and `merge`.
    public var winner: SyncSide? {
        switch self {
        case .fail, .merge: nil
        case .sendToIntegration: .local
        case .getFromIntegration: .integration
        }
    }
}

/// What happens when one record of a coupled pair has been deleted.
public enum DeletionConflictPolicy: String, Sendable, Equatable, CaseIterable {
    /// Nothing changes; the record fails until a person decides.
    case fail
    /// The deleted record is created again from the surviving one and the pair re-coupled.
    case restore
    /// The coupling is deleted and the surviving record stays as it is; the survivor is
    /// remembered, so it is not created on the other side again unless a person asks.
    case removeCoupling
    /// The deletion travels: the surviving record is deleted too — unless it changed since the
    /// last sync (that change would be lost), which fails the record for a person to decide.
    /// In a one-way mapping only the target side is deleted; a deleted target is uncoupled and
    /// remembered as with `removeCoupling`.
    case propagate
}

/// The settings of one table mapping that the per-record decision depends on.
public struct MappingSettings: Sendable, Equatable {
    /// The mapping's name, e.g. `CUSTOMER`.
    public var name: String
    /// The local (ERP) table, e.g. `customer`.
    public var localTable: String
    /// The integration (CRM) table, e.g. `account`.
    public var integrationTable: String
    /// Which passes the mapping makes.
    public var direction: MappingDirection
    /// Only coupled records are synchronized: uncoupled ones are neither matched nor inserted. Deltas
    /// keep to it; full, records and match runs decide with it off (as Business Central's full
    /// synchronization and "synchronize now" do), so the first full sync still creates records across.
    public var syncOnlyCoupled: Bool
    /// New target records may be created (there is a template or the insert is allowed).
    public var allowInsert: Bool
    /// Some field mappings are used for match-based coupling.
    public var matchConfigured: Bool
    /// What happens when both records changed and differ (bidirectional mappings only).
    public var updateConflictPolicy: UpdateConflictPolicy
    /// What happens when one record of a coupled pair was deleted.
    public var deletionConflictPolicy: DeletionConflictPolicy

    /// Settings with Business Central's defaults: sync only coupled records, inserts allowed,
    /// no match fields, conflicts fail.
    public init(name: String, localTable: String, integrationTable: String,
                direction: MappingDirection, syncOnlyCoupled: Bool = true, allowInsert: Bool = true,
                matchConfigured: Bool = false, updateConflictPolicy: UpdateConflictPolicy = .fail,
                deletionConflictPolicy: DeletionConflictPolicy = .fail) {
        self.name = name
        self.localTable = localTable
        self.integrationTable = integrationTable
        self.direction = direction
        self.syncOnlyCoupled = syncOnlyCoupled
        self.allowInsert = allowInsert
        self.matchConfigured = matchConfigured
        self.updateConflictPolicy = updateConflictPolicy
        self.deletionConflictPolicy = deletionConflictPolicy
    }

    /// The table on `side`.
    public func table(on side: SyncSide) -> String {
        side == .local ? localTable : integrationTable
    }

    /// The record `id` of the table on `side`, for messages.
    public func record(_ id: String, on side: SyncSide) -> RecordIdentity {
        RecordIdentity(table: table(on: side), id: id)
    }

    /// The same settings, with match-based coupling on or off.
    public func matching(_ configured: Bool) -> MappingSettings {
        var copy = self
        copy.matchConfigured = configured
        return copy
    }
}
