import Foundation

extension ODataClient {
    /// Sends `batch` to `[root]$batch` as one multipart request and pairs the answers with its requests.
    ///
    /// A batch stopped by a failure (no `continueOnError`) answers `400` with the failed request's answer last;
    /// that comes back as a result whose `notExecuted` counts the requests after it.
    ///
    /// - Throws: `ODataError` (`invalidRequest` for an empty batch or one of more than 1,000 requests or with a URL off
    ///   the service's host; `invalidBatchResponse` when the answer does not match).
    public func batch(_ batch: ODataBatch) async throws -> ODataBatchResult {
        try validate(batch)
        let encoded = ODataMultipartBatch.encode(batch, serviceRoot: service.root, batchID: UUID().uuidString.lowercased())
        var headers: [(name: String, value: String)] = [("Content-Type", encoded.contentType)]
        if batch.continueOnError { headers.append(("Prefer", "odata.continue-on-error")) }
        let prepared = PreparedRequest(
            method: .post, url: try resolve("$batch"), headers: headers, body: Array(encoded.body.utf8), isIdempotent: batch.isIdempotent
        )
        let response = try await exchange(prepared) { response in
            response.status == 400 && ResponseReader.mediaType(response.header("Content-Type")) == "multipart/mixed"
        }
        guard let contentType = response.header("Content-Type"), ResponseReader.mediaType(contentType) == "multipart/mixed" else {
            throw ODataError(endpoint: service.name, .invalidResponse(
                status: response.status, problem: "a $batch answer that is not multipart/mixed", excerpt: BodyExcerpt.of(response.body)))
        }
        return try ODataMultipartBatch.decode(response.body, contentType: contentType, status: response.status, for: batch, endpoint: service.name)
    }

    private func validate(_ batch: ODataBatch) throws {
        let count = batch.requestCount
        guard count > 0, count <= ODataBatch.maximumRequests else {
            throw ODataError(endpoint: service.name, .invalidRequest("a batch holds 1 to \(ODataBatch.maximumRequests) requests, not \(count)"))
        }
        for item in batch.items {
            let requests: [ODataBatchRequest]
            switch item {
            case .request(let request): requests = [request]
            case .changeSet(let members): requests = members
            }
            for request in requests where !request.url.hasPrefix("$") {
                _ = try resolve(request.url)
            }
        }
    }
}
