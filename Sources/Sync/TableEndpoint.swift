import Foundation

/// One state of a record as its endpoint tells states apart: when the record last changed and,
/// where the endpoint keeps one, its row version. A row version changes with every write, so it
/// tells apart two writes the modified-on cannot: Dataverse stamps `modifiedon` in whole seconds,
/// so a person's edit in the same second as the integration's own write carries the same
/// modified-on, and only the etag shows it. Two stamps are the same state when they are equal.
public struct RecordStamp: Sendable, Equatable {
    /// When the record last changed.
    public var modifiedOn: Date
    /// The endpoint's row version (an OData `@odata.etag`); nil where the modified-on alone tells
    /// the states apart (a PostgreSQL timestamp in microseconds).
    public var version: String?

    /// A state with this modified-on and row version.
    public init(modifiedOn: Date, version: String? = nil) {
        self.modifiedOn = modifiedOn
        self.version = version
    }
}

/// One record read from a side: its id (the key's text), modified-on and field values as text.
public struct SyncRecord: Sendable {
    /// The key's text form.
    public var id: String
    /// When the record last changed.
    public var modifiedOn: Date
    /// The endpoint's row version of the record, if it keeps one (see `RecordStamp`).
    public var version: String?
    /// The mapped columns' values as text (nil: NULL).
    public var values: FieldValues
    /// The columns whose bytes were not valid UTF-8 (their `values` are not what the source holds).
    public var invalidText: Set<String> = []
    /// The side's modified-by column names the integration's own endpoint login: the last change
    /// was the integration's write (false when the side has no modified-by column).
    public var changedByIntegration = false

    /// A record with these values.
    public init(
        id: String, modifiedOn: Date, version: String? = nil, values: FieldValues, invalidText: Set<String> = [],
        changedByIntegration: Bool = false
    ) {
        self.id = id
        self.modifiedOn = modifiedOn
        self.version = version
        self.values = values
        self.invalidText = invalidText
        self.changedByIntegration = changedByIntegration
    }

    /// The state the record was read in.
    public var stamp: RecordStamp { RecordStamp(modifiedOn: modifiedOn, version: version) }
}

/// A change to one record: its id, the values to write, and the state the change was computed against.
public struct RecordChange: Sendable {
    /// The record's key.
    public var id: String
    /// The values to write.
    public var values: FieldValues
    /// Write only if the record is still in this state: its modified-on and, when known, its row
    /// version (nil: write regardless).
    public var expected: RecordStamp?
}

/// A record to insert: its values, and a token that identifies its source across attempts.
public struct NewRecord: Sendable {
    /// The values to write, the key among them once it is known.
    public var values: FieldValues
    /// Stable for the same source record in the same mapping and direction.
    public var token: String
    /// The key was assigned by Couplet (`TableEndpoint.assignKeys`): a sequence value or one
    /// derived from the token, so a record holding it can only be the one Couplet wrote.
    public var keyAssigned = false

    /// A record to insert with these values.
    public init(values: FieldValues, token: String) {
        self.values = values
        self.token = token
    }
}

/// What inserting one record did.
public enum InsertResult: Sendable, Equatable {
    /// The record was inserted with this key, in this state.
    case inserted(id: String, stamp: RecordStamp)
    /// A record with this key exists already; nothing was written.
    case keyTaken(id: String)
}

/// A coupled record to delete, only if it is still in the state it was read in.
public struct RecordDeletion: Sendable {
    /// The record's key.
    public var id: String
    /// The state the record must still be in: its modified-on and, when known, its row version.
    public var expected: RecordStamp
}

/// A record as a write is expected to leave it: its key and the values of the written columns.
public struct ExpectedRecord: Sendable {
    /// The record's key.
    public var id: String
    /// The column values the record holds after the write.
    public var values: FieldValues
}

/// A record's state compared with what a write was expected to leave.
public struct ExpectationCheck: Sendable, Equatable {
    /// The record's state now.
    public var stamp: RecordStamp
    /// Whether every expected column holds the expected value (compared in the column's type).
    public var agrees: Bool

    /// A record in this state, agreeing or not.
    public init(stamp: RecordStamp, agrees: Bool) {
        self.stamp = stamp
        self.agrees = agrees
    }
}

/// Where a pass resumes reading changes: after this modified-on and key.
public struct ChangeCursor: Sendable {
    /// The modified-on of the last record read.
    public var modifiedOn: Date
    /// Its key, breaking ties between records changed at the same instant.
    public var id: String

    /// Resumes after the record with this modified-on and key.
    public init(modifiedOn: Date, id: String) {
        self.modifiedOn = modifiedOn
        self.id = id
    }
}

/// A position in an endpoint's own change tracking (Dataverse's delta token): opaque text the
/// endpoint issued, stored per mapping side between runs. Stored text is untrusted input: it is
/// bounded here, and an endpoint checks its form before sending it anywhere.
public struct ChangeToken: Sendable, Equatable {
    /// The endpoint's text.
    public let text: String

    /// The longest token kept (Dataverse's are a version number and a date: a few dozen characters).
    public static let maximumLength = 4_000

    /// A token of this text, or nil when it is empty or longer than `maximumLength`.
    public init?(_ text: String) {
        guard !text.isEmpty, text.utf8.count <= Self.maximumLength else { return nil }
        self.text = text
    }
}

/// One page of changes after a change token: changed records that pass the side's filter, and
/// the ids of deleted records (a record that merely left the filter is in neither).
public struct TrackedChanges: Sendable {
    /// Records created or changed, passing the side's filter.
    public var changed: [SyncRecord]
    /// Keys of records deleted.
    public var deleted: [String]

    /// A page of these changes.
    public init(changed: [SyncRecord], deleted: [String]) {
        self.changed = changed
        self.deleted = deleted
    }
}

/// The service refused a change token (expired, or one it does not know): only a full read
/// catches up. `reason` is the service's answer.
public struct ChangeTokenRefused: Error, Sendable, CustomStringConvertible {
    /// The service's answer, for the log.
    public var reason: String

    /// The refusal, with the service's answer.
    public init(reason: String) {
        self.reason = reason
    }

    public var description: String { "the change token was refused: \(reason)" }
}

/// An endpoint's own change tracking: it tells which records changed or were deleted after a
/// token it issued, deletions included — what a modified-on column cannot tell.
public protocol ChangeTracking: Sendable {
    /// A token for the changes from now on: every change committed after this call begins is
    /// after it (Dataverse: a change-tracking read of the keys, page by page, to its delta link).
    func currentChangeToken() async throws -> ChangeToken
    /// Reads the changes after `token`, at most about `pageSize` records a page, handing each
    /// page to `body` before reading the next; returns the token to continue with next time.
    ///
    /// - Throws: `ChangeTokenRefused` when the service refuses `token` (nothing was handed on).
    func changes(
        after token: ChangeToken, pageSize: Int, _ body: (TrackedChanges) async throws -> Void
    ) async throws -> ChangeToken
}

/// Keys after `after` up to and including `upTo`, in the key's own order; nil is an open end.
public struct KeyRange: Sendable, Equatable {
    /// The range starts after this key (nil: at the first key).
    public var after: String?
    /// The range ends with this key (nil: at the last key).
    public var upTo: String?

    /// The keys after `after` up to `upTo`.
    public init(after: String? = nil, upTo: String? = nil) {
        self.after = after
        self.upTo = upTo
    }
}

/// The narrow boundary between the engine and a system being integrated: a PostgreSQL table
/// (`PostgresTableEndpoint`), an entity set of a Web API (the `ODataConnector` module), or a test's
/// records in memory. The engine holds only this protocol, so every connector gets the same
/// decisions, conflicts, couplings and logs.
///
/// Values travel as text (nil: NULL) in the form the endpoint's own text output gives them; a
/// connector converts them from and to its wire format without changing them. Reads never write.
/// A write call answers for each record: written, or refused with the endpoint's reason (one
/// refused record never fails the others); it throws only when the endpoint itself fails (a lost
/// connection, an unreadable answer), and then may have written some records — which the engine's
/// write intents recognise on the next run.
public protocol TableEndpoint: Sendable {
    /// Records changed after `since` (all when nil), in (modified-on, key) order, after `cursor`, at
    /// most `limit`: fewer only when no more changed.
    func changes(since: Date?, after cursor: ChangeCursor?, limit: Int) async throws -> [SyncRecord]
    /// Records whose keys lie in `range`, in key order, at most `limit`: fewer only when no more lie in it.
    func records(in range: KeyRange, limit: Int) async throws -> [SyncRecord]
    /// Keys that split the records into ranges of about `size` records each, in key order (none for fewer records).
    func splitKeys(every size: Int) async throws -> [String]
    /// How many records pass the filter.
    func count() async throws -> Int
    /// The records with these ids that exist (and pass the filter).
    func records(ids: [String]) async throws -> [SyncRecord]
    /// The records with these ids that exist, whatever the filter, each with whether it passes the
    /// filter: one read tells a deleted record from a filtered-out one. In no particular order.
    func recordsWithFilterState(ids: [String]) async throws -> [(record: SyncRecord, passesFilter: Bool)]
    /// Which of these ids still exist, whatever the filter (a record outside it is not deleted).
    func existingIDs(_ ids: [String]) async throws -> Set<String>
    /// The records with a key each where Couplet can choose it before writing (marked
    /// `keyAssigned`): derived from the token for a uuid or text key the mapping does not fill,
    /// the next value of the key's sequence for a serial or identity key. A mapped key is kept;
    /// a key the endpoint fills some other way stays unknown until the insert.
    func assignKeys(_ records: [NewRecord]) async throws -> [NewRecord]
    /// Inserts records; answers, in order, each one's key and state, that its key is taken,
    /// or the refusal. Never changes an existing record.
    func insert(_ records: [NewRecord]) async throws -> WriteResults<InsertResult>
    /// Updates these records with these values; answers, in order, each one's new state, or nil
    /// when it was left alone: a change that names the state it was computed against is written
    /// only if the record is still in it, so a record changed meanwhile (or gone) is not.
    func update(_ changes: [RecordChange]) async throws -> WriteResults<RecordStamp?>
    /// Deletes these records, each only if it is still in its expected state; answers, in order,
    /// whether each was deleted.
    func delete(_ records: [RecordDeletion]) async throws -> WriteResults<Bool>
    /// For the records among `expected` that exist (whatever the filter): their state,
    /// and whether they hold the expected values — what recognises a write of Couplet's own
    /// that was not recorded because its writer stopped.
    func check(_ expected: [ExpectedRecord]) async throws -> [String: ExpectationCheck]
    /// For each tuple of `values` (one value per column), the ids of the records whose `columns`
    /// hold those values. Both sides are normalised alike: surrounding white space trimmed, inner
    /// runs of white space as one space and, unless `caseSensitive`, case folded.
    func candidates(matching columns: [String], values: [[String]], caseSensitive: Bool) async throws -> [[String]]
    /// The ids of the records, whatever the filter, whose `column` holds one of `values` exactly
    /// (as text): the records that refer to these keys.
    func ids(whose column: String, isAnyOf values: [String]) async throws -> [String]
    /// The newest modified-on a delta may advance to now without missing a late commit (see `PostgresTableEndpoint`).
    func watermarkCap() async throws -> Date
    /// How many records one read of changes or of a key range should ask for when the mapping's
    /// batch size is smaller: a Web API's largest page, so one request carries as many records as
    /// the service allows; the engine still decides and writes them batch by batch. Nil: the batch size.
    var readSize: Int? { get }
    /// The endpoint's own change tracking, if it has any (nil: deltas read by modified-on only,
    /// and deletions are found by full runs).
    var changeTracking: (any ChangeTracking)? { get }
}

extension TableEndpoint {
    /// None: reads follow the mapping's batch size.
    public var readSize: Int? { nil }
    /// None: deltas read by modified-on.
    public var changeTracking: (any ChangeTracking)? { nil }
}

/// Records of one side sharing the same normalised values of some match fields: matching refuses
/// every one of them, since coupling any one would be a guess.
public struct DuplicateGroup: Sendable, Equatable {
    /// The shared values, normalised as matching compares them, one per field.
    public var values: [String]
    /// How many records share them.
    public var count: Int
    /// The first of their ids, in key order (at most `DuplicateGroup.idsShown`).
    public var ids: [String]

    /// Ids kept per group.
    public static let idsShown = 10

    /// A group of `count` records sharing `values`.
    public init(values: [String], count: Int, ids: [String]) {
        self.values = values
        self.count = count
        self.ids = ids
    }
}
