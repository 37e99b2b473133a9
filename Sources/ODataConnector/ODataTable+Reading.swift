import Foundation
import Sync

// Reading an OData entity set: `$select` of the mapped columns, pages followed by
// `@odata.nextLink`, records by id with `$filter` key tests bounded by the URL's length.
extension ODataTable {
    /// Reads ask for a whole page of the service, whatever the mapping's batch size: one request
    /// carries as many records as the service allows.
    var readSize: Int? { maximumPageSize }

    /// Paging asking for up to `limit` records a page, within the service's bound.
    func paging(_ limit: Int) -> ODataPaging {
        ODataPaging(maximumPageSize: min(max(limit, 1), maximumPageSize), annotations: annotations)
    }

    /// The records `query` finds, at most `limit`, in the order it asks.
    func read(filter conditions: [String?], orderBy: String?, limit: Int, select: String? = nil) async throws -> [SyncRecord] {
        let query = resource(filter: conditions, orderBy: orderBy, select: select ?? selectList)
        var records: [SyncRecord] = []
        for try await page in client.pages(of: query, paging: paging(limit)) {
            for json in page.records where records.count < limit { records.append(try await record(from: json)) }
            if records.count >= limit { break }
        }
        return records
    }

    /// `collection?$select=…&$filter=…&$orderby=…`, each part escaped for the URL's query.
    func resource(filter conditions: [String?], orderBy: String?, select: String) -> String {
        var parts = ["$select=\(Self.escaped(select))"]
        let all = conditions.compactMap { $0 }
        if !all.isEmpty { parts.append("$filter=\(Self.escaped(all.map { "(\($0))" }.joined(separator: " and ")))") }
        if let orderBy { parts.append("$orderby=\(Self.escaped(orderBy))") }
        return "\(collection)?\(parts.joined(separator: "&"))"
    }

    /// `text` escaped for a URL's query component.
    static func escaped(_ text: String) -> String {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&+=#?")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// The changes after `cursor`, page after page until `limit` (a service may answer smaller
    /// pages than asked), with the service's own links: a service may answer modified-on
    /// coarser than it orders and compares (Dataverse to the second), so a cursor of (modified-on,
    /// key) cannot be written as a filter that agrees with the order. Each page's next link (or
    /// that there is none) is kept for the record that ends the page, and the call that continues
    /// after that record follows it. A cursor without a kept link (another process's, say) reads
    /// again from its second and skips what is not after it; a record of that second it skips,
    /// stamped later within the second, is after the watermark this pass leaves, so the next delta
    /// reads it.
    func changes(since: Date?, after cursor: ChangeCursor?, limit: Int) async throws -> [SyncRecord] {
        var link: String
        var kept = false
        if let cursor, let next = continuations.take(after: cursor, in: collection) {
            guard let next else { return [] }  // that record ended the changes
            (link, kept) = (next, true)
        } else {
            let since = since.map { "\(modified) gt \(ODataValues.isoText($0))" }
            let from = cursor.map { "\(modified) ge \(ODataValues.isoText($0.modifiedOn.wholeSecond))" }
            link = resource(filter: [filter, since, from], orderBy: "\(modified) asc,\(key) asc", select: selectList)
        }
        var records: [SyncRecord] = []
        while true {
            // Page after page until `limit` records: a service may answer a smaller page than asked.
            var pages = client.pages(of: link, paging: paging(limit - records.count)).makeAsyncIterator()
            guard let page = try await pages.next() else { return records }
            for json in page.records {
                let record = try await record(from: json)
                if kept || cursor.map({ (record.modifiedOn, record.id) > ($0.modifiedOn, $0.id) }) ?? true { records.append(record) }
            }
            guard records.count < limit, let next = page.nextLink else {
                if let last = records.last {
                    continuations.keep(page.nextLink, after: ChangeCursor(modifiedOn: last.modifiedOn, id: last.id), in: collection)
                }
                return records
            }
            link = next
        }
    }

    func records(in range: KeyRange, limit: Int) async throws -> [SyncRecord] {
        let after = try range.after.map { "\(key) gt \(try guid($0))" }
        let upTo = try range.upTo.map { "\(key) le \(try guid($0))" }
        return try await read(filter: [filter, after, upTo], orderBy: "\(key) asc", limit: limit)
    }

    /// Walks the keys of the records passing the filter, in key order, a page at a time.
    func forEachKey(_ body: (String) -> Void) async throws {
        let query = resource(filter: [filter], orderBy: "\(key) asc", select: key)
        for try await page in client.pages(of: query, paging: paging(.max)) {
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

    /// The records with these ids, as many per request as a URL takes, filtered by `conditions`.
    func read(ids: [String], filter conditions: [String?], select: String? = nil) async throws -> [SyncRecord] {
        var records: [SyncRecord] = []
        for chunk in chunks(try ids.map { try guid($0) }) {
            records += try await read(filter: conditions + [keyIn(chunk)], orderBy: nil, limit: chunk.count, select: select)
        }
        return records
    }

    /// `literals` in runs of at most `literalsPerRead` characters, each run one request's worth.
    func chunks(_ literals: [String]) -> [[String]] {
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
                column == key || ODataValues.same(found.values[column] ?? nil, value, kind: (try? kind(of: column)) ?? .text)
            }
            checks[record.id] = ExpectationCheck(stamp: found.stamp, agrees: agrees)
        }
        return checks
    }

    /// Neither service trims or folds white space in a filter: asks for the records containing the
    /// longest word of the first column's value (a superset of the matches), then compares
    /// normalised here. Where `contains` compares with case (Business Central) a case-insensitive
    /// match cannot be narrowed so, and the records passing the filter are read once for all values.
    func candidates(matching columns: [String], values: [[String]], caseSensitive: Bool) async throws -> [[String]] {
        guard !values.isEmpty, !columns.isEmpty else { return values.map { _ in [] } }
        let select = ([key, modified] + columns.map(readProperty)).joined(separator: ",")
        let matches = { (records: [SyncRecord], tuple: [String]) -> [String] in
            records.filter { record in
                zip(columns, tuple).allSatisfy { column, value in
                    (record.values[column] ?? nil).map { matchNormal($0, caseSensitive: caseSensitive) } == matchNormal(value, caseSensitive: caseSensitive)
                }
            }.map(\.id)
        }
        if !caseSensitive && !filterCompiler.dialect.comparesTextWithoutCase {
            let all = try await read(filter: [filter], orderBy: "\(key) asc", limit: .max, select: select)
            return values.map { matches(all, $0) }
        }
        var found: [[String]] = []
        for tuple in values {
            guard let first = tuple.first, let word = first.split(whereSeparator: \.isWhitespace).max(by: { $0.count < $1.count }) else {
                found.append([])
                continue
            }
            let near = try await read(
                filter: [filter, "contains(\(readProperty(columns[0])),\(ODataFilter.quoted(String(word))))"], orderBy: "\(key) asc",
                limit: .max, select: select)
            found.append(matches(near, tuple))
        }
        return found
    }

    /// Asks with `eq` tests and keeps the exact matches (Dataverse compares text without case).
    func ids(whose column: String, isAnyOf values: [String]) async throws -> [String] {
        let kind = try kind(of: column)
        let property = readProperty(column)
        var ids: [String] = []
        let literals = values.compactMap { try? filterCompiler.literal(.text($0), as: kind) }
        let select = Array(Set([key, modified, property])).sorted().joined(separator: ",")
        let wanted = Set(values)
        for chunk in chunks(literals) {
            let tests = chunk.map { "\(property) eq \($0)" }.joined(separator: " or ")
            let found = try await read(filter: [tests], orderBy: nil, limit: .max, select: select)
            ids += found.filter { record in (record.values[column] ?? nil).map(wanted.contains) ?? false }.map(\.id)
        }
        return ids
    }

    /// The service's clock (its `Date` header) less `commitOverlap`. Sound because both services
    /// stamp a record's modified-on (Dataverse's `modifiedon`, Business Central's
    /// `lastModifiedDateTime`, its SystemModifiedAt) inside the writing transaction, before it
    /// commits: a record becomes visible at most the length of a commit after its stamp, and a
    /// watermark that stays `commitOverlap` behind the service's clock reads it on a later delta
    /// even when newer records were read first. The overlap's records are read again and found
    /// unchanged by their couplings; a commit slower than the overlap is missed by deltas and found
    /// by the next full run. The service shows no open transactions, so nothing tighter is known.
    func watermarkCap() async throws -> Date {
        try await serverTime().addingTimeInterval(-Self.commitOverlap)
    }

    /// How long a write may take from its stamp to its commit and still be read by deltas.
    static var commitOverlap: TimeInterval { 120 }

    /// The service's clock: the `Date` of a small read of the table (the local clock when it sends none).
    func serverTime() async throws -> Date {
        let response = try await client.send(.get("\(collection)?$select=\(key)&$top=1"))
        return response.header("Date").flatMap(RetryAfter.httpDate) ?? Date()
    }

    /// `id` as a GUID literal, or a clear error.
    func guid(_ id: String) throws -> String {
        guard UUID(uuidString: id) != nil else {
            throw SyncFailure(code: .configuration, message: "\"\(id)\" is not a GUID, so it cannot be a \(tableName) id")
        }
        return id.lowercased()
    }

    /// The ids that are GUIDs, in lower case (others name no record of either service).
    static func guids(_ ids: [String]) -> [String] {
        ids.filter { UUID(uuidString: $0) != nil }.map { $0.lowercased() }
    }
}
