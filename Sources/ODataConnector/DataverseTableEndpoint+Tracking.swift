import Foundation
import Sync

// Change tracking over Dataverse's delta links, as "Use change tracking to synchronize data with
// external systems" describes: a read with `Prefer: odata.track-changes` ends with an
// `@odata.deltaLink`; following it answers the records created or changed since, and the deleted
// ones as `$deletedEntity` entries, and ends with the next delta link. Such a read takes `$select`
// only (no `$filter`, `$orderby` or `$top`).
extension DataverseTableEndpoint: ChangeTracking {
    /// The table's change tracking, when the table has it enabled.
    var changeTracking: (any ChangeTracking)? { entity.tracksChanges ? self : nil }

    /// Reads the keys with change tracking, page by page, to the delta link at the end: its token
    /// names the changes from the moment the read began.
    func currentChangeToken() async throws -> ChangeToken {
        var pages = client.pages(of: "\(collection)?$select=\(key)", paging: trackingPaging(maximumPageSize)).makeAsyncIterator()
        while let page = try await pages.next() {
            if let link = page.deltaLink { return try token(in: link) }
        }
        throw missingDeltaLink
    }

    /// Follows the delta link of `token`, page by page. Without a filter a page's records are the
    /// changed records; with one, only their keys are read there and the changed records are read
    /// again through the filter, so those outside it stay out (a record that left the filter is
    /// not deleted: only `$deletedEntity` entries are).
    ///
    /// - Throws: `ChangeTokenRefused` when the service answers the token's first page with 400
    ///   (Dataverse's 0x80044352 asks for a full sync; a token it does not know is a bad request too).
    func changes(after token: ChangeToken, pageSize: Int, _ body: (TrackedChanges) async throws -> Void) async throws -> ChangeToken {
        let select = filter == nil ? selectList : key
        let resource = "\(collection)?$select=\(Self.escaped(select))&$deltatoken=\(Self.escaped(token.text))"
        var pages = client.pages(of: resource, paging: trackingPaging(pageSize)).makeAsyncIterator()
        var page = try await firstDeltaPage(&pages)
        while true {
            try await body(try await trackedChanges(in: page))
            if let link = page.deltaLink { return try self.token(in: link) }
            guard let next = try await pages.next() else { throw missingDeltaLink }
            page = next
        }
    }

    /// Change-tracking paging of up to `size` records a page, within Dataverse's bound.
    private func trackingPaging(_ size: Int) -> ODataPaging {
        ODataPaging(maximumPageSize: min(max(size, 1), maximumPageSize), trackChanges: true, annotations: annotations)
    }

    /// The first page after a stored token; a 400 answer is the service refusing the token.
    private func firstDeltaPage(_ pages: inout ODataPages.AsyncIterator) async throws -> ODataPage {
        do {
            guard let page = try await pages.next() else { throw missingDeltaLink }
            return page
        } catch let error as ODataError where error.status == 400 {
            throw ChangeTokenRefused(reason: "\(error)")
        }
    }

    /// A delta page's changed records (those passing the filter) and deleted keys.
    private func trackedChanges(in page: ODataPage) async throws -> TrackedChanges {
        var changed: [ODataJSON] = []
        var deleted: [String] = []
        for json in page.records {
            if Self.isDeletion(json) {
                if let id = json["id"]?.stringValue { deleted.append(id) }
            } else {
                changed.append(json)
            }
        }
        guard filter == nil else {
            let ids = changed.compactMap { $0[key]?.stringValue }
            return TrackedChanges(changed: try await records(ids: ids), deleted: Self.guids(deleted))
        }
        var records: [SyncRecord] = []
        for json in changed { records.append(try await record(from: json)) }
        return TrackedChanges(changed: records, deleted: Self.guids(deleted))
    }

    /// Whether a delta entry is a deleted record: a `$deletedEntity` whose reason is not `changed`
    /// (OData's word for a record that left the set without being deleted).
    private static func isDeletion(_ json: ODataJSON) -> Bool {
        guard json["@odata.context"]?.stringValue?.hasSuffix("$deletedEntity") == true else { return false }
        return json["reason"]?.stringValue != "changed"
    }

    /// The `$deltatoken` of a delta link. Only the token is kept, never the link: a stored link
    /// would be followed wherever it points, while a token travels inside a query Couplet writes.
    private func token(in deltaLink: String) throws -> ChangeToken {
        let items = URLComponents(string: deltaLink)?.queryItems ?? []
        guard let text = items.first(where: { $0.name == "$deltatoken" })?.value, let token = ChangeToken(text) else {
            throw ODataError(endpoint: client.service.name, .invalidResponse(
                status: 200, problem: "a delta link of \(tableName) without a $deltatoken of at most \(ChangeToken.maximumLength) characters",
                excerpt: BodyExcerpt.of(Array(deltaLink.utf8))))
        }
        return token
    }

    /// The error of a change-tracking read that ended without a delta link.
    private var missingDeltaLink: ODataError {
        ODataError(endpoint: client.service.name, .invalidResponse(
            status: 200, problem: "a change-tracking read of \(tableName) that ends without an @odata.deltaLink", excerpt: ""))
    }
}
