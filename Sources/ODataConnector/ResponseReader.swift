/// Reads a service's answer as untrusted input: checks the content type, parses JSON, and turns error answers into
/// `ODataError`s that quote at most an excerpt of the body and never a header.
struct ResponseReader {
    let endpoint: String

    /// The media type of a `Content-Type` value, lower-cased, without parameters.
    static func mediaType(_ contentType: String?) -> String? {
        guard let contentType else { return nil }
        let type = contentType.split(separator: ";", maxSplits: 1).first.map(String.init) ?? contentType
        return type.trimmingCharacters(in: .whitespaces).lowercased()
    }

    /// A parameter of a `Content-Type` value (`boundary`), quotes removed.
    static func parameter(_ name: String, of contentType: String) -> String? {
        for part in contentType.split(separator: ";").dropFirst() {
            let pair = part.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == name else { continue }
            var value = pair[1].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            return value
        }
        return nil
    }

    /// Whether `contentType` is JSON (`application/json`, with or without `odata.metadata`… parameters).
    static func isJSON(_ contentType: String?) -> Bool {
        mediaType(contentType) == "application/json"
    }

    /// The successful answer `response` as an `ODataResponse`.
    func odataResponse(_ response: HTTPExchange.Response, expectsJSON: Bool) throws -> ODataResponse {
        guard (200..<300).contains(response.status) else { throw error(for: response) }
        let headers = response.headers.filter { $0.name.lowercased() != "set-cookie" }
        let hasBody = response.body.contains { !isWhitespace($0) }
        guard hasBody else {
            if expectsJSON && response.status != 204 {
                throw invalid(response, "the body is empty where JSON was expected")
            }
            return ODataResponse(status: response.status, headers: headers, body: nil)
        }
        guard ResponseReader.isJSON(response.header("Content-Type")) else {
            if !expectsJSON { return ODataResponse(status: response.status, headers: headers, body: nil) }
            throw invalid(response, contentTypeProblem(response))
        }
        return ODataResponse(status: response.status, headers: headers, body: try json(of: response))
    }

    /// The JSON body of `response`.
    func json(of response: HTTPExchange.Response) throws -> ODataJSON {
        do {
            return try ODataJSON.parse(response.body)
        } catch {
            let problem = error.isTruncated ? "the JSON body is cut short (\(error))" : "the body is not valid JSON (\(error))"
            throw invalid(response, problem)
        }
    }

    /// The error an unsuccessful `response` stands for.
    func error(for response: HTTPExchange.Response) -> ODataError {
        let status = response.status
        if (300..<400).contains(status) {
            return invalid(response, "a redirect (\(status)), which is not followed")
        }
        if ResponseReader.isJSON(response.header("Content-Type")), let json = try? ODataJSON.parse(response.body),
           let service = serviceError(json) {
            return ODataError(endpoint: endpoint, .service(status: status, code: service.code, message: service.message))
        }
        if ResponseReader.mediaType(response.header("Content-Type")) == "text/html" || looksLikeHTML(response.body) {
            return invalid(response, "an HTML page, not an OData answer (a proxy or gateway error?)")
        }
        return ODataError(endpoint: endpoint, .unexpectedStatus(status: status, excerpt: BodyExcerpt.of(response.body)))
    }

    /// The `code` and `message` of an OData error body `{"error":{"code":…,"message":…}}`.
    func serviceError(_ json: ODataJSON) -> (code: String, message: String)? {
        guard let error = json["error"], case .object = error else { return nil }
        let code = error["code"]?.stringValue ?? ""
        let message = error["message"]?.stringValue ?? ""
        guard !code.isEmpty || !message.isEmpty else { return nil }
        return (code, BodyExcerpt.of(Array(message.utf8), limit: 500))
    }

    private func invalid(_ response: HTTPExchange.Response, _ problem: String) -> ODataError {
        ODataError(endpoint: endpoint, .invalidResponse(status: response.status, problem: problem, excerpt: BodyExcerpt.of(response.body)))
    }

    private func contentTypeProblem(_ response: HTTPExchange.Response) -> String {
        if looksLikeHTML(response.body) { return "an HTML page, not JSON (a proxy or gateway error?)" }
        guard let type = response.header("Content-Type") else { return "the answer has no Content-Type; JSON was expected" }
        return "the content type is \(BodyExcerpt.of(Array(type.utf8), limit: 80)), not application/json"
    }

    private func looksLikeHTML(_ body: [UInt8]) -> Bool {
        let start = String(decoding: body.prefix(512), as: UTF8.self).drop { $0.isWhitespace }.prefix(15).lowercased()
        return start.hasPrefix("<!doctype html") || start.hasPrefix("<html")
    }

    private func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}
