import Foundation
import Synchronization
import Sync

/// A table endpoint over one OData entity set — a Dataverse table or a Business Central entity set.
/// The reading and the etag-guarded writing the services share live in this protocol's extensions
/// (`ODataTable+Reading`, `ODataTable+Writing`); a conforming type states only what differs: where
/// the records are, how a record and a written body look, and how a batch travels.
protocol ODataTable: TableEndpoint {
    /// The service's client.
    var client: ODataClient { get }
    /// The session's change-page links, so a pass continues where its last page ended.
    var continuations: ODataContinuations { get }
    /// The service's name in messages: `Dataverse`, `Business Central`.
    var service: String { get }
    /// The table's name in messages.
    var tableName: String { get }
    /// The records' collection, relative to the service root: `accounts`, `companies(…)/customers`.
    var collection: String { get }
    /// The key property.
    var key: String { get }
    /// The modified-on property.
    var modified: String { get }
    /// The mapped columns.
    var columns: [String] { get }
    /// The `$filter` of the side's filter, nil when it has none.
    var filter: String? { get }
    /// The `$select` of a record read.
    var selectList: String { get }
    /// The compiler of filters and literals on the table.
    var filterCompiler: ODataFilter { get }
    /// The annotations a read asks for (`Prefer: odata.include-annotations`).
    var annotations: [String] { get }
    /// The most records one page may ask for.
    var maximumPageSize: Int { get }
    /// Characters of key literals per read by id, keeping a URL within the service's bound.
    var literalsPerRead: Int { get }
    /// Requests per `$batch`.
    var requestsPerBatch: Int { get }
    /// The kind of column `name`'s values (for comparing them), or an error naming the table.
    func kind(of name: String) throws -> ODataValueKind
    /// The property a read selects for column `name`.
    func readProperty(_ name: String) -> String
    /// The record a JSON object holds.
    func record(from json: ODataJSON) async throws -> SyncRecord
    /// The `$filter` test of a key among `ids` (GUID literals).
    func keyIn(_ ids: [String]) -> String
    /// The JSON body writing `values`, or the refusal of the first value that cannot travel unchanged.
    func writeBody(_ values: FieldValues) async throws -> Result<ODataJSON, RecordRefusal>
    /// The `POST` creating a record with `body` (its key among the members), answering the created record.
    func insertRequest(body: ODataJSON) -> ODataBatchRequest
    /// Whether the create of record `id` was refused because a record with its key exists.
    func isKeyTaken(_ response: ODataBatchResponse, id: String) async throws -> Bool
    /// The `PATCH` of record `id` with `body`, guarded by `ifMatch`.
    func updateRequest(id: String, ifMatch: String, body: ODataJSON) -> ODataBatchRequest
    /// Sends `requests` (at most `requestsPerBatch`) as one `$batch` going on after a failure, each
    /// record its own request; the answers' `requestIndex` counts in `requests`.
    func sendBatch(_ requests: [ODataBatchRequest]) async throws -> [ODataBatchResponse]
    /// Whether an error code refuses a write for what other records hold (a duplicate value, a
    /// missing referenced record) rather than for the record's own value.
    func concernsOtherRecords(_ code: String) -> Bool
}

/// The next link of each change page read (nil after the last page), by the entity set and the
/// record that ended the page: one per session, shared by its table endpoints.
final class ODataContinuations: Sendable {
    private let links = Mutex<[String: String?]>([:])

    /// Keeps `link`, the page that follows the change page ending with `cursor`'s record (nil: none follows).
    func keep(_ link: String?, after cursor: ChangeCursor, in collection: String) {
        links.withLock { links in
            if links.count >= 1_000 { links.removeAll() }  // a run follows its own links; old ones are never asked for
            links[Self.key(cursor, collection)] = .some(link)
        }
    }

    /// The link kept for the page after `cursor`'s record, taken (each is followed once): nil when
    /// none was kept, `.some(nil)` when that page was the last.
    func take(after cursor: ChangeCursor, in collection: String) -> String?? {
        links.withLock { $0.removeValue(forKey: Self.key(cursor, collection)) }
    }

    private static func key(_ cursor: ChangeCursor, _ collection: String) -> String {
        "\(collection) \(cursor.id) \(cursor.modifiedOn.timeIntervalSince1970)"
    }
}

/// Text normalised as matching compares it: surrounding white space trimmed, inner runs of white
/// space as one space and, unless `caseSensitive`, case folded.
func matchNormal(_ text: String, caseSensitive: Bool) -> String {
    let spaced = text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    return caseSensitive ? spaced : spaced.lowercased()
}

extension Date {
    /// The instant with its fraction of a second dropped.
    var wholeSecond: Date { Date(timeIntervalSince1970: timeIntervalSince1970.rounded(.down)) }
}
