import EmulatorSupport
import Foundation
import HTTPTypes
import Hummingbird

/// Routes HTTP requests: the token endpoint `/{tenant}/oauth2/v2.0/token`, the API under
/// `/v2.0/{tenant}/{environment}/api/v2.0/` (or `/v2.0/{environment}/api/v2.0/`, the tenant then
/// being the token's), and the loopback-only switches under `/_emulator/`.
struct Responder: HTTPResponder {
    typealias Context = EmulatorContext
    let emulator: BusinessCentralEmulator
    let door: FrontDoor<BusinessCentralDialect>

    func respond(to request: Request, context: EmulatorContext) async throws -> Response {
        let segments = request.uri.path.split(separator: "/").map(String.init)
        if segments.first == "_emulator" {
            let extra: [String: @Sendable () async throws -> Void] = ["reload-metadata": { [emulator] in try await emulator.reloadMetadata() }]
            return try await door.switches(request, segments: Array(segments.dropFirst()), context: context, extra: extra)
        }
        if segments.count == 4, segments[1] == "oauth2", segments[2] == "v2.0", segments[3] == "token" {
            return try await door.token(request, tenant: segments[0], resource: emulator.tokenResource, context: context)
        }
        guard segments.first == "v2.0", let api = Self.apiIndex(segments) else {
            return door.respond(BusinessCentralError.segmentNotFound(segments.first ?? "/").response)
        }
        guard segments[api - 1].lowercased() == emulator.configuration.environment.lowercased() else {
            return door.respond(
                BusinessCentralError(.notFound, code: "NoEnvironment", "The environment '\(segments[api - 1])' does not exist.").response)
        }
        let root = emulator.baseURL + "/" + segments[...(api + 1)].joined(separator: "/") + "/"
        let raw = segments[(api + 2)...].joined(separator: "/")
        let resource = raw.removingPercentEncoding ?? raw
        let route = "\(request.method) \(Self.routeName(resource))"
        return try await door.api(request, resource: resource, route: route, context: context) { apiRequest in
            guard let service = emulator.api else {
                return BusinessCentralError(.serviceUnavailable, code: "Internal_ServerError", "Not started.").response
            }
            if resource == "$batch" { return await BatchProcessor(api: service, root: root).answer(apiRequest) }
            return await service.handle(apiRequest, root: root)
        }
    }

    /// Where `api` stands in `v2.0/{tenant}/{environment}/api/v2.0/…` or `v2.0/{environment}/api/v2.0/…`.
    static func apiIndex(_ segments: [String]) -> Int? {
        [3, 2].first { index in segments.count > index + 1 && segments[index] == "api" && segments[index + 1] == "v2.0" }
    }

    /// The counters' route: the entity set (`customers`), `companies`, `$batch` or `$metadata`.
    static func routeName(_ resource: String) -> String {
        let segments = ResourcePath(resource).segments
        if segments.count > 1 { return segments[1].name }
        return segments.first?.name ?? ""
    }
}

/// Business Central's refusals at the front door.
struct BusinessCentralDialect: ServiceDialect {
    let emulator: BusinessCentralEmulator

    /// 401 with the challenge naming the token authority and the resource, and the service's error body.
    func unauthorized() -> EmulatorResponse {
        let challenge = "Bearer authorization_uri=\"\(emulator.baseURL)/common/oauth2/authorize\", resource_id=\"\(emulator.tokenResource)\""
        var response = BusinessCentralError(
            .unauthorized, code: "Authentication_InvalidCredentials", "The server has rejected the client credentials."
        ).response
        response.headers.append(("WWW-Authenticate", challenge))
        return response
    }

    /// 429 `Application_TooManyRequests`, with `Retry-After`.
    func throttled(_ throttle: ServiceProtection.Throttle, retryAfter: Int) -> EmulatorResponse {
        let limits = emulator.protection.limits
        let message: String
        switch throttle {
        case .concurrency:
            message = "Too many concurrent requests reached. Actual (\(limits.concurrentRequests + 1)). Maximum (\(limits.concurrentRequests))."
        case .requests(let attempted):
            message = "Too many requests reached. Actual (\(attempted)). Maximum (\(limits.requests))."
        case .executionTime:
            message = "Too many requests reached."
        }
        return BusinessCentralError(.tooManyRequests, code: "Application_TooManyRequests", message, headers: [("Retry-After", String(retryAfter))])
            .response
    }

    func injectedStatus(_ code: Int) -> EmulatorResponse {
        let message = code == 503 ? "The service is temporarily unavailable." : "An unexpected error occurred."
        return BusinessCentralError(HTTPResponse.Status(code: code), code: "Internal_ServerError", message).response
    }

    func bodyTooLarge(limit: Int) -> EmulatorResponse {
        BusinessCentralError(.contentTooLarge, code: "BadRequest", "The request body is larger than \(limit) bytes.").response
    }

    func refused(_ refusal: SwitchRefusal) -> EmulatorResponse {
        switch refusal {
        case .notLoopback:
            return BusinessCentralError(.forbidden, code: "Authorization_InsufficientPermissions", "The emulator's switches answer loopback clients only.").response
        case .badFault:
            return BusinessCentralError.badRequest("A fault is {\"kind\": \"status\"|\"delay\"|\"html\"|\"truncated\"|\"drop\", …}.").response
        case .unknownSwitch(let name):
            return BusinessCentralError.segmentNotFound(name).response
        }
    }

    /// Business Central documents no rate limit headers.
    func usageHeaders(_ usage: ServiceProtection.Usage) -> [(String, String)] { [] }

    /// `OData-Version: 4.0`.
    func mark(_ headers: inout HTTPFields) {
        if let name = HTTPField.Name("OData-Version") { headers[name] = "4.0" }
    }

    var truncatedFallback: String { "{\"@odata.context\":\"$metadata#companies\",\"value\":[{\"name\":\"truncated\"}]}" }
}
