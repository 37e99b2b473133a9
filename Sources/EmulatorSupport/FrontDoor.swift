import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Why a `/_emulator/…` switch request was refused.
public enum SwitchRefusal: Sendable {
    /// The caller is not on this machine.
    case notLoopback
    /// The fault description is not one the board knows.
    case badFault
    /// No switch has this name.
    case unknownSwitch(String)
}

/// What differs between the emulated services at the front door: how each refusal looks.
public protocol ServiceDialect: Sendable {
    /// The answer to an API request without a valid access token.
    func unauthorized() -> EmulatorResponse
    /// The 429 answer for a throttled request, with its `Retry-After`.
    func throttled(_ throttle: ServiceProtection.Throttle, retryAfter: Int) -> EmulatorResponse
    /// The answer an injected `Fault.status(code)` plays.
    func injectedStatus(_ code: Int) -> EmulatorResponse
    /// The answer to a body larger than `limit` bytes.
    func bodyTooLarge(limit: Int) -> EmulatorResponse
    /// The answer to a refused switch request.
    func refused(_ refusal: SwitchRefusal) -> EmulatorResponse
    /// Headers every API answer carries for `client` (rate limit read-outs), if any.
    func usageHeaders(_ usage: ServiceProtection.Usage) -> [(String, String)]
    /// Adds the headers every API answer carries (`OData-Version`).
    func mark(_ headers: inout HTTPFields)
    /// The body a truncated answer cuts when the real answer has none.
    var truncatedFallback: String { get }
}

/// What every emulator does before and after its service answers: the token endpoint, the bearer
/// check, service protection, the counters, injected faults, the bounded body, and the loopback-only
/// switches under `/_emulator/`.
public struct FrontDoor<Dialect: ServiceDialect>: Sendable {
    /// The service's refusals.
    public let dialect: Dialect
    /// The injected faults and counters.
    public let faults: FaultBoard
    /// The token endpoint's issuer.
    public let tokens: TokenIssuer
    /// The limits.
    public let protection: ServiceProtection
    /// The largest request body accepted.
    public let maximumBodySize: Int

    /// A front door.
    public init(dialect: Dialect, faults: FaultBoard, tokens: TokenIssuer, protection: ServiceProtection, maximumBodySize: Int) {
        self.dialect = dialect
        self.faults = faults
        self.tokens = tokens
        self.protection = protection
        self.maximumBodySize = maximumBodySize
    }

    // MARK: Token endpoint

    /// `POST /{tenant}/oauth2/v2.0/token`: a token for `resource`'s `/.default` scope.
    public func token(_ request: Request, tenant: String, resource: String, context: EmulatorContext) async throws -> Response {
        faults.count("POST token")
        if let fault = faults.next(for: .token), let response = try await play(fault, context: context) { return response }
        guard request.method == .post else {
            return Self.response(EmulatorResponse(status: .methodNotAllowed, body: "The token endpoint takes POST.", contentType: "text/plain"), mark: nil)
        }
        var request = request
        let body = try await request.collectBody(upTo: 1 << 20)
        return Self.response(tokens.answer(tenant: tenant, body: Array(buffer: body), resource: resource), mark: nil)
    }

    // MARK: API requests

    /// Admits an API request and answers it with `handle`, counted on `route`, for the client its token names.
    public func api(
        _ request: Request, resource: String, route: String, context: EmulatorContext,
        handle: (EmulatorRequest) async -> EmulatorResponse
    ) async throws -> Response {
        faults.count(route)
        guard let client = tokens.client(forAuthorization: request.headers[.authorization]) else {
            return respond(dialect.unauthorized())
        }
        if let (throttle, retryAfter) = protection.admit(client) {
            faults.countThrottled()
            return respond(dialect.throttled(throttle, retryAfter: retryAfter))
        }
        let started = ContinuousClock.now
        faults.started()
        defer {
            faults.ended()
            let elapsed = ContinuousClock.now - started
            protection.finish(client, duration: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        }
        let fault = faults.next(for: .api)
        if let fault, fault != .truncatedJSON, let response = try await play(fault, context: context) { return response }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: maximumBodySize)
        } catch {
            return respond(dialect.bodyTooLarge(limit: maximumBodySize))
        }
        let apiRequest = EmulatorRequest(
            method: request.method, resource: resource, query: EmulatorRequest.parseQuery(request.uri.query ?? ""),
            headers: request.headers.map { ($0.name.canonicalName.lowercased(), $0.value) }, body: Array(buffer: body))
        var answer = await handle(apiRequest)
        if fault == .truncatedJSON { return truncated(answer) }
        answer.headers += dialect.usageHeaders(protection.usage(client))
        return respond(answer)
    }

    /// An answer as HTTP, with the service's headers.
    public func respond(_ answer: EmulatorResponse) -> Response {
        Self.response(answer, mark: dialect)
    }

    /// An answer as HTTP; `mark` adds the service's headers (nil for the identity platform's answers).
    static func response(_ answer: EmulatorResponse, mark: Dialect?) -> Response {
        var headers = HTTPFields()
        mark?.mark(&headers)
        if let contentType = answer.contentType, answer.body != nil { headers[.contentType] = contentType }
        for (name, value) in answer.headers {
            if let field = HTTPField.Name(name) { headers.append(HTTPField(name: field, value: value)) }
        }
        let body = answer.body.map { ResponseBody(byteBuffer: ByteBuffer(string: $0)) } ?? ResponseBody()
        return Response(status: answer.status, headers: headers, body: body)
    }

    // MARK: Faults

    /// Plays a fault: a response to send instead, or nil to answer normally afterwards (a delay).
    private func play(_ fault: Fault, context: EmulatorContext) async throws -> Response? {
        switch fault {
        case .status(let code):
            return respond(dialect.injectedStatus(code))
        case .delay(let seconds):
            try await Task.sleep(for: .milliseconds(Int(min(max(seconds, 0), 3600) * 1000)))
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
    private func truncated(_ answer: EmulatorResponse) -> Response {
        let text = answer.body ?? dialect.truncatedFallback
        let cut = String(text.prefix(max(text.count / 2, 1)))
        var headers = HTTPFields()
        headers[.contentType] = "application/json; odata.metadata=minimal"
        dialect.mark(&headers)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: cut)))
    }

    // MARK: Switches

    /// `/_emulator/…`, for processes on this machine only: `stats` (GET, DELETE), `faults` (POST, DELETE),
    /// `expire-access-tokens` (POST), and the service's own POST switches in `extra`.
    public func switches(
        _ request: Request, segments: [String], context: EmulatorContext, extra: [String: @Sendable () async throws -> Void]
    ) async throws -> Response {
        guard Self.isLoopback(context.channel.remoteAddress) else { return respond(dialect.refused(.notLoopback)) }
        var request = request
        let body = try await request.collectBody(upTo: 1 << 20)
        let json = (try? JSONValue.parse(String(buffer: body))) ?? .object([])
        let name = segments.first ?? ""
        switch (request.method, name) {
        case (.get, "stats"):
            return respond(.json(.ok, faults.stats.json))
        case (.delete, "stats"):
            faults.resetStats()
        case (.post, "faults"):
            guard let (fault, count, scope) = Self.fault(from: json) else { return respond(dialect.refused(.badFault)) }
            faults.inject(fault, count: count, scope: scope)
        case (.delete, "faults"):
            faults.clear()
        case (.post, "expire-access-tokens"):
            tokens.expireAll()
        case (.post, _) where extra[name] != nil:
            try await extra[name]?()
        default:
            return respond(dialect.refused(.unknownSwitch(segments.joined(separator: "/"))))
        }
        return Response(status: .noContent)
    }

    /// `{"kind": "status", "status": 503, "count": 2, "scope": "api"}`, `{"kind": "delay", "seconds": 1.5}`,
    /// `{"kind": "html"}`, `{"kind": "truncated"}`, `{"kind": "drop"}`.
    public static func fault(from json: JSONValue) -> (Fault, Int, FaultScope)? {
        func number(_ key: String) -> Double? {
            if case .number(let text)? = json[key], let value = Double(text), value.isFinite { return value }
            return nil
        }
        func integer(_ key: String, default value: Int, in range: ClosedRange<Int>) -> Int {
            number(key).map { Int(min(max($0.rounded(), Double(range.lowerBound)), Double(range.upperBound))) } ?? value
        }
        let count = integer("count", default: 1, in: 0...1_000_000)
        let scope = json["scope"]?.stringValue.flatMap(FaultScope.init(rawValue:)) ?? .api
        switch json["kind"]?.stringValue {
        case "status": return (.status(integer("status", default: 503, in: 100...599)), count, scope)
        case "delay": return (.delay(seconds: number("seconds") ?? 1), count, scope)
        case "html": return (.htmlBadGateway, count, scope)
        case "truncated": return (.truncatedJSON, count, scope)
        case "drop": return (.dropConnection, count, scope)
        default: return nil
        }
    }

    /// True for 127.0.0.0/8 and ::1.
    public static func isLoopback(_ address: SocketAddress?) -> Bool {
        guard let ip = address?.ipAddress else { return false }
        return ip.hasPrefix("127.") || ip == "::1" || ip.hasPrefix("::ffff:127.")
    }
}
