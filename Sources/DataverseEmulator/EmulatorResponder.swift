import EmulatorSupport
import Foundation
import HTTPTypes
import Hummingbird

/// Routes HTTP requests: the token endpoint, the Web API under `/api/data/v9.x/`, and the
/// loopback-only switches under `/_emulator/`.
struct EmulatorResponder: HTTPResponder {
    typealias Context = EmulatorContext
    let emulator: DataverseEmulator
    let door: FrontDoor<DataverseDialect>

    func respond(to request: Request, context: EmulatorContext) async throws -> Response {
        let segments = request.uri.path.split(separator: "/").map(String.init)
        if segments.first == "_emulator" {
            let extra: [String: @Sendable () async throws -> Void] = [
                "expire-delta-tokens": { [emulator] in emulator.expireDeltaTokens() },
                "reload-metadata": { [emulator] in try await emulator.reloadMetadata() },
            ]
            return try await door.switches(request, segments: Array(segments.dropFirst()), context: context, extra: extra)
        }
        if segments.count == 4, segments[1] == "oauth2", segments[2] == "v2.0", segments[3] == "token" {
            return try await door.token(request, tenant: segments[0], resource: emulator.tokenResource, context: context)
        }
        if segments.count >= 3, segments[0] == "api", segments[1] == "data", segments[2].hasPrefix("v9.") {
            return try await webAPI(request, context: context)
        }
        return door.respond(.error(DataverseError.segmentNotFound(segments.first ?? "/")))
    }

    private func webAPI(_ request: Request, context: EmulatorContext) async throws -> Response {
        let resource = Self.resource(request.uri.path)
        let route = "\(request.method) \(Path(resource).segments.first?.name ?? "")"
        return try await door.api(request, resource: resource, route: route, context: context) { apiRequest in
            guard let api = emulator.api else { return .error(DataverseError(.serviceUnavailable, code: "", "Not started.")) }
            return resource == "$batch" ? await BatchProcessor(api: api).answer(apiRequest) : await api.handle(apiRequest)
        }
    }

    /// The resource after `/api/data/v9.x/`, percent-decoded.
    static func resource(_ path: String) -> String {
        let parts = path.split(separator: "/", maxSplits: 3, omittingEmptySubsequences: true)
        guard parts.count == 4 else { return "" }
        let raw = String(parts[3])
        return raw.removingPercentEncoding ?? raw
    }
}

/// Dataverse's refusals and headers at the front door.
struct DataverseDialect: ServiceDialect {
    let emulator: DataverseEmulator

    /// 401 with the challenge Dataverse sends: where to get a token, for which resource.
    func unauthorized() -> EmulatorResponse {
        let challenge = "Bearer authorization_uri=\(emulator.environmentURL)/common/oauth2/authorize, resource_id=\(emulator.tokenResource)/"
        return EmulatorResponse(status: .unauthorized, headers: [("WWW-Authenticate", challenge)])
    }

    /// The documented 429s: concurrency (`0x80072326`), requests (`0x80072322`), execution time (`0x80072321`).
    func throttled(_ throttle: ServiceProtection.Throttle, retryAfter: Int) -> EmulatorResponse {
        let limits = emulator.protection.limits
        let window = Int(limits.window)
        let (code, message): (String, String)
        switch throttle {
        case .concurrency:
            (code, message) = ("0x80072326", "Number of concurrent requests exceeded the limit of \(limits.concurrentRequests).")
        case .requests:
            (code, message) = ("0x80072322", "Number of requests exceeded the limit of \(limits.requests) over time window of \(window) seconds.")
        case .executionTime:
            let milliseconds = ServiceProtection.grouped(Int((limits.executionTime ?? 0) * 1000))
            (code, message) = (
                "0x80072321",
                "Combined execution time of incoming requests exceeded limit of \(milliseconds) milliseconds over time window of "
                    + "\(window) seconds. Decrease number of concurrent requests or reduce the duration of requests and try again later."
            )
        }
        return .error(DataverseError(.tooManyRequests, code: code, message, headers: [("Retry-After", String(retryAfter))]))
    }

    func injectedStatus(_ code: Int) -> EmulatorResponse {
        let message = code == 503 ? "The service is temporarily unavailable." : "An unexpected error occurred."
        return .error(DataverseError(HTTPResponse.Status(code: code), code: "0x80040216", message))
    }

    func bodyTooLarge(limit: Int) -> EmulatorResponse {
        .error(DataverseError(.contentTooLarge, code: "0x0", "The request body is larger than \(limit) bytes."))
    }

    func refused(_ refusal: SwitchRefusal) -> EmulatorResponse {
        switch refusal {
        case .notLoopback: return .error(DataverseError(.forbidden, code: "", "The emulator's switches answer loopback clients only."))
        case .badFault: return .error(.badRequest("A fault is {\"kind\": \"status\"|\"delay\"|\"html\"|\"truncated\"|\"drop\", …}."))
        case .unknownSwitch(let name): return .error(DataverseError.segmentNotFound(name))
        }
    }

    /// The `x-ms-ratelimit-*` headers the API limits documentation describes, for debugging: the requests
    /// left in the window, and the execution time left (seconds, as `1,199.98`).
    func usageHeaders(_ usage: ServiceProtection.Usage) -> [(String, String)] {
        let hundredths = Int((min(usage.executionTimeLeft, 1e12) * 100).rounded(.down))
        let fraction = hundredths % 100
        let time = ServiceProtection.grouped(hundredths / 100) + "." + (fraction < 10 ? "0" : "") + String(fraction)
        return [
            ("x-ms-ratelimit-burst-remaining-xrm-requests", String(usage.requestsLeft)),
            ("x-ms-ratelimit-time-remaining-xrm-requests", time),
        ]
    }

    /// `OData-Version: 4.0`, which every Web API response carries.
    func mark(_ headers: inout HTTPFields) {
        if let name = HTTPField.Name("OData-Version") { headers[name] = "4.0" }
    }

    var truncatedFallback: String { "{\"@odata.context\":\"$metadata#accounts\",\"value\":[{\"name\":\"truncated\"}]}" }
}
