import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Routes HTTP requests: the token endpoint, the Web API under `/api/data/v9.x/`, and the
/// loopback-only switches under `/_emulator/`.
struct EmulatorResponder: HTTPResponder {
    typealias Context = EmulatorContext
    let emulator: DataverseEmulator

    func respond(to request: Request, context: EmulatorContext) async throws -> Response {
        let segments = request.uri.path.split(separator: "/").map(String.init)
        if segments.first == "_emulator" { return try await admin(request, segments: Array(segments.dropFirst()), context: context) }
        if segments.count == 4, segments[1] == "oauth2", segments[2] == "v2.0", segments[3] == "token" {
            return try await token(request, tenant: segments[0], context: context)
        }
        if segments.count >= 3, segments[0] == "api", segments[1] == "data", segments[2].hasPrefix("v9.") {
            return try await webAPI(request, context: context)
        }
        return Self.response(.error(DataverseError.segmentNotFound(segments.first ?? "/")))
    }

    // MARK: Token endpoint

    private func token(_ request: Request, tenant: String, context: EmulatorContext) async throws -> Response {
        emulator.faults.count("POST token")
        if let fault = emulator.faults.next(for: .token), let response = try await play(fault, context: context) { return response }
        guard request.method == .post else {
            return Self.response(.error(DataverseError(.methodNotAllowed, code: "", "The token endpoint takes POST.")))
        }
        var request = request
        let body = try await request.collectBody(upTo: 1 << 20)
        let resource = emulator.tokenResource
        return Self.response(emulator.tokens.answer(tenant: tenant, body: Array(buffer: body), environmentURL: resource), odata: false)
    }

    // MARK: Web API

    private func webAPI(_ request: Request, context: EmulatorContext) async throws -> Response {
        let resource = Self.resource(request.uri.path)
        let route = "\(request.method) \(Path(resource).segments.first?.name ?? "")"
        emulator.faults.count(route)
        guard let client = emulator.tokens.client(forAuthorization: request.headers[.authorization]) else {
            return Self.unauthorized(authority: emulator.environmentURL, resource: emulator.tokenResource)
        }
        if let throttled = emulator.protection.admit(client) {
            emulator.faults.countThrottled()
            return Self.response(.error(throttled))
        }
        let started = ContinuousClock.now
        emulator.faults.started()
        defer {
            emulator.faults.ended()
            let elapsed = ContinuousClock.now - started
            emulator.protection.finish(client, duration: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        }
        let fault = emulator.faults.next(for: .api)
        if let fault, fault != .truncatedJSON, let response = try await play(fault, context: context) { return response }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: emulator.configuration.maximumBodySize)
        } catch {
            return Self.response(.error(DataverseError(.contentTooLarge, code: "0x0", "The request body is larger than \(emulator.configuration.maximumBodySize) bytes.")))
        }
        let apiRequest = APIRequest(
            method: request.method, resource: resource, query: APIRequest.parseQuery(request.uri.query ?? ""),
            headers: request.headers.map { ($0.name.canonicalName.lowercased(), $0.value) }, body: Array(buffer: body))
        guard let api = emulator.api else { return Self.response(.error(DataverseError(.serviceUnavailable, code: "", "Not started."))) }
        var answer = resource == "$batch" ? await BatchProcessor(api: api).answer(apiRequest) : await api.handle(apiRequest)
        if fault == .truncatedJSON { return Self.truncated(answer) }
        answer.headers += emulator.protection.remaining(client)
        return Self.response(answer)
    }

    /// The resource after `/api/data/v9.x/`, percent-decoded.
    static func resource(_ path: String) -> String {
        let parts = path.split(separator: "/", maxSplits: 3, omittingEmptySubsequences: true)
        guard parts.count == 4 else { return "" }
        let raw = String(parts[3])
        return raw.removingPercentEncoding ?? raw
    }

    /// 401 with the challenge Dataverse sends: where to get a token, for which resource.
    static func unauthorized(authority: String, resource: String) -> Response {
        var headers = HTTPFields()
        headers[.wwwAuthenticate] = "Bearer authorization_uri=\(authority)/common/oauth2/authorize, resource_id=\(resource)/"
        Self.markODataVersion(&headers)
        return Response(status: .unauthorized, headers: headers, body: .init())
    }

    // MARK: Faults

    /// Plays a fault: a response to send instead, or nil to answer normally afterwards (a delay).
    private func play(_ fault: Fault, context: EmulatorContext) async throws -> Response? {
        switch fault {
        case .status(let code):
            let status = HTTPResponse.Status(code: code)
            let message = code == 503 ? "The service is temporarily unavailable." : "An unexpected error occurred."
            return Self.response(.error(DataverseError(status, code: "0x80040216", message)))
        case .delay(let seconds):
            try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            return nil
        case .htmlBadGateway:
            var headers = HTTPFields()
            headers[.contentType] = "text/html"
            let html = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"
            return Response(status: .badGateway, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
        case .truncatedJSON:
            return nil
        case .dropConnection:
            try? await context.channel.close()
            throw CancellationError()
        }
    }

    /// A `200 OK` whose JSON body stops half-way.
    static func truncated(_ answer: APIResponse) -> Response {
        let text = answer.body ?? "{\"@odata.context\":\"$metadata#accounts\",\"value\":[{\"name\":\"truncated\"}]}"
        let cut = String(text.prefix(max(text.count / 2, 1)))
        var headers = HTTPFields()
        headers[.contentType] = "application/json; odata.metadata=minimal"
        Self.markODataVersion(&headers)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: cut)))
    }

    // MARK: Admin

    /// `/_emulator/…`, for processes on this machine only.
    private func admin(_ request: Request, segments: [String], context: EmulatorContext) async throws -> Response {
        guard Self.isLoopback(context.channel.remoteAddress) else {
            return Self.response(.error(DataverseError(.forbidden, code: "", "The emulator's switches answer loopback clients only.")))
        }
        var request = request
        let body = try await request.collectBody(upTo: 1 << 20)
        let json = (try? JSONValue.parse(String(buffer: body))) ?? .object([])
        switch (request.method, segments.first ?? "") {
        case (.get, "stats"):
            return Self.response(.json(.ok, emulator.stats().json))
        case (.delete, "stats"):
            emulator.resetStats()
        case (.post, "faults"):
            guard let (fault, count, scope) = Self.fault(from: json) else {
                return Self.response(.error(.badRequest("A fault is {\"kind\": \"status\"|\"delay\"|\"html\"|\"truncated\"|\"drop\", …}.")))
            }
            emulator.inject(fault, count: count, scope: scope)
        case (.delete, "faults"):
            emulator.clearFaults()
        case (.post, "expire-access-tokens"):
            emulator.expireAccessTokens()
        case (.post, "expire-delta-tokens"):
            emulator.expireDeltaTokens()
        case (.post, "reload-metadata"):
            try await emulator.reloadMetadata()
        default:
            return Self.response(.error(DataverseError.segmentNotFound(segments.joined(separator: "/"))))
        }
        return Response(status: .noContent)
    }

    /// `{"kind": "status", "status": 503, "count": 2, "scope": "api"}`, `{"kind": "delay", "seconds": 1.5}`,
    /// `{"kind": "html"}`, `{"kind": "truncated"}`, `{"kind": "drop"}`.
    static func fault(from json: JSONValue) -> (Fault, Int, FaultScope)? {
        func number(_ key: String) -> Double? {
            if case .number(let text)? = json[key] { return Double(text) }
            return nil
        }
        let count = Int(number("count") ?? 1)
        let scope = json["scope"]?.stringValue.flatMap(FaultScope.init(rawValue:)) ?? .api
        switch json["kind"]?.stringValue {
        case "status": return (.status(Int(number("status") ?? 503)), count, scope)
        case "delay": return (.delay(seconds: number("seconds") ?? 1), count, scope)
        case "html": return (.htmlBadGateway, count, scope)
        case "truncated": return (.truncatedJSON, count, scope)
        case "drop": return (.dropConnection, count, scope)
        default: return nil
        }
    }

    static func isLoopback(_ address: SocketAddress?) -> Bool {
        guard let ip = address?.ipAddress else { return false }
        return ip.hasPrefix("127.") || ip == "::1" || ip.hasPrefix("::ffff:127.")
    }

    // MARK: Writing

    /// Adds `OData-Version: 4.0`, which every Web API response carries.
    static func markODataVersion(_ headers: inout HTTPFields) {
        if let name = HTTPField.Name("OData-Version") { headers[name] = "4.0" }
    }

    /// An `APIResponse` as HTTP, with `OData-Version: 4.0` unless it is the identity platform's (`odata: false`).
    static func response(_ answer: APIResponse, odata: Bool = true) -> Response {
        var headers = HTTPFields()
        if odata { Self.markODataVersion(&headers) }
        if let contentType = answer.contentType, answer.body != nil { headers[.contentType] = contentType }
        for (name, value) in answer.headers {
            if let field = HTTPField.Name(name) { headers.append(HTTPField(name: field, value: value)) }
        }
        let body = answer.body.map { ResponseBody(byteBuffer: ByteBuffer(string: $0)) } ?? ResponseBody()
        return Response(status: answer.status, headers: headers, body: body)
    }
}
