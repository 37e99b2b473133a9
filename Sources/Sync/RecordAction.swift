/// A person's request about one coupled pair that waits for a sync pass to carry it out: a row of
/// `couplet.record_actions` in state `pending` (see `RecordActions`).
///
/// It is input to the decision (`RecordSyncInput.action`): where it applies it overrides the
/// mapping's policies and a skipped coupling — a person asked.
public struct PendingRecordAction: Sendable, Equatable {
    /// What the person asked.
    public enum Request: Sendable, Equatable {
        /// This conflict once, the record on this side wins (`use_local`, `use_integration`).
        case use(SyncSide)
        /// Re-create the pair's deleted record from the survivor (`restore`).
        case restore
        /// Delete the survivor of a pair whose other record was deleted (`delete`).
        case delete

        /// The name stored in `couplet.record_actions.action`.
        public var storedName: String {
            switch self {
            case .use(let side): "use_\(side.rawValue)"
            case .restore: "restore"
            case .delete: "delete"
            }
        }

        /// The request stored as `text`, if it is one that waits for a pass.
        public init?(storedName text: String) {
            switch text {
            case "use_local": self = .use(.local)
            case "use_integration": self = .use(.integration)
            case "restore": self = .restore
            case "delete": self = .delete
            default: return nil
            }
        }
    }

    /// The action's id in `couplet.record_actions`.
    public var id: Int64
    /// What was asked.
    public var request: Request

    /// The pending action `id`.
    public init(id: Int64, request: Request) {
        self.id = id
        self.request = request
    }
}

/// What one pass does about the pending action on the record it decides.
public enum ActionVerdict: Sendable, Equatable {
    /// This pass carries the action out: it is done once the write the pass decides succeeded (at
    /// once when there is nothing to write); a failed write leaves it pending.
    case carriesOut
    /// The pass the other way carries it out; this one writes nothing.
    case leftToOtherPass
    /// The pair is not in the state the action needs: the pass decides as without it, and the
    /// action is settled as not applicable with this reason (naming the mapping, both records and
    /// what to do).
    case notApplicable(String)
}

extension PendingRecordAction {
    /// The verdict on this action for `record` (whose `action` it is) in a pass of `mapping`.
    ///
    /// `use(X)` needs both records: the pass from X carries it out, the other keeps its target.
    /// `restore` needs the target deleted (the pass from the survivor restores it), `delete` the
    /// source deleted (the pass from the deleted side deletes the survivor); the opposite state is
    /// the other pass's. Anything else — a record outside the filter, both or neither deleted, a
    /// pass the mapping never makes — does not apply.
    public func verdict(for record: RecordSyncInput, in mapping: MappingSettings) -> ActionVerdict {
        guard case .coupled(let coupling, let target) = record.counterpart else {
            let source = mapping.record(record.sourceID, on: record.direction.source)
            return .notApplicable(
                "\(source) is not coupled in mapping \(mapping.name) any more, so the pending \(request.storedName) has no pair to act on. Couple it again (couplet couple) and ask again.")
        }
        let wording = ActionWording(mapping: mapping, coupling: coupling, direction: record.direction, request: request)
        switch (record.source, target) {
        case (.outsideFilter, _), (_, .outsideFilter): return .notApplicable(wording.outsideFilter)
        case (.present, .present):
            guard case .use(let winner) = request else { return .notApplicable(wording.neitherDeleted) }
            return winner == record.direction.source ? .carriesOut : wording.otherPass(writing: winner.opposite)
        case (.deleted, .deleted): return .notApplicable(wording.bothDeleted)
        case (.present, .deleted), (.deleted, .present):
            let sourceDeleted = record.source == .deleted
            switch request {
            case .use: return .notApplicable(wording.oneDeleted(sourceDeleted ? record.direction.source : record.direction.target))
            case .restore: return sourceDeleted ? wording.otherPass(writing: record.direction.source) : .carriesOut
            case .delete: return sourceDeleted ? .carriesOut : wording.otherPass(writing: record.direction.source)
            }
        }
    }
}

/// The reasons an action does not apply, naming the mapping and both records of the pair.
private struct ActionWording {
    let mapping: MappingSettings
    let coupling: Coupling
    let direction: SyncDirection
    let request: PendingRecordAction.Request

    private var local: RecordIdentity { mapping.record(coupling.localID, on: .local) }
    private var integration: RecordIdentity { mapping.record(coupling.integrationID, on: .integration) }
    private func record(on side: SyncSide) -> RecordIdentity { side == .local ? local : integration }
    private var resolve: String { "couplet resolve \(mapping.name) \(coupling.localID)" }

    /// The pass the other way carries the action out, if the mapping makes it: it writes `side`.
    func otherPass(writing side: SyncSide) -> ActionVerdict {
        guard !mapping.direction.includes(direction.opposite) else { return .leftToOtherPass }
        return .notApplicable(
            "mapping \(mapping.name) never writes \(mapping.table(on: side)) records, so it cannot carry out the pending \(request.storedName) of \(local) and \(integration). Resolve the pair by hand, or uncouple it (\(resolve) --uncouple).")
    }

    var outsideFilter: String {
        "\(local) or \(integration) is outside the filter of mapping \(mapping.name), which neither writes nor deletes such a record. Ask again once both pass the filter."
    }

    var neitherDeleted: String {
        let asked = request == .restore ? "to restore" : "to delete as a survivor"
        return "neither \(local) nor \(integration) was deleted, so mapping \(mapping.name) has nothing \(asked). To copy one over the other: \(resolve) --use local|integration."
    }

    var bothDeleted: String {
        "\(local) and \(integration) were both deleted, so the pending \(request.storedName) has nothing left to act on; mapping \(mapping.name) removes their coupling."
    }

    func oneDeleted(_ side: SyncSide) -> String {
        "\(record(on: side)) was deleted, so mapping \(mapping.name) cannot copy \(record(on: side.opposite)) over it. Restore it (\(resolve) --restore) or delete the survivor (\(resolve) --delete)."
    }
}
