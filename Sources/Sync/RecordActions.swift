import Foundation
import Postgres

/// Reads and writes `couplet.record_actions`, the log of per-record resolutions (Business
/// Central's Restore / Delete / Couple / Synchronize on one record), with who asked and what
/// became of each.
///
/// A person's requests go through the SQL functions of the schema (`couplet.resolve_conflict`,
/// `restore_record`, `delete_survivor`, `uncouple_record`, `couple_records`, `sync_records`), so
/// the CLI and a DBA in psql do exactly the same; a sync pass reads the pending actions of its
/// batch and settles them in the transaction that saves the batch's couplings.
public enum RecordActions {
    /// One row of the log.
    public struct Entry: Sendable, Equatable {
        /// The action's id.
        public var id: Int64
        /// The mapping.
        public var mapping: String
        /// `use_local`, `use_integration`, `restore`, `delete`, `uncouple`, `couple` or `sync`.
        public var action: String
        /// The pair's local id, when known.
        public var localID: String?
        /// The pair's integration id, when known.
        public var integrationID: String?
        /// The login that asked.
        public var requestedBy: String
        /// When it was asked.
        public var requestedAt: Date
        /// The `sync.records` job that carries it out, if any.
        public var jobID: Int64?
        /// `pending`, `done`, `not_applicable` or `superseded`.
        public var state: String
        /// When it left `pending`.
        public var settledAt: Date?
        /// The sync run that settled it.
        public var runID: Int64?
        /// What was done, or why it did not apply.
        public var outcome: String?
    }

    /// What a person asks about one record.
    public enum Resolution: Sendable, Equatable {
        /// This conflict once, the record on this side wins.
        case use(SyncSide)
        /// Re-create the pair's deleted record from the survivor.
        case restore
        /// Delete the survivor of the pair.
        case delete
        /// Remove the pair's coupling now.
        case uncouple
        /// Couple the record to `other`, a record of the other side, now.
        case couple(with: String)
    }

    /// A request the coordination database refused, in its words: no such mapping or record, a
    /// record coupled already, a pass the mapping does not make.
    public struct Refusal: Error, Sendable, CustomStringConvertible {
        /// What is wrong, naming the mapping and the records.
        public var message: String
        /// What to do instead, if the database said.
        public var hint: String?

        /// The message and the hint.
        public var description: String { message + (hint.map { "\nHint: \($0)" } ?? "") }
    }

    /// Asks for `resolution` of record `id` of `side` in `mapping`, through the schema's function
    /// for it; returns the logged action (its `jobID` is the job that carries a pending one out).
    /// Throws `Refusal` when the database refuses.
    @discardableResult
    public static func resolve(
        _ resolution: Resolution, mapping: String, id: String, side: SyncSide = .local, on db: PostgresConnection
    ) async throws -> Entry {
        let call: PostgresQuery =
            switch resolution {
            case .use(let winner): "couplet.resolve_conflict(\(mapping), \(id), \(winner.rawValue), side => \(side.rawValue))"
            case .restore: "couplet.restore_record(\(mapping), \(id), side => \(side.rawValue))"
            case .delete: "couplet.delete_survivor(\(mapping), \(id), side => \(side.rawValue))"
            case .uncouple: "couplet.uncouple_record(\(mapping), \(id), side => \(side.rawValue))"
            case .couple(let other):
                side == .local ? "couplet.couple_records(\(mapping), \(id), \(other))" : "couplet.couple_records(\(mapping), \(other), \(id))"
            }
        return try await entries(from: call, on: db).single("logged action").decodeEntry()
    }

    /// Couples `localID` to `integrationID` in `mapping` now; throws `Refusal` naming the pair when either is coupled already.
    @discardableResult
    public static func couple(mapping: String, localID: String, integrationID: String, on db: PostgresConnection) async throws -> Entry {
        try await resolve(.couple(with: integrationID), mapping: mapping, id: localID, on: db)
    }

    /// Enqueues one `sync.records` job for records `ids` of `side` (only the pass in `direction`,
    /// or both when nil); returns one logged `sync` action per record, each naming the job.
    public static func sync(
        mapping: String, side: SyncSide, ids: [String], direction: SyncDirection?, on db: PostgresConnection
    ) async throws -> [Entry] {
        let call: PostgresQuery = "couplet.sync_records(\(mapping), \(side.rawValue), \(ids), \(direction?.storedName))"
        return try await entries(from: call, on: db).map { try $0.decodeEntry() }
    }

    /// The latest `limit` actions, newest first: of `mapping` and of record `record` (its local or integration id) when given.
    public static func recent(mapping: String?, record: String?, limit: Int, on db: PostgresConnection) async throws -> [Entry] {
        try await db.query(
            """
            SELECT \(columns) FROM couplet.record_actions
            WHERE (\(mapping)::text IS NULL OR mapping = \(mapping))
              AND (\(record)::text IS NULL OR \(record) IN (local_id, integration_id))
            ORDER BY requested_at DESC, id DESC LIMIT \(limit)
            """, name: "recent record actions"
        ).map { try $0.decodeEntry() }
    }

    /// The action `id`, if it exists.
    public static func entry(_ id: Int64, on db: PostgresConnection) async throws -> Entry? {
        try await db.query("SELECT \(columns) FROM couplet.record_actions WHERE id = \(id)", name: "record action").first?.decodeEntry()
    }

    /// The columns of an `Entry`, in the order `decodeEntry` reads them.
    private static let columns: PostgresQuery =
        "id, mapping, action, local_id, integration_id, requested_by, requested_at, job_id, state, settled_at, run_id, outcome"

    /// The rows of a call to one of the schema's functions, its refusals turned into `Refusal`.
    private static func entries(from call: PostgresQuery, on db: PostgresConnection) async throws -> PostgresRows {
        do {
            return try await db.query("SELECT \(columns) FROM \(call)", name: "record action request")
        } catch let error as PostgresError where refusals.contains(error.sqlState ?? "") {
            throw Refusal(message: error.message, hint: error.hint)
        }
    }

    /// The SQLSTATEs of the functions' refusals: no such mapping or record, a wrong state, a bad argument.
    private static let refusals: Set<String> = ["P0002", "55000", "22023"]

    // MARK: The sync engine's side

    /// The pending actions of `mapping` on these local ids, keyed by local id, in one statement.
    static func pending(mapping: String, localIDs: [String], on db: PostgresConnection) async throws -> [String: PendingRecordAction] {
        guard !localIDs.isEmpty else { return [:] }
        let rows = try await db.query(
            """
            SELECT local_id, id, action FROM couplet.record_actions
            WHERE mapping = \(mapping) AND state = 'pending' AND local_id = ANY(\(localIDs))
            """, name: "pending record actions")
        var actions: [String: PendingRecordAction] = [:]
        for row in rows {
            let (localID, id, stored) = try row.decode((String, Int64, String).self)
            guard let request = PendingRecordAction.Request(storedName: stored) else { continue }
            actions[localID] = PendingRecordAction(id: id, request: request)
        }
        return actions
    }

    /// Settles these actions as run `runID` decided, in one statement; an action no longer pending
    /// (superseded meanwhile) keeps its state.
    static func settle(_ settlements: [ActionSettlements.Settled], runID: Int64, on db: PostgresConnection) async throws {
        guard !settlements.isEmpty else { return }
        try await db.query(
            """
            UPDATE couplet.record_actions a SET state = s.state, settled_at = now(), run_id = \(runID), outcome = s.outcome
            FROM unnest(\(settlements.map(\.id)), \(settlements.map(\.state)), \(settlements.map(\.outcome))) AS s(id, state, outcome)
            WHERE a.id = s.id AND a.state = 'pending'
            """, name: "settle record actions")
    }
}

extension PostgresRow {
    /// The row as a log entry, its columns as `RecordActions.columns` lists them.
    fileprivate func decodeEntry() throws -> RecordActions.Entry {
        RecordActions.Entry(
            id: try decode(Int64.self, column: "id"), mapping: try decode(String.self, column: "mapping"),
            action: try decode(String.self, column: "action"), localID: try decode(String?.self, column: "local_id"),
            integrationID: try decode(String?.self, column: "integration_id"), requestedBy: try decode(String.self, column: "requested_by"),
            requestedAt: try decode(Date.self, column: "requested_at"), jobID: try decode(Int64?.self, column: "job_id"),
            state: try decode(String.self, column: "state"), settledAt: try decode(Date?.self, column: "settled_at"),
            runID: try decode(Int64?.self, column: "run_id"), outcome: try decode(String?.self, column: "outcome"))
    }
}

/// What one batch does about the pending actions of its records: those its pass carries out are
/// settled done once their write succeeded, those that do not apply are settled at once; all in
/// the transaction that saves the batch.
struct ActionSettlements {
    /// An action's new state and outcome.
    struct Settled: Equatable {
        var id: Int64
        var state: String
        var outcome: String
    }

    /// A write the pass made for a source record.
    enum Write {
        /// The target already held the values: nothing written.
        case nothing
        /// These fields of the target were updated.
        case updated(fields: [String])
        /// The target was created again with this id.
        case restored(id: String)
        /// The target was deleted.
        case deleted
    }

    /// The actions the pass carries out, by source record id, with the target they write and the pair's local id.
    private var carried: [String: (action: PendingRecordAction, target: RecordIdentity, localID: String)] = [:]
    /// The actions settled so far.
    private(set) var settled: [Settled] = []
    /// The local ids of the pairs whose conflict a done `use` action resolved: their conflict errors close.
    private(set) var resolvedConflicts: [String] = []

    /// Files the verdict on a record's pending action; `target` is the record the pass writes, `localID` the pair's.
    mutating func note(
        _ verdict: ActionVerdict?, of action: PendingRecordAction?, sourceID: String, target: RecordIdentity?, localID: String?
    ) {
        guard let verdict, let action else { return }
        switch verdict {
        case .carriesOut: if let target, let localID { carried[sourceID] = (action, target, localID) }
        case .leftToOtherPass: break
        case .notApplicable(let reason): settled.append(Settled(id: action.id, state: "not_applicable", outcome: reason))
        }
    }

    /// The pass wrote (or had nothing to write) for `sourceID`: its action, if the pass carries one out, is done.
    mutating func wrote(_ write: Write, for sourceID: String) {
        guard let (action, target, localID) = carried.removeValue(forKey: sourceID) else { return }
        if case .use = action.request { resolvedConflicts.append(localID) }
        let outcome =
            switch write {
            case .nothing: "nothing to write: \(target) already held the chosen values"
            case .updated(let fields): "updated \(target) (\(fields.joined(separator: ", ")))"
            case .restored(let id): "restored as \(target.table) \(id)"
            case .deleted: "deleted \(target)"
            }
        settled.append(Settled(id: action.id, state: "done", outcome: outcome))
    }
}
