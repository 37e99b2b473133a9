/// One request inside a `$batch`.
public struct ODataBatchRequest: Sendable {
    /// The method.
    public var method: ODataMethod
    /// The URL as written in the request line: a path relative to the service root (`tasks`, written as the absolute
    /// path `/api/data/v9.2/tasks`), an absolute URL on the service's host, or a `$n` reference to an earlier
    /// Content-ID of the same change set (`$1`, `$1/primarycontactid/$ref`), written as given.
    public var url: String
    /// Headers of the request (`If-Match`, `Prefer`); `Content-Type` is written for a body.
    public var headers: [(name: String, value: String)]
    /// The JSON body.
    public var body: ODataJSON?
    /// The Content-ID; requests in a change set get their position (1, 2, …) when they have none.
    public var contentID: String?

    /// Creates a request.
    public init(method: ODataMethod, url: String, headers: [(name: String, value: String)] = [], body: ODataJSON? = nil, contentID: String? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.contentID = contentID
    }
}

/// A `$batch` request (OData v4 multipart, as Dataverse takes it): requests sent one after another, change sets
/// applied atomically.
public struct ODataBatch: Sendable {
    /// One item of a batch.
    public enum Item: Sendable {
        /// A request on its own.
        case request(ODataBatchRequest)
        /// Requests that succeed or fail together (no `GET`).
        case changeSet([ODataBatchRequest])
    }

    /// The most requests in one Dataverse batch.
    public static let maximumRequests = 1000

    /// The items, in order.
    public var items: [Item]
    /// Whether the service goes on after a failed request (`Prefer: odata.continue-on-error`).
    public var continueOnError: Bool
    /// Whether every request may run twice with the effect of once, so the batch may be retried after an unknown
    /// outcome.
    public var isIdempotent: Bool

    /// Creates a batch.
    public init(items: [Item], continueOnError: Bool = false, isIdempotent: Bool = false) {
        self.items = items
        self.continueOnError = continueOnError
        self.isIdempotent = isIdempotent
    }

    /// The number of requests, change sets' members counted one by one.
    public var requestCount: Int {
        items.reduce(0) { count, item in
            switch item {
            case .request: return count + 1
            case .changeSet(let requests): return count + requests.count
            }
        }
    }
}

/// The answer to one request of a batch.
public struct ODataBatchResponse: Sendable {
    /// The position of the request in the batch, change sets' members counted one by one, from 0.
    public var requestIndex: Int
    /// The Content-ID of the answer's part, when it has one.
    public var contentID: String?
    /// The status.
    public var status: Int
    /// The headers (`OData-EntityId`, `ETag`, `Location`…).
    public var headers: [(name: String, value: String)]
    /// The JSON body, `nil` when empty.
    public var body: ODataJSON?
    /// Whether this is the one answer of a whole change set that failed (every member gets it).
    public var isChangeSetFailure: Bool

    /// The first value of header `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    /// The `OData-EntityId` header.
    public var entityID: String? { header("OData-EntityId") }

    /// The `code` and `message` of an OData error body.
    public var serviceError: (code: String, message: String)? {
        body.flatMap { ResponseReader(endpoint: "").serviceError($0) }
    }
}

/// The answers of a batch.
public struct ODataBatchResult: Sendable {
    /// The batch request's HTTP status (`200`, or `400` when a failure stopped it).
    public var status: Int
    /// The answers of the requests that ran, in the order of the batch's requests.
    public var responses: [ODataBatchResponse]
    /// How many requests at the end did not run because an earlier one failed without `continueOnError`.
    public var notExecuted: Int
}
