import Foundation

/// One request of a JSON `$batch` (OData 4.01 JSON batching, as Business Central takes it).
public struct ODataJSONBatchRequest: Sendable {
    /// The request's id, unique in the batch; answers are paired with requests by it.
    public var id: String
    /// The method.
    public var method: ODataMethod
    /// The URL relative to the service root (`companies(…)/customers(…)`).
    public var url: String
    /// Headers (`If-Match`, `Company`…); `Content-Type: application/json` is added for a body that has none.
    public var headers: [(name: String, value: String)]
    /// The JSON body.
    public var body: ODataJSON?
    /// The group of requests that succeed or fail together, if any.
    public var atomicityGroup: String?

    /// Creates a request.
    public init(id: String, method: ODataMethod, url: String, headers: [(name: String, value: String)] = [],
                body: ODataJSON? = nil, atomicityGroup: String? = nil) {
        self.id = id
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.atomicityGroup = atomicityGroup
    }
}

/// A JSON `$batch`: `{"requests":[{"method","id","url","headers","body","atomicityGroup"}]}` answered by
/// `{"responses":[{"id","status","headers","body"}]}`.
public struct ODataJSONBatch: Sendable {
    /// The most operations in one Business Central `$batch` request.
    public static let maximumRequests = 100

    /// The requests, in order.
    public var requests: [ODataJSONBatchRequest]
    /// Whether the service goes on after a failed request (`Prefer: odata.continue-on-error`).
    public var continueOnError: Bool
    /// Whether Business Central runs the whole batch in one transaction (`Isolation: snapshot`).
    public var isolationSnapshot: Bool
    /// Whether every request may run twice with the effect of once, so the batch may be retried.
    public var isIdempotent: Bool

    /// Creates a batch.
    public init(requests: [ODataJSONBatchRequest], continueOnError: Bool = false, isolationSnapshot: Bool = false, isIdempotent: Bool = false) {
        self.requests = requests
        self.continueOnError = continueOnError
        self.isolationSnapshot = isolationSnapshot
        self.isIdempotent = isIdempotent
    }

    /// The request body.
    public var json: ODataJSON {
        .object([ODataJSON.Member("requests", .array(requests.map(Self.json)))])
    }

    private static func json(_ request: ODataJSONBatchRequest) -> ODataJSON {
        var headers = request.headers
        if request.body != nil, !headers.contains(where: { $0.name.caseInsensitiveCompare("Content-Type") == .orderedSame }) {
            headers.append(("Content-Type", "application/json"))
        }
        var members = [
            ODataJSON.Member("method", .string(request.method.rawValue)),
            ODataJSON.Member("id", .string(request.id)),
            ODataJSON.Member("url", .string(request.url)),
            ODataJSON.Member("headers", .object(headers.map { ODataJSON.Member($0.name, .string($0.value)) })),
        ]
        if let body = request.body { members.append(ODataJSON.Member("body", body)) }
        if let group = request.atomicityGroup { members.append(ODataJSON.Member("atomicityGroup", .string(group))) }
        return .object(members)
    }

    /// Pairs the answer `json` with the requests: by `id`, or by order when the service sends `"id": null` for all.
    ///
    /// - Throws: `ODataError.Kind.invalidBatchResponse` when the answer has no `responses` array, an answer's id or
    ///   status is unusable, ids repeat or match no request, or answers are missing (beyond the stop after a failure
    ///   without `continueOnError`).
    public func decode(_ json: ODataJSON, status: Int, endpoint: String) throws -> ODataBatchResult {
        func problem(_ text: String) -> ODataError { ODataError(endpoint: endpoint, .invalidBatchResponse(text)) }
        guard let answers = json["responses"]?.arrayValue else { throw problem("the answer has no \"responses\" array") }
        guard answers.count <= requests.count else { throw problem("\(answers.count) answers to \(requests.count) requests") }
        var responses = try answers.enumerated().map { offset, answer in
            try response(answer, position: offset, allIDsNull: answers.allSatisfy { $0["id"] == nil || $0["id"] == .null }, problem: problem)
        }
        responses.sort { $0.requestIndex < $1.requestIndex }
        guard Set(responses.map(\.requestIndex)).count == responses.count else { throw problem("two answers for the same request") }
        if responses.count < requests.count {
            guard !continueOnError, responses.contains(where: { $0.status >= 400 }) else {
                throw problem("\(responses.count) answers to \(requests.count) requests, and no failure stopped the batch")
            }
        }
        return ODataBatchResult(status: status, responses: responses, notExecuted: requests.count - responses.count)
    }

    private func response(_ answer: ODataJSON, position: Int, allIDsNull: Bool, problem: (String) -> ODataError) throws -> ODataBatchResponse {
        guard let statusText = answer["status"]?.numberText, let status = Int(statusText), (100...599).contains(status) else {
            throw problem("answer \(position + 1) has no HTTP status")
        }
        let index: Int
        if allIDsNull {
            index = position
        } else {
            guard let id = answer["id"]?.stringValue, let found = requests.firstIndex(where: { $0.id == id }) else {
                throw problem("answer \(position + 1) has an id that matches no request")
            }
            index = found
        }
        let headers = (answer["headers"]?.objectMembers ?? []).compactMap { member in
            member.value.stringValue.map { (name: member.name, value: $0) }
        }
        let body = answer["body"].flatMap { $0 == .null ? nil : $0 }
        return ODataBatchResponse(requestIndex: index, contentID: requests[index].id, status: status, headers: headers,
                                  body: body, isChangeSetFailure: false)
    }
}

extension ODataClient {
    /// Sends `batch` to `[root]$batch` as JSON (Business Central) and pairs the answers with its requests.
    ///
    /// - Throws: `ODataError` (`invalidRequest` for an empty batch, one over 100 requests, repeated ids or a URL that is
    ///   absolute; `invalidBatchResponse` when the answer does not match).
    public func jsonBatch(_ batch: ODataJSONBatch) async throws -> ODataBatchResult {
        try validate(batch)
        var headers: [(name: String, value: String)] = [("Content-Type", "application/json")]
        if batch.continueOnError { headers.append(("Prefer", "odata.continue-on-error")) }
        if batch.isolationSnapshot { headers.append(("Isolation", "snapshot")) }
        let prepared = PreparedRequest(method: .post, url: try resolve("$batch"), headers: headers,
                                       body: batch.json.jsonBytes, isIdempotent: batch.isIdempotent)
        let response = try await exchange(prepared) { _ in false }
        let reader = ResponseReader(endpoint: service.name)
        let answer = try reader.odataResponse(response, expectsJSON: true)
        guard let json = answer.body else { throw reader.error(for: response) }
        return try batch.decode(json, status: response.status, endpoint: service.name)
    }

    private func validate(_ batch: ODataJSONBatch) throws {
        let count = batch.requests.count
        guard count > 0, count <= ODataJSONBatch.maximumRequests else {
            throw ODataError(endpoint: service.name, .invalidRequest("a JSON batch holds 1 to \(ODataJSONBatch.maximumRequests) requests, not \(count)"))
        }
        guard Set(batch.requests.map(\.id)).count == count else {
            throw ODataError(endpoint: service.name, .invalidRequest("the requests of a JSON batch need distinct ids"))
        }
        for request in batch.requests where request.url.contains("://") {
            throw ODataError(endpoint: service.name, .invalidRequest("a JSON batch request's URL is relative to the service root"))
        }
    }
}
