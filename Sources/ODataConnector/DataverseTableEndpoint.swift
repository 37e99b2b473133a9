import Foundation
import Sync

/// A Dataverse table (Dynamics 365 Sales: accounts, contacts, products …) through the Web API.
///
/// **Reading.** `$select` names the mapped columns only; pages follow `@odata.nextLink` with
/// `Prefer: odata.maxpagesize` (Dataverse has no `$skip`); records by id are read with `or`-ed key
/// tests, fifty at a time. Values arrive as the text a PostgreSQL endpoint would give
/// (`ODataValues`).
///
/// **Deltas.** Dataverse stamps `modifiedon` when it handles a write, and the write becomes visible
/// when its transaction commits — possibly after a delta read newer records, as in any database.
/// The service shows no open transactions, so `watermarkCap()` is the service's clock (its `Date`
/// header) less `commitOverlap` (two minutes): a watermark never passes it, so a record
/// committed up to that long after it was stamped is still read; records of the overlap are read
/// again on the next delta, and the couplings' stored state makes them `unchanged`. Dataverse
/// answers `modifiedon` in whole seconds, so each record also carries its `@odata.etag` as its row
/// version: a person's edit in the same second as Couplet's write has the same modified-on and
/// another etag, and counts as changed (`Coupling.hasChanged`). The cost
/// is reading each change once or twice more within the overlap; a commit slower than the overlap
/// would be missed by deltas (and found by the next full run, which reads every record). On a table
/// with change tracking enabled, deltas follow delta tokens instead (`DataverseTableEndpoint+Tracking`),
/// which carry deletions too.
///
/// **Writing.** One `$batch` per call, each record its own change set with
/// `Prefer: odata.continue-on-error`, so a refused record fails alone. Creates carry the key
/// Couplet chose (`assignKeys`) and return the new `modifiedon` and etag (`return=representation`);
/// a key already taken answers `keyTaken`, never an overwrite. Updates and deletions send the etag
/// the record was read with as `If-Match`: a record changed since (`412`) is left alone.
/// Others use `If-Match: *`, so an update never creates a record. Lookups are written as
/// `<name>@odata.bind` to `/<entity set>(<id>)`; a lookup with several targets (`ownerid`: user or
/// team) takes the target its type column names among the written values (`owneridtype`).
struct DataverseTableEndpoint: ODataTable {
    let session: DataverseSession
    let entity: DataverseEntity
    let side: MappingSide
    let columns: [String]
    /// The `$filter` of the side's filter, nil when it has none.
    let filter: String?

    var client: ODataClient { session.client }
    var continuations: ODataContinuations { session.continuations }
    var service: String { "Dataverse" }
    var tableName: String { entity.logicalName }
    var collection: String { entity.entitySet }
    var key: String { entity.primaryID }
    var modified: String { side.modified.parts.last ?? "modifiedon" }
    var filterCompiler: ODataFilter { entity.filterCompiler }
    var annotations: [String] { [DataverseEntity.lookupType] }
    /// Dataverse's largest page.
    var maximumPageSize: Int { 5_000 }
    /// About 650 ids, a URL under Dataverse's 32,768 characters.
    var literalsPerRead: Int { 28_000 }
    /// Dataverse takes 1,000 requests in a `$batch` at most.
    var requestsPerBatch: Int { ODataBatch.maximumRequests }

    /// The `$select` of a read: key, modified-on, the mapped columns and the modified-by column.
    var selectList: String {
        var properties = [key, modified] + columns.map { entity.readProperty($0) }
        if let modifiedBy = side.modifiedBy?.parts.last { properties.append(entity.readProperty(modifiedBy)) }
        return Array(NSOrderedSet(array: properties)).compactMap { $0 as? String }.joined(separator: ",")
    }

    func kind(of name: String) throws -> ODataValueKind { try entity.kind(of: name) }

    func readProperty(_ name: String) -> String { entity.readProperty(name) }

    /// The record a JSON object holds.
    func record(from json: ODataJSON) async throws -> SyncRecord {
        guard let id = json[key]?.stringValue, let modifiedOn = modifiedOn(in: json) else {
            throw SyncFailure(code: .serviceFailed, message: "Dataverse returned a \(entity.logicalName) record without its \(key) or \(modified)")
        }
        var values = FieldValues(minimumCapacity: columns.count)
        for column in columns {
            values[column] = entity.value(of: column, in: json)
        }
        var changedByIntegration = false
        if let modifiedBy = side.modifiedBy?.parts.last, let writer = json[entity.readProperty(modifiedBy)]?.stringValue {
            changedByIntegration = try await session.applicationUser() == writer.lowercased()
        }
        return SyncRecord(
            id: id.lowercased(), modifiedOn: modifiedOn, version: Self.etag(in: json), values: values, changedByIntegration: changedByIntegration)
    }

    /// Dataverse has no `$skip` and caps `$count` at 5,000: counts by walking the keys.
    func count() async throws -> Int {
        var seen = 0
        try await forEachKey { _ in seen += 1 }
        return seen
    }

    /// The key among `ids`: Dataverse's `In` query function.
    func keyIn(_ ids: [String]) -> String {
        "Microsoft.Dynamics.CRM.In(PropertyName='\(key)',PropertyValues=[\(ids.map { "'\($0)'" }.joined(separator: ","))])"
    }
}
