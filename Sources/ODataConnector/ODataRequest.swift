/// An HTTP method an OData client sends.
public enum ODataMethod: String, Sendable, Equatable {
    /// Read.
    case get = "GET"
    /// Create, or call an action.
    case post = "POST"
    /// Update (or upsert).
    case patch = "PATCH"
    /// Replace one property.
    case put = "PUT"
    /// Delete.
    case delete = "DELETE"
}

/// One request to an OData service, relative to its service root.
public struct ODataRequest: Sendable {
    /// The method.
    public var method: ODataMethod
    /// The resource: a path relative to the service root (`accounts(…)?$select=name`), or an absolute URL on the
    /// service root's host (a `@odata.nextLink`).
    public var resource: String
    /// Extra headers (`If-Match`, `Prefer`…); `Authorization`, `Accept`, `OData-Version` and `Content-Type` are set
    /// by the client.
    public var headers: [(name: String, value: String)]
    /// The JSON body.
    public var body: ODataJSON?
    /// Whether sending the request twice has the effect of sending it once, so that it may be retried after a
    /// failure that leaves its fate unknown (a `5xx`, a broken connection, a timeout).
    public var isIdempotent: Bool
    /// Whether the answer must be JSON (otherwise `204 No Content` and non-JSON bodies are accepted).
    public var expectsJSON: Bool
    /// The time one attempt may take, when it differs from the service's `timeouts.request`.
    public var timeout: Duration?

    /// Creates a request.
    public init(
        method: ODataMethod, resource: String, headers: [(name: String, value: String)] = [], body: ODataJSON? = nil,
        isIdempotent: Bool, expectsJSON: Bool = true, timeout: Duration? = nil
    ) {
        self.method = method
        self.resource = resource
        self.headers = headers
        self.body = body
        self.isIdempotent = isIdempotent
        self.expectsJSON = expectsJSON
        self.timeout = timeout
    }

    /// A `GET` of `resource` (idempotent).
    public static func get(_ resource: String, headers: [(name: String, value: String)] = []) -> ODataRequest {
        ODataRequest(method: .get, resource: resource, headers: headers, isIdempotent: true)
    }

    /// A `POST` that creates a record; idempotent only when the body carries the record's id
    /// (`recordIDSupplied`), so that a retry after an unknown outcome cannot create it twice.
    public static func create(_ collection: String, body: ODataJSON, recordIDSupplied: Bool, returnRepresentation: Bool = false) -> ODataRequest {
        let prefer: [(name: String, value: String)] = returnRepresentation ? [("Prefer", "return=representation")] : []
        return ODataRequest(method: .post, resource: collection, headers: prefer, body: body,
                            isIdempotent: recordIDSupplied, expectsJSON: returnRepresentation)
    }

    /// A `PATCH` of `record`; with `ifMatch` (an ETag or `*`) it is idempotent and a concurrent change answers `412`.
    public static func update(_ record: String, body: ODataJSON, ifMatch: String?) -> ODataRequest {
        let headers: [(name: String, value: String)] = ifMatch.map { [("If-Match", $0)] } ?? []
        return ODataRequest(method: .patch, resource: record, headers: headers, body: body,
                            isIdempotent: ifMatch != nil, expectsJSON: false)
    }

    /// A `DELETE` of `record`; idempotent with `ifMatch`.
    public static func delete(_ record: String, ifMatch: String?) -> ODataRequest {
        let headers: [(name: String, value: String)] = ifMatch.map { [("If-Match", $0)] } ?? []
        return ODataRequest(method: .delete, resource: record, headers: headers, isIdempotent: ifMatch != nil, expectsJSON: false)
    }
}

/// A successful answer of an OData service.
public struct ODataResponse: Sendable {
    /// The HTTP status (2xx).
    public var status: Int
    /// The headers, without `Set-Cookie`.
    public var headers: [(name: String, value: String)]
    /// The JSON body; `nil` for an empty body.
    public var body: ODataJSON?

    /// Creates a response.
    public init(status: Int, headers: [(name: String, value: String)], body: ODataJSON?) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first value of header `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    /// The `OData-EntityId` header: the URL of the record a create or upsert wrote.
    public var entityID: String? { header("OData-EntityId") }

    /// The `ETag` header, or the body's `@odata.etag`.
    public var etag: String? { header("ETag") ?? body?["@odata.etag"]?.stringValue }
}
