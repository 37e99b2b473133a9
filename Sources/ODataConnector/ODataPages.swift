/// One page of a collection.
public struct ODataPage: Sendable {
    /// The records of the page (`value`).
    public var records: [ODataJSON]
    /// The next page's URL (`@odata.nextLink`), already checked to be on the service's host.
    public var nextLink: String?
    /// The delta link (`@odata.deltaLink`) of the last page when changes were tracked: the resource that returns the
    /// changes since this read.
    public var deltaLink: String?
}

/// How a collection is read page by page.
public struct ODataPaging: Sendable {
    /// The page size asked for with `Prefer: odata.maxpagesize=N`; `nil` for the service's default.
    public var maximumPageSize: Int?
    /// Whether to ask for change tracking (`Prefer: odata.track-changes`), so the last page carries a delta link.
    public var trackChanges: Bool
    /// The annotations asked for with `Prefer: odata.include-annotations` (`Microsoft.Dynamics.CRM.lookuplogicalname`), if any.
    public var annotations: [String]

    /// Creates paging options.
    public init(maximumPageSize: Int? = nil, trackChanges: Bool = false, annotations: [String] = []) {
        self.maximumPageSize = maximumPageSize.map { max(1, $0) }
        self.trackChanges = trackChanges
        self.annotations = annotations
    }

    /// The `Prefer` header's value, `nil` when nothing is asked for.
    var preferHeader: String? {
        var preferences: [String] = []
        if let maximumPageSize { preferences.append("odata.maxpagesize=\(maximumPageSize)") }
        if trackChanges { preferences.append("odata.track-changes") }
        if !annotations.isEmpty { preferences.append("odata.include-annotations=\"\(annotations.joined(separator: ","))\"") }
        return preferences.isEmpty ? nil : preferences.joined(separator: ",")
    }
}

/// The pages of a collection, read one at a time as the caller iterates (memory follows the page, not the
/// collection), following `@odata.nextLink` only on the service's own host.
public struct ODataPages: AsyncSequence, Sendable {
    /// A page.
    public typealias Element = ODataPage

    let client: ODataClient
    let resource: String
    let paging: ODataPaging

    /// Reads pages on demand.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let client: ODataClient
        let paging: ODataPaging
        var next: String?

        /// The next page; `nil` after the last.
        ///
        /// - Throws: `ODataError` (`invalidRequest` for a next link off the service's host).
        public mutating func next() async throws -> ODataPage? {
            guard let resource = next else { return nil }
            next = nil
            let headers: [(name: String, value: String)] = paging.preferHeader.map { [("Prefer", $0)] } ?? []
            let response = try await client.send(.get(resource, headers: headers))
            let page = try client.page(from: response)
            next = page.nextLink
            return page
        }
    }

    /// An iterator starting at the first page.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(client: client, paging: paging, next: resource)
    }
}

extension ODataClient {
    /// The pages of the collection `resource` (`accounts?$select=name`), read as the caller iterates.
    public func pages(of resource: String, paging: ODataPaging = ODataPaging()) -> ODataPages {
        ODataPages(client: self, resource: resource, paging: paging)
    }

    /// The page a collection response holds.
    func page(from response: ODataResponse) throws -> ODataPage {
        guard let body = response.body, let records = body["value"]?.arrayValue else {
            throw ODataError(endpoint: service.name, .invalidResponse(
                status: response.status, problem: "a collection page without a \"value\" array", excerpt: ""))
        }
        let nextLink = try link(body["@odata.nextLink"], status: response.status)
        let deltaLink = try link(body["@odata.deltaLink"], status: response.status)
        if let nextLink { _ = try resolve(nextLink) }
        return ODataPage(records: records, nextLink: nextLink, deltaLink: deltaLink)
    }

    private func link(_ value: ODataJSON?, status: Int) throws -> String? {
        guard let value, value != .null else { return nil }
        guard let text = value.stringValue, !text.isEmpty else {
            throw ODataError(endpoint: service.name, .invalidResponse(status: status, problem: "a link that is not a string", excerpt: ""))
        }
        return text
    }
}
