import EmulatorSupport
import Foundation
import HTTPTypes
import Postgres

/// `POST $batch`: `multipart/mixed` bodies of requests and change sets, as the batch documentation shows.
///
/// Requests run in order. A change set runs in one transaction: the first failing request rolls it
/// back and its error stands for the whole change set. Without `Prefer: odata.continue-on-error` the
/// batch stops at the first failure and takes that failure's status; with it the batch answers
/// `200 OK` and goes on. `$<Content-ID>` references the record an earlier request of the same change
/// set created, in a URL or an `@odata.bind`.
struct BatchProcessor {
    let api: WebAPI
    /// The most requests one batch may hold.
    static let maximumRequests = 1000

    /// One element of a batch: a request, or a change set of requests.
    enum Item {
        case request(APIRequest, contentID: String?)
        case changeSet([(APIRequest, contentID: String?)])
    }

    /// Answers a `$batch` request.
    func answer(_ request: APIRequest) async -> APIResponse {
        do {
            return try await process(request)
        } catch let error as DataverseError {
            return .error(error)
        } catch {
            return .error(DataverseError(.internalServerError, code: "0x80040216", "An unexpected error occurred."))
        }
    }

    private func process(_ request: APIRequest) async throws -> APIResponse {
        guard request.method == .post else { throw DataverseError(.methodNotAllowed, code: "0x0", "$batch takes POST.") }
        guard let boundary = Self.boundary(request.header("content-type")) else {
            throw DataverseError.badRequest("The $batch request must have a Content-Type of multipart/mixed with a boundary.")
        }
        let items = try Self.parse(String(decoding: request.body, as: UTF8.self), boundary: boundary)
        let count = items.reduce(0) { total, item in
            if case .changeSet(let requests) = item { return total + requests.count }
            return total + 1
        }
        guard count <= Self.maximumRequests else {
            throw DataverseError(
                .badRequest, code: "0x0", "The number of requests in a batch exceeded the limit of \(Self.maximumRequests).")
        }
        let continueOnError = request.preferences["odata.continue-on-error"] != nil
        let responseBoundary = "batchresponse_" + UUID().uuidString.lowercased()
        var parts: [String] = []
        var status: HTTPResponse.Status = .ok
        for item in items {
            let (part, failure) = try await run(item)
            parts.append(part)
            if let failure, !continueOnError {
                status = failure
                break
            }
        }
        let body = parts.map { "--\(responseBoundary)\r\n" + $0 }.joined() + "--\(responseBoundary)--\r\n"
        return APIResponse(status: status, headers: [], body: body, contentType: "multipart/mixed; boundary=\(responseBoundary)")
    }

    /// Runs one item: its multipart part, and the failing status if it failed.
    private func run(_ item: Item) async throws -> (String, HTTPResponse.Status?) {
        switch item {
        case .request(let request, let contentID):
            let response = await api.handle(request)
            return (Self.part(response, contentID: contentID), response.status.code >= 400 ? response.status : nil)
        case .changeSet(let requests):
            return try await runChangeSet(requests)
        }
    }

    private struct ChangeSetFailure: Error {
        let response: APIResponse
        let contentID: String?
    }

    private func runChangeSet(_ requests: [(APIRequest, contentID: String?)]) async throws -> (String, HTTPResponse.Status?) {
        do {
            let responses = try await api.pool.withConnection { connection in
                try await connection.withTransaction { connection in
                    var references: [String: String] = [:]
                    var responses: [(APIResponse, String?)] = []
                    for (original, contentID) in requests {
                        let request = try Self.resolving(original, references: references)
                        let response: APIResponse
                        if request.method == .get {
                            response = .error(DataverseError.badRequest("GET requests are not allowed in a change set."))
                        } else {
                            response = await api.handle(request, connection: connection, references: references)
                        }
                        guard response.status.code < 400 else { throw ChangeSetFailure(response: response, contentID: contentID) }
                        if let contentID, let location = response.headers.first(where: { $0.0 == "OData-EntityId" })?.1,
                            let range = location.range(of: "/api/data/v9.2/")
                        {
                            references[contentID] = String(location[range.upperBound...])
                        }
                        responses.append((response, contentID))
                    }
                    return responses
                }
            }
            let boundary = "changesetresponse_" + UUID().uuidString.lowercased()
            let inner = responses.map { "--\(boundary)\r\n" + Self.part($0.0, contentID: $0.1) }.joined() + "--\(boundary)--\r\n"
            return ("Content-Type: multipart/mixed; boundary=\(boundary)\r\n\r\n" + inner, nil)
        } catch let failure as ChangeSetFailure {
            return (Self.part(failure.response, contentID: failure.contentID), failure.response.status)
        } catch let error as DataverseError {
            return (Self.part(.error(error), contentID: nil), error.status)
        }
    }

    /// Replaces a leading `$<Content-ID>` in the resource with the record it names.
    private static func resolving(_ request: APIRequest, references: [String: String]) throws(DataverseError) -> APIRequest {
        guard request.resource.hasPrefix("$"), request.resource != "$batch" else { return request }
        let name = request.resource.dropFirst().prefix { $0 != "/" }
        guard let target = references[String(name)] else {
            throw DataverseError.badRequest("Content-ID Reference: '$\(name)' does not exist in the batch context.")
        }
        var resolved = request
        resolved.resource = target + request.resource.dropFirst(name.count + 1)
        return resolved
    }

    // MARK: Writing

    /// One `application/http` part holding a response.
    static func part(_ response: APIResponse, contentID: String?) -> String {
        var text = "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
        if let contentID { text += "Content-ID: \(contentID)\r\n" }
        text += "\r\nHTTP/1.1 \(response.status.code) \(response.status.reasonPhrase)\r\n"
        if let contentType = response.contentType, response.body != nil { text += "Content-Type: \(contentType)\r\n" }
        text += "OData-Version: 4.0\r\n"
        for (name, value) in response.headers {
            if name == "OData-EntityId", response.status == .noContent { text += "Location: \(value)\r\n" }
            text += "\(name): \(value)\r\n"
        }
        text += "\r\n"
        if let body = response.body { text += body }
        return text + "\r\n"
    }

    // MARK: Parsing

    /// The `boundary` parameter of a `multipart/mixed` content type.
    static func boundary(_ contentType: String?) -> String? {
        guard let contentType, contentType.lowercased().hasPrefix("multipart/mixed") else { return nil }
        for parameter in contentType.split(separator: ";").dropFirst() {
            let parts = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2, parts[0].lowercased() == "boundary" {
                return parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
        }
        return nil
    }

    /// The parts between `--boundary` lines: each part's header lines and its content.
    static func parts(_ text: String, boundary: String) -> [(headers: [(String, String)], content: [String])] {
        var parts: [(headers: [(String, String)], content: [String])] = []
        var current: [String]?
        // Split on the scalar: in a Swift string "\r\n" is one Character, which splitting on "\n" would not cut.
        for scalars in text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false) {
            let rawLine = String(scalars)
            let line = rawLine.hasSuffix("\r") ? String(rawLine.unicodeScalars.dropLast()) : rawLine
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed == "--" + boundary || trimmed == "--" + boundary + "--" {
                if let current { parts.append(split(current)) }
                current = trimmed.hasSuffix("--") && trimmed != "--" + boundary ? nil : []
                continue
            }
            current?.append(line)
        }
        return parts
    }

    private static func split(_ lines: [String]) -> (headers: [(String, String)], content: [String]) {
        var headers: [(String, String)] = []
        var index = 0
        while index < lines.count, !lines[index].trimmingCharacters(in: .whitespaces).isEmpty {
            let parts = lines[index].split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2 { headers.append((parts[0].lowercased(), parts[1])) }
            index += 1
        }
        return (headers, Array(lines[min(index + 1, lines.count)...]))
    }

    /// The items of a batch body.
    static func parse(_ text: String, boundary: String) throws(DataverseError) -> [Item] {
        var items: [Item] = []
        for part in parts(text, boundary: boundary) {
            let contentType = part.headers.first { $0.0 == "content-type" }?.1
            if let inner = Self.boundary(contentType) {
                var requests: [(APIRequest, contentID: String?)] = []
                for request in parts(part.content.joined(separator: "\n"), boundary: inner) {
                    requests.append((try httpRequest(request.content), request.headers.first { $0.0 == "content-id" }?.1))
                }
                items.append(.changeSet(requests))
            } else {
                items.append(.request(try httpRequest(part.content), contentID: part.headers.first { $0.0 == "content-id" }?.1))
            }
        }
        return items
    }

    /// An `application/http` part's request: request line, headers, body.
    static func httpRequest(_ lines: [String]) throws(DataverseError) -> APIRequest {
        var lines = lines
        while let first = lines.first, first.trimmingCharacters(in: .whitespaces).isEmpty { lines.removeFirst() }
        guard let requestLine = lines.first else { throw DataverseError.badRequest("A batch part holds no request.") }
        let words = requestLine.split(separator: " ").map(String.init)
        guard words.count >= 2, let method = HTTPRequest.Method(words[0]) else {
            throw DataverseError.badRequest("The batch request line '\(requestLine)' is not valid.")
        }
        let (headers, body) = split(Array(lines.dropFirst()))
        let bodyText = body.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        let url = words[1...].dropLast(words.count > 2 ? 1 : 0).joined(separator: " ")
        let (resource, query) = resourceAndQuery(url)
        return APIRequest(method: method, resource: resource, query: query, headers: headers, body: Array(bodyText.utf8))
    }

    /// Splits a batch request URL (absolute, `/api/data/v9.x/…`, relative, or `$1/…`) into resource and query.
    static func resourceAndQuery(_ url: String) -> (String, [(String, String)]) {
        let pieces = url.split(separator: "?", maxSplits: 1).map(String.init)
        var path = pieces.first ?? ""
        if let range = path.range(of: "/api/data/v") {
            path = String(path[range.upperBound...])
            path = path.firstIndex(of: "/").map { String(path[path.index(after: $0)...]) } ?? ""
        }
        while path.hasPrefix("/") { path.removeFirst() }
        return (path.removingPercentEncoding ?? path, pieces.count > 1 ? APIRequest.parseQuery(pieces[1]) : [])
    }
}
