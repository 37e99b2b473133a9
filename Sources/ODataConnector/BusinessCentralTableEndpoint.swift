import Foundation
import Sync

/// An entity set of a Business Central company (customers, vendors, items …) through the API v2.0.
///
/// **Reading.** `$select` names the mapped columns only; pages follow `@odata.nextLink` with
/// `Prefer: odata.maxpagesize` (at most Business Central's 20,000); records by id are read with
/// `id in (…)`, a few dozen per URL; `count()` asks for `$count`. Values arrive as the
/// text a PostgreSQL endpoint would give (`ODataValues`); deltas and candidates are `ODataTable`'s.
///
/// **Deltas.** Business Central stamps `lastModifiedDateTime` (the record's SystemModifiedAt) when
/// its transaction modifies the record, and the change becomes visible when that transaction
/// commits — possibly after a delta read newer records. The service shows no open transactions, so
/// `watermarkCap()` is the service's clock (its `Date` header) less `commitOverlap`: a watermark never
/// passes it, so a record committed up to that long after it was stamped is still read; records of
/// the overlap are read again by the next delta and found `unchanged` by their couplings'
/// modified-on. A commit slower than the overlap is missed by deltas and found by the next full run.
///
/// **Writing.** One JSON `$batch` of at most 100 requests per call, one request per record with
/// `Prefer: odata.continue-on-error`, so a refused record fails alone. Creates `POST` the record and
/// take its `id` and `lastModifiedDateTime` from the `201` answer. Updates and deletions are
/// guarded by the record's `@odata.etag` as read (`ODataTable`); a `409 Request_EntityChanged`
/// (the stale etag's answer, as the API's error codes list it) leaves the record alone.
/// A value that cannot travel unchanged — longer than the property's `MaxLength`, not a number for
/// a decimal, not a member of its enumeration, a property the service computes — fails its record,
/// naming the column, and is never sent.
struct BusinessCentralTableEndpoint: ODataTable {
    let session: BusinessCentralSession
    let entity: BusinessCentralEntity
    let side: MappingSide
    let columns: [String]
    /// The `$filter` of the side's filter, nil when it has none.
    let filter: String?

    /// The endpoint of the entity set `side.table` names in company `company`, read through `client`
    /// (its `$metadata` read first): what a test builds over an emulated service.
    static func open(client: ODataClient, company: String, side: MappingSide, columns: [String]) async throws -> BusinessCentralTableEndpoint {
        try await BusinessCentralSession(client: client, company: company).tableEndpoint(side, columns: columns)
    }

    var client: ODataClient { session.client }
    var continuations: ODataContinuations { session.continuations }
    var service: String { "Business Central" }
    var tableName: String { entity.entitySet }
    var collection: String { session.collection(entity.entitySet) }
    var key: String { entity.key }
    var modified: String { side.modified.parts.last ?? "lastModifiedDateTime" }
    var filterCompiler: ODataFilter { entity.filterCompiler }
    var annotations: [String] { [] }
    /// Business Central online's page size, the most a page holds.
    var maximumPageSize: Int { 20_000 }
    /// About forty ids, a URL of some 3,000 characters.
    var literalsPerRead: Int { 1_800 }
    /// Business Central takes 100 requests in a `$batch` at most.
    var requestsPerBatch: Int { ODataJSONBatch.maximumRequests }

    /// The `$select` of a read: key, modified-on and the mapped columns.
    var selectList: String {
        var seen: Set<String> = []
        return ([key, modified] + columns).filter { seen.insert($0).inserted }.joined(separator: ",")
    }

    func kind(of name: String) throws -> ODataValueKind { try entity.property(name).kind }

    func readProperty(_ name: String) -> String { name }

    /// The record a JSON object holds.
    func record(from json: ODataJSON) async throws -> SyncRecord {
        guard let id = json[key]?.stringValue, UUID(uuidString: id) != nil, let modifiedOn = modifiedOn(in: json) else {
            throw SyncFailure(code: .serviceFailed, message: "Business Central returned a record of \(entity.entitySet) without its \(key) or \(modified)")
        }
        var values = FieldValues(minimumCapacity: columns.count)
        for column in columns {
            values[column] = ODataValues.text(json[column], kind: entity.properties[column]?.kind ?? .text)
        }
        return SyncRecord(id: id.lowercased(), modifiedOn: modifiedOn, version: Self.etag(in: json), values: values)
    }

    /// The records passing the filter, as `$count=true` counts them.
    func count() async throws -> Int {
        let query = resource(filter: [filter], orderBy: nil, select: key) + "&$count=true&$top=1"
        let response = try await client.send(.get(query))
        guard let text = response.body?["@odata.count"]?.numberText, let count = Int(text), count >= 0 else {
            throw SyncFailure(code: .serviceFailed, message: "Business Central did not count the records of \(entity.entitySet)")
        }
        return count
    }

    /// `id in (…)`, as *Using filter expressions in OData URIs* documents it.
    func keyIn(_ ids: [String]) -> String {
        "\(key) in (\(ids.joined(separator: ",")))"
    }
}
