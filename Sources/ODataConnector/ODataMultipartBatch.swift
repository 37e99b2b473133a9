import Foundation

/// The OData v4 multipart `$batch` format, as Dataverse documents it: writing a batch request and reading its
/// `multipart/mixed` answer.
public enum ODataMultipartBatch {
    /// A written batch request body.
    public struct Encoded: Sendable {
        /// The request's `Content-Type`: `multipart/mixed; boundary="batch_<id>"`.
        public var contentType: String
        /// The body, lines ended by CRLF.
        public var body: String
    }

    /// Writes `batch` for the service at `serviceRoot`: boundaries `batch_<batchID>` and `changeset_<id>` with the
    /// ids `changeSetID` gives for each change set's position; relative URLs written as absolute paths.
    public static func encode(
        _ batch: ODataBatch, serviceRoot: URL, batchID: String, changeSetID: (Int) -> String = { _ in UUID().uuidString.lowercased() },
        prettyBodies: Bool = false
    ) -> Encoded {
        let boundary = "batch_\(batchID)"
        var writer = PartWriter(rootPath: serviceRoot.path.hasSuffix("/") ? serviceRoot.path : serviceRoot.path + "/", pretty: prettyBodies)
        for (index, item) in batch.items.enumerated() {
            writer.output += "--\(boundary)\r\n"
            switch item {
            case .request(let request):
                writer.writeRequestPart(request, contentID: request.contentID)
            case .changeSet(let requests):
                writer.writeChangeSet(requests, boundary: "changeset_\(changeSetID(index))")
            }
            writer.output += "\r\n"
        }
        writer.output += "--\(boundary)--\r\n"
        return Encoded(contentType: "multipart/mixed; boundary=\"\(boundary)\"", body: writer.output)
    }

    /// Reads the answer to `batch`: its `multipart/mixed` body with the boundary `contentType` names, matching
    /// answers to requests by order and Content-ID. LF line ends are taken as CRLF.
    ///
    /// - Throws: `ODataError.Kind.invalidBatchResponse` when the answer does not match the request: a part count
    ///   that differs (beyond the documented stop after a failure without `continueOnError`), a missing closing
    ///   boundary, a Content-ID that matches no request, a part that is not an HTTP response or carries a body that
    ///   is not JSON.
    public static func decode(
        _ body: [UInt8], contentType: String, status: Int, for batch: ODataBatch, endpoint: String
    ) throws -> ODataBatchResult {
        do {
            guard ResponseReader.mediaType(contentType) == "multipart/mixed",
                  let boundary = ResponseReader.parameter("boundary", of: contentType), !boundary.isEmpty else {
                throw Problem("the answer is not multipart/mixed with a boundary")
            }
            let parts = try MultipartReader.parts(of: MultipartReader.lines(body), boundary: boundary)
            var matcher = ResponseMatcher(batch: batch)
            return try matcher.match(parts, status: status)
        } catch let problem as Problem {
            throw ODataError(endpoint: endpoint, .invalidBatchResponse(problem.text))
        }
    }

    /// A mismatch between a batch and its answer.
    struct Problem: Error {
        let text: String
        init(_ text: String) { self.text = text }
    }
}

/// Writes request parts.
private struct PartWriter {
    let rootPath: String
    let pretty: Bool
    var output = ""

    init(rootPath: String, pretty: Bool) {
        self.rootPath = rootPath
        self.pretty = pretty
    }

    mutating func writeChangeSet(_ requests: [ODataBatchRequest], boundary: String) {
        output += "Content-Type: multipart/mixed; boundary=\"\(boundary)\"\r\n\r\n"
        for (index, request) in requests.enumerated() {
            output += "--\(boundary)\r\n"
            writeRequestPart(request, contentID: request.contentID ?? String(index + 1))
            output += "\r\n"
        }
        output += "--\(boundary)--\r\n"
    }

    mutating func writeRequestPart(_ request: ODataBatchRequest, contentID: String?) {
        output += "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
        if let contentID { output += "Content-ID: \(contentID)\r\n" }
        output += "\r\n\(request.method.rawValue) \(requestURL(request.url)) HTTP/1.1\r\n"
        if request.body != nil { output += "Content-Type: application/json; type=entry\r\n" }
        for header in request.headers { output += "\(header.name): \(header.value)\r\n" }
        output += "\r\n"
        if let body = request.body { output += pretty ? body.prettyJSONText() : body.jsonText }
    }

    private func requestURL(_ url: String) -> String {
        let lowered = url.lowercased()
        if url.hasPrefix("$") || url.hasPrefix("/") || lowered.hasPrefix("http://") || lowered.hasPrefix("https://") {
            return url
        }
        return rootPath + url
    }
}

/// Splits `multipart/mixed` bodies into parts, line by line.
enum MultipartReader {
    /// One MIME part: its headers and the lines after the blank line.
    struct Part {
        var headers: [(name: String, value: String)]
        var content: ArraySlice<String>

        func header(_ name: String) -> String? {
            headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
        }
    }

    /// The lines of `body`, split at LF with a CR before it dropped.
    static func lines(_ body: [UInt8]) -> [String] {
        body.split(separator: 0x0A, omittingEmptySubsequences: false).map { line in
            String(decoding: line.last == 0x0D ? line.dropLast() : line, as: UTF8.self)
        }
    }

    /// The parts between `--boundary` lines, up to the closing `--boundary--`.
    static func parts(of lines: some Collection<String>, boundary: String) throws -> [Part] {
        let delimiter = "--" + boundary
        var parts: [Part] = []
        var current: [String]?
        for line in lines {
            let trimmed = trimTrailingSpace(line)
            if trimmed == delimiter || trimmed == delimiter + "--" {
                if let current { parts.append(try part(current)) }
                if trimmed != delimiter { return parts }
                current = []
            } else {
                current?.append(line)
            }
        }
        throw ODataMultipartBatch.Problem(current == nil
            ? "no part starts with the boundary \(boundary)" : "the closing boundary \(delimiter)-- is missing (the answer is cut short?)")
    }

    private static func part(_ lines: [String]) throws -> Part {
        guard let blank = lines.firstIndex(where: \.isEmpty) else {
            throw ODataMultipartBatch.Problem("a part has no blank line after its headers")
        }
        return Part(headers: try headers(lines[..<blank]), content: lines[(blank + 1)...])
    }

    /// `Name: value` lines (a space after the colon optional, as in the documentation's examples).
    static func headers(_ lines: ArraySlice<String>) throws -> [(name: String, value: String)] {
        try lines.map { line in
            guard let colon = line.firstIndex(of: ":") else {
                throw ODataMultipartBatch.Problem("a header line without ':' (\(BodyExcerpt.of(Array(line.utf8), limit: 60)))")
            }
            return (String(line[..<colon]).trimmingCharacters(in: .whitespaces),
                    String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces))
        }
    }

    private static func trimTrailingSpace(_ line: String) -> Substring {
        var text = Substring(line)
        while let last = text.unicodeScalars.last, last == " " || last == "\t" { text = text.dropLast() }
        return text
    }
}

/// Pairs the parts of a batch answer with the batch's requests.
private struct ResponseMatcher {
    let batch: ODataBatch
    var responses: [ODataBatchResponse] = []
    var requestIndex = 0

    init(batch: ODataBatch) { self.batch = batch }

    mutating func match(_ parts: [MultipartReader.Part], status: Int) throws -> ODataBatchResult {
        guard parts.count <= batch.items.count else {
            throw ODataMultipartBatch.Problem("\(parts.count) answers to \(batch.items.count) batch items")
        }
        for (part, item) in zip(parts, batch.items) {
            switch item {
            case .request(let request): try matchRequest(part, request)
            case .changeSet(let requests): try matchChangeSet(part, requests)
            }
        }
        let notExecuted = batch.requestCount - requestIndex
        if parts.count < batch.items.count {
            guard !batch.continueOnError, let last = responses.last, last.status >= 400 else {
                throw ODataMultipartBatch.Problem("\(parts.count) answers to \(batch.items.count) batch items, and no failure stopped the batch")
            }
        }
        return ODataBatchResult(status: status, responses: responses, notExecuted: notExecuted)
    }

    private mutating func matchRequest(_ part: MultipartReader.Part, _ request: ODataBatchRequest) throws {
        var response = try httpResponse(part)
        if let expected = request.contentID, let actual = response.contentID, expected != actual {
            throw ODataMultipartBatch.Problem("the answer with Content-ID \(actual) stands where request \(expected) was sent")
        }
        response.requestIndex = requestIndex
        responses.append(response)
        requestIndex += 1
    }

    private mutating func matchChangeSet(_ part: MultipartReader.Part, _ requests: [ODataBatchRequest]) throws {
        guard ResponseReader.mediaType(part.header("Content-Type")) == "multipart/mixed" else {
            try matchChangeSetFailure(part, requests)
            return
        }
        guard let boundary = part.header("Content-Type").flatMap({ ResponseReader.parameter("boundary", of: $0) }) else {
            throw ODataMultipartBatch.Problem("a change set answer without a boundary")
        }
        let inner = try MultipartReader.parts(of: part.content, boundary: boundary)
        guard inner.count == requests.count else {
            throw ODataMultipartBatch.Problem("\(inner.count) answers to a change set of \(requests.count) requests")
        }
        let answers = try inner.map(httpResponse)
        let ids = requests.enumerated().map { $0.element.contentID ?? String($0.offset + 1) }
        for (offset, id) in ids.enumerated() {
            var answer = try answerFor(id: id, position: offset, in: answers)
            answer.requestIndex = requestIndex + offset
            responses.append(answer)
        }
        requestIndex += requests.count
    }

    /// The answer with Content-ID `id`, or the one at `position` when the answers carry no Content-IDs.
    private func answerFor(id: String, position: Int, in answers: [ODataBatchResponse]) throws -> ODataBatchResponse {
        if answers.allSatisfy({ $0.contentID == nil }) { return answers[position] }
        let matching = answers.filter { $0.contentID == id }
        guard matching.count == 1, let answer = matching.first else {
            throw ODataMultipartBatch.Problem("\(matching.count) answers carry Content-ID \(id) in a change set")
        }
        return answer
    }

    /// A change set that failed as a whole answers with one response; every member gets it.
    private mutating func matchChangeSetFailure(_ part: MultipartReader.Part, _ requests: [ODataBatchRequest]) throws {
        let failure = try httpResponse(part)
        guard failure.status >= 400 else {
            throw ODataMultipartBatch.Problem("a change set answered with a single \(failure.status) instead of one answer per request")
        }
        for offset in requests.indices {
            var answer = failure
            answer.requestIndex = requestIndex + offset
            answer.isChangeSetFailure = true
            responses.append(answer)
        }
        requestIndex += requests.count
    }

    /// The HTTP response a part of type `application/http` holds.
    private func httpResponse(_ part: MultipartReader.Part) throws -> ODataBatchResponse {
        guard ResponseReader.mediaType(part.header("Content-Type")) == "application/http" else {
            throw ODataMultipartBatch.Problem("a part of type \(part.header("Content-Type") ?? "none") where an HTTP response was expected")
        }
        guard let statusLine = part.content.first, let status = statusCode(statusLine) else {
            throw ODataMultipartBatch.Problem("a part does not start with an HTTP status line")
        }
        let rest = part.content.dropFirst()
        let blank = rest.firstIndex(where: \.isEmpty) ?? rest.endIndex
        let headers = try MultipartReader.headers(rest[..<blank])
        let bodyLines = blank < rest.endIndex ? rest[(blank + 1)...] : []
        let body = try jsonBody(bodyLines.joined(separator: "\n"), headers: headers, status: status)
        return ODataBatchResponse(requestIndex: 0, contentID: part.header("Content-ID"), status: status, headers: headers,
                                  body: body, isChangeSetFailure: false)
    }

    private func statusCode(_ line: String) -> Int? {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count >= 2, fields[0].hasPrefix("HTTP/"), let code = Int(fields[1]), (100...599).contains(code) else { return nil }
        return code
    }

    private func jsonBody(_ text: String, headers: [(name: String, value: String)], status: Int) throws -> ODataJSON? {
        guard text.contains(where: { !$0.isWhitespace }) else { return nil }
        let contentType = headers.first { $0.name.caseInsensitiveCompare("Content-Type") == .orderedSame }?.value
        guard ResponseReader.isJSON(contentType) else {
            throw ODataMultipartBatch.Problem("an answer (\(status)) with a body that is not JSON: \(BodyExcerpt.of(Array(text.utf8)))")
        }
        do {
            return try ODataJSON.parse(text)
        } catch {
            throw ODataMultipartBatch.Problem("an answer (\(status)) whose JSON body does not parse: \(error)")
        }
    }
}
