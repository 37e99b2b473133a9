import Foundation
import Sync

/// A Dataverse table (Dynamics 365 Sales: accounts, contacts, products …) through the Web API.
///
/// **Reading.** `$select` names the mapped columns only; pages follow `@odata.nextLink` with
/// `Prefer: odata.maxpagesize` (Dataverse has no `$skip`); records by id are read with `or`-ed key
/// tests, fifty at a time. Values arrive as the text a PostgreSQL endpoint would give
/// (`DataverseValues`).
///
/// **Deltas.** Dataverse stamps `modifiedon` when it handles a write, and the write becomes visible
/// when its transaction commits — possibly after a delta read newer records, as in any database.
/// The service shows no open transactions, so `watermarkCap()` is the service's clock (its `Date`
/// header) less `overlap` (two minutes unless configured): a watermark never passes it, so a record
/// committed up to that long after it was stamped is still read; records of the overlap are read
/// again on the next delta, and the couplings' stored modified-on makes them `unchanged`. The cost
/// is reading each change once or twice more within the overlap; a commit slower than the overlap
/// would be missed by deltas (and found by the next full run, which reads every record).
///
/// **Writing.** One `$batch` per call, each record its own change set with
/// `Prefer: odata.continue-on-error`, so a refused record fails alone. Creates carry the key
/// Couplet chose (`assignKeys`) and return the new `modifiedon` (`return=representation`); a key
/// already taken answers `keyTaken`, never an overwrite. Updates and deletions that name the
/// modified-on they were computed against first read the record's `@odata.etag` and send it as
/// `If-Match`: a record changed since (its modified-on or etag differ, `412`) is left alone.
/// Others use `If-Match: *`, so an update never creates a record. Lookups are written as
/// `<name>@odata.bind` to `/<entity set>(<id>)`; a lookup with several targets (`ownerid`: user or
/// team) takes the target its type column names among the written values (`owneridtype`).
struct DataverseTableEndpoint: TableEndpoint {
    let session: DataverseSession
    let entity: DataverseEntity
    let side: MappingSide
    let columns: [String]
    /// The `$filter` of the side's filter, nil when it has none.
    let filter: String?

    /// How long a write may take from its stamp to its commit and still be read by deltas.
    static let overlap: TimeInterval = 120
    /// Characters of literals per read by value: about 650 ids, a URL under Dataverse's 32,768 characters.
    static let literalsPerRead = 28_000
    /// Records per `$batch`: Dataverse takes 1,000 requests at most.
    static let requestsPerBatch = 1_000
    /// Records per page: Dataverse's largest (`Prefer: odata.maxpagesize` up to 5,000).
    static let pageSize = 5_000

    /// Reads ask for a whole page, whatever the mapping's batch size.
    var readSize: Int? { Self.pageSize }

    var key: String { entity.primaryID }
    var modified: String { side.modified.parts.last ?? "modifiedon" }

    /// The `$select` of a read: key, modified-on, the mapped columns and the modified-by column.
    private var selectList: String {
        var properties = [key, modified] + columns.map { entity.readProperty($0) }
        if let modifiedBy = side.modifiedBy?.parts.last { properties.append(entity.readProperty(modifiedBy)) }
        return Array(NSOrderedSet(array: properties)).compactMap { $0 as? String }.joined(separator: ",")
    }

    // MARK: Reading

    /// The records `query` finds, at most `limit`, in the order it asks.
    func read(filter conditions: [String?], orderBy: String?, limit: Int, select: String? = nil) async throws -> [SyncRecord] {
        let query = resource(filter: conditions, orderBy: orderBy, select: select ?? selectList)
        var records: [SyncRecord] = []
        let paging = ODataPaging(maximumPageSize: min(max(limit, 1), Self.pageSize), annotations: [DataverseEntity.lookupType])
        for try await page in session.client.pages(of: query, paging: paging) {
            for json in page.records where records.count < limit { records.append(try await record(from: json)) }
            if records.count >= limit { break }
        }
        return records
    }

    /// `entityset?$select=…&$filter=…&$orderby=…`, each part escaped for the URL's query.
    func resource(filter conditions: [String?], orderBy: String?, select: String) -> String {
        var parts = ["$select=\(Self.escaped(select))"]
        let all = conditions.compactMap { $0 }
        if !all.isEmpty { parts.append("$filter=\(Self.escaped(all.map { "(\($0))" }.joined(separator: " and ")))") }
        if let orderBy { parts.append("$orderby=\(Self.escaped(orderBy))") }
        return "\(entity.entitySet)?\(parts.joined(separator: "&"))"
    }

    /// `text` escaped for a URL's query component.
    static func escaped(_ text: String) -> String {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&+=#?")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// The record a JSON object holds.
    func record(from json: ODataJSON) async throws -> SyncRecord {
        guard let id = json[key]?.stringValue, let stamp = json[modified]?.stringValue, let modifiedOn = DataverseValues.instant(stamp) else {
            throw SyncFailure(code: .configuration, message: "Dataverse returned a \(entity.logicalName) record without its \(key) or \(modified)")
        }
        var values = FieldValues(minimumCapacity: columns.count)
        for column in columns {
            values[column] = entity.value(of: column, in: json)
        }
        var changedByIntegration = false
        if let modifiedBy = side.modifiedBy?.parts.last, let writer = json[entity.readProperty(modifiedBy)]?.stringValue {
            changedByIntegration = try await session.applicationUser() == writer.lowercased()
        }
        return SyncRecord(id: id.lowercased(), modifiedOn: modifiedOn, values: values, changedByIntegration: changedByIntegration)
    }

    /// Pages through the changes with the service's own links: Dataverse answers `modifiedon` to
    /// the second while it orders and compares finer, so a cursor of (modified-on, key) cannot be
    /// written as a filter that agrees with the order. Each page's next link (or that there is
    /// none) is kept for the record that ends the page, and the call that continues after that
    /// record follows it. A
    /// cursor without a kept link (another process's, say) reads again from its second and skips
    /// what is not after it; a record of that second it skips, stamped later within the second, is
    /// after the watermark this pass leaves, so the next delta reads it.
    func changes(since: Date?, after cursor: ChangeCursor?, limit: Int) async throws -> [SyncRecord] {
        let paging = ODataPaging(maximumPageSize: min(max(limit, 1), Self.pageSize), annotations: [DataverseEntity.lookupType])
        var link: String
        var kept = false
        if let cursor, let next = session.continuation(after: cursor, in: entity.entitySet) {
            guard let next else { return [] }  // that record ended the changes
            (link, kept) = (next, true)
        } else {
            let since = since.map { "\(modified) gt \(DataverseValues.isoText($0))" }
            let from = cursor.map { "\(modified) ge \(DataverseValues.isoText($0.modifiedOn.wholeSecond))" }
            link = resource(filter: [filter, since, from], orderBy: "\(modified) asc,\(key) asc", select: selectList)
        }
        while true {
            var pages = session.client.pages(of: link, paging: paging).makeAsyncIterator()
            guard let page = try await pages.next() else { return [] }
            var records: [SyncRecord] = []
            for json in page.records { records.append(try await record(from: json)) }
            if !kept, let cursor { records = records.filter { ($0.modifiedOn, $0.id) > (cursor.modifiedOn, cursor.id) } }
            if let last = records.last {
                session.keep(page.nextLink, after: ChangeCursor(modifiedOn: last.modifiedOn, id: last.id), in: entity.entitySet)
            }
            guard records.isEmpty, let next = page.nextLink else { return records }
            link = next
        }
    }

    func records(in range: KeyRange, limit: Int) async throws -> [SyncRecord] {
        let after = try range.after.map { "\(key) gt \(try guid($0))" }
        let upTo = try range.upTo.map { "\(key) le \(try guid($0))" }
        return try await read(filter: [filter, after, upTo], orderBy: "\(key) asc", limit: limit)
    }

    /// Walks the keys of the records passing the filter, in key order, a page at a time.
    private func forEachKey(_ body: (String) -> Void) async throws {
        let query = resource(filter: [filter], orderBy: "\(key) asc", select: key)
        for try await page in session.client.pages(of: query, paging: ODataPaging(maximumPageSize: 5_000)) {
            for json in page.records { if let id = json[key]?.stringValue { body(id.lowercased()) } }
        }
    }

    func splitKeys(every size: Int) async throws -> [String] {
        var splits: [String] = []
        var seen = 0
        try await forEachKey { id in
            seen += 1
            if seen % max(size, 1) == 0 { splits.append(id) }
        }
        return splits
    }

    func count() async throws -> Int {
        var seen = 0
        try await forEachKey { _ in seen += 1 }
        return seen
    }

    /// The records with these ids, as many per request as a URL takes, filtered by `conditions`.
    private func read(ids: [String], filter conditions: [String?], select: String? = nil) async throws -> [SyncRecord] {
        var records: [SyncRecord] = []
        for chunk in Self.chunks(try ids.map { try guid($0) }) {
            records += try await read(filter: conditions + [keyIn(chunk)], orderBy: nil, limit: chunk.count, select: select)
        }
        return records
    }

    /// The key among `ids`: Dataverse's `In` query function.
    func keyIn(_ ids: [String]) -> String {
        "Microsoft.Dynamics.CRM.In(PropertyName='\(key)',PropertyValues=[\(ids.map { "'\($0)'" }.joined(separator: ","))])"
    }

    /// `literals` in runs of at most `literalsPerRead` characters, each run one request's worth.
    static func chunks(_ literals: [String]) -> [[String]] {
        var chunks: [[String]] = []
        var current: [String] = []
        var length = 0
        for literal in literals {
            if !current.isEmpty, length + literal.count > literalsPerRead {
                chunks.append(current)
                (current, length) = ([], 0)
            }
            current.append(literal)
            length += literal.count + 4
        }
        if !current.isEmpty { chunks.append(current) }
        return chunks
    }

    func records(ids: [String]) async throws -> [SyncRecord] {
        try await read(ids: Self.guids(ids), filter: [filter])
    }

    func recordsWithFilterState(ids: [String]) async throws -> [(record: SyncRecord, passesFilter: Bool)] {
        let all = try await read(ids: Self.guids(ids), filter: [])
        guard filter != nil else { return all.map { ($0, true) } }
        let passing = Set(try await read(ids: all.map(\.id), filter: [filter], select: "\(key),\(modified)").map(\.id))
        return all.map { ($0, passing.contains($0.id)) }
    }

    func existingIDs(_ ids: [String]) async throws -> Set<String> {
        Set(try await read(ids: Self.guids(ids), filter: [], select: "\(key),\(modified)").map(\.id))
    }

    func check(_ expected: [ExpectedRecord]) async throws -> [String: ExpectationCheck] {
        let current = Dictionary(
            try await read(ids: Self.guids(expected.map(\.id)), filter: []).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var checks: [String: ExpectationCheck] = [:]
        for record in expected {
            guard let found = current[record.id.lowercased()] else { continue }
            let agrees = record.values.allSatisfy { column, value in
                column == key || Self.same(found.values[column] ?? nil, value, kind: entity.attributes[column] ?? .text)
            }
            checks[record.id] = ExpectationCheck(modifiedOn: found.modifiedOn, agrees: agrees)
        }
        return checks
    }

    /// Whether two texts are the same value of `kind` (`12.5` and `12.50` are, as in a numeric column).
    static func same(_ current: String?, _ expected: String?, kind: DataverseEntity.Kind) -> Bool {
        guard let current, let expected else { return current == expected }
        switch kind {
        case .decimal, .integer:
            return Decimal(string: current) == Decimal(string: expected) && Decimal(string: current) != nil
        case .dateTime:
            return DataverseValues.instant(current) == DataverseValues.instant(expected)
        case .guid, .lookup:
            return current.lowercased() == expected.lowercased()
        case .boolean:
            return (try? DataverseValues.json(current, kind: .boolean).get()) == (try? DataverseValues.json(expected, kind: .boolean).get())
        case .text, .other:
            return current == expected
        }
    }

    func candidates(matching columns: [String], values: [[String]], caseSensitive: Bool) async throws -> [[String]] {
        guard !values.isEmpty, !columns.isEmpty else { return values.map { _ in [] } }
        let normal = { (text: String) -> String in
            let spaced = text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            return caseSensitive ? spaced : spaced.lowercased()
        }
        // Dataverse cannot trim or fold in a filter: ask for records containing the longest word of
        // the first column's value (a superset of the matches), then compare normalised here.
        var found: [[String]] = []
        for tuple in values {
            guard let first = tuple.first, let word = first.split(whereSeparator: \.isWhitespace).max(by: { $0.count < $1.count }) else {
                found.append([])
                continue
            }
            let property = entity.readProperty(columns[0])
            let near = try await read(
                filter: [filter, "contains(\(property),\(DataverseFilter.quoted(String(word))))"], orderBy: "\(key) asc",
                limit: .max, select: ([key, modified] + columns.map { entity.readProperty($0) }).joined(separator: ","))
            found.append(near.filter { record in
                zip(columns, tuple).allSatisfy { column, value in ((record.values[column] ?? nil).map(normal)) == normal(value) }
            }.map(\.id))
        }
        return found
    }

    func ids(whose column: String, isAnyOf values: [String]) async throws -> [String] {
        let kind = try entity.kind(of: column)
        let property = entity.readProperty(column)
        var ids: [String] = []
        let literals = values.compactMap { try? DataverseFilter(entity: entity).literal(.text($0), as: kind) }
        let select = Array(Set([key, modified, property])).sorted().joined(separator: ",")
        let wanted = Set(values)
        for chunk in Self.chunks(literals) {
            let tests = chunk.map { "\(property) eq \($0)" }.joined(separator: " or ")
            let found = try await read(filter: [tests], orderBy: nil, limit: .max, select: select)
            // Dataverse compares text without case: keep exact matches only.
            ids += found.filter { record in (record.values[column] ?? nil).map(wanted.contains) ?? false }.map(\.id)
        }
        return ids
    }

    func watermarkCap() async throws -> Date {
        try await session.serverTime(reading: entity).addingTimeInterval(-Self.overlap)
    }

    /// `id` as a GUID literal, or a clear error.
    func guid(_ id: String) throws -> String {
        guard UUID(uuidString: id) != nil else {
            throw SyncFailure(code: .configuration, message: "\"\(id)\" is not a GUID, so it cannot be a \(entity.logicalName) id")
        }
        return id.lowercased()
    }

    /// The ids that are GUIDs, in lower case (others name no Dataverse record).
    static func guids(_ ids: [String]) -> [String] {
        ids.filter { UUID(uuidString: $0) != nil }.map { $0.lowercased() }
    }
}

extension Date {
    /// The instant with its fraction of a second dropped.
    var wholeSecond: Date { Date(timeIntervalSince1970: timeIntervalSince1970.rounded(.down)) }
}
