import AsyncHTTPClient
import Foundation
import Logging
import NIOCore

/// An OAuth 2.0 bearer access token; its `description` and reflection are redacted.
public struct AccessToken: Sendable, Equatable, CustomStringConvertible, CustomReflectable {
    /// The token, for the `Authorization` header only.
    public let value: String
    /// When the token source fetches a new one rather than hand this one out.
    public let refreshAt: ContinuousClock.Instant

    /// Creates a token.
    public init(value: String, refreshAt: ContinuousClock.Instant) {
        self.value = value
        self.refreshAt = refreshAt
    }

    public var description: String { "AccessToken(<redacted>)" }
    public var customMirror: Mirror { Mirror(self, children: ["refreshAt": refreshAt], displayStyle: .struct) }
}

/// Where the client gets bearer tokens.
public protocol ODataTokenSource: Sendable {
    /// A token valid for a while yet: the cached one, or a new one.
    func token() async throws -> AccessToken
    /// Tells the source that the service refused `token` (a `401`): the next `token()` fetches a new one
    /// unless another caller already replaced it.
    func invalidate(_ token: AccessToken) async
}

/// When a cached token is refreshed: `margin` before it expires, the margin being the smaller of `maximumMargin` and
/// `lifetimeFraction` of the token's lifetime (5 minutes or 10 % by default: a one-hour token lives 55 minutes).
public struct TokenRefreshPolicy: Sendable {
    /// The largest margin.
    public var maximumMargin: Duration
    /// The margin as a fraction of the lifetime, 0…1.
    public var lifetimeFraction: Double

    /// Creates a policy.
    public init(maximumMargin: Duration = .seconds(300), lifetimeFraction: Double = 0.1) {
        self.maximumMargin = maximumMargin
        self.lifetimeFraction = min(max(lifetimeFraction, 0), 1)
    }

    /// How long a token that lives `lifetimeSeconds` (cut to one day) is handed out.
    func usableLifetime(seconds lifetimeSeconds: Int) -> Duration {
        let lifetime = Duration.seconds(min(max(0, lifetimeSeconds), 86_400))
        let margin = min(maximumMargin, lifetime * lifetimeFraction)
        return lifetime - margin
    }
}

/// Gets tokens by the OAuth 2.0 client credentials grant (`POST <authority><tenant>/oauth2/v2.0/token`, form fields
/// `client_id`, `client_secret`, `scope=<resource>/.default`, `grant_type=client_credentials`) and caches them:
/// concurrent callers share one request, and a token is refreshed before it expires.
public actor ClientCredentialsTokenSource: ODataTokenSource {
    private let endpoint: String
    private let credentials: ClientCredentials
    private let httpClient: HTTPClient
    private let timeout: Duration
    private let maximumResponseBytes: Int
    private let refresh: TokenRefreshPolicy
    private let logger: Logger
    private let clock = ContinuousClock()
    private var cached: AccessToken?
    private var inFlight: Task<AccessToken, any Error>?
    private var requests = 0

    /// Creates the token source of `service`.
    public init(service: ODataService, httpClient: HTTPClient, refresh: TokenRefreshPolicy = TokenRefreshPolicy(), logger: Logger) {
        self.endpoint = service.name
        self.credentials = service.credentials
        self.httpClient = httpClient
        self.timeout = service.timeouts.request
        self.maximumResponseBytes = service.limits.maximumTokenResponseBytes
        self.refresh = refresh
        self.logger = logger
    }

    /// The token requests sent so far.
    public var tokenRequests: Int { requests }

    /// A token valid for a while yet.
    ///
    /// - Throws: `ODataError` (`tokenRefused` when the identity platform refuses the credentials).
    public func token() async throws -> AccessToken {
        if let cached, cached.refreshAt > clock.now { return cached }
        if let inFlight { return try await inFlight.value }
        let task = Task { try await self.fetch() }
        inFlight = task
        defer { inFlight = nil }
        let token = try await task.value
        cached = token
        return token
    }

    /// Drops `token` from the cache if it is still the cached one.
    public func invalidate(_ token: AccessToken) {
        if cached == token { cached = nil }
    }

    private func fetch() async throws -> AccessToken {
        guard let url = credentials.tokenEndpoint else {
            throw ODataError(endpoint: endpoint, .configuration("the tenant \(credentials.tenant) cannot form a token endpoint URL"))
        }
        requests += 1
        logger.debug("requesting an access token", metadata: ["endpoint": "\(endpoint)", "token_endpoint": "\(url.absoluteString)"])
        let started = clock.now
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: formBody()))
        let (status, body) = try await HTTPExchange.send(
            request, with: httpClient, timeout: timeout, maximumBytes: maximumResponseBytes, endpoint: endpoint
        )
        return try token(status: status, body: body, requestedAt: started)
    }

    private func formBody() -> [UInt8] {
        let fields = [
            ("client_id", credentials.clientID),
            ("client_secret", credentials.secret.reveal()),
            ("scope", credentials.scope),
            ("grant_type", "client_credentials"),
        ]
        return Array(fields.map { "\($0.0)=\(FormEncoding.encode($0.1))" }.joined(separator: "&").utf8)
    }

    private func token(status: Int, body: [UInt8], requestedAt: ContinuousClock.Instant) throws -> AccessToken {
        let json = try? ODataJSON.parse(body)
        guard (200..<300).contains(status) else { throw refusal(status: status, json: json, body: body) }
        guard let json, let value = json["access_token"]?.stringValue, !value.isEmpty,
              let lifetimeText = json["expires_in"]?.numberText ?? json["expires_in"]?.stringValue,
              let lifetime = Int(lifetimeText), lifetime > 0
        else {
            throw ODataError(endpoint: endpoint, .tokenEndpointFailed(
                status: status, problem: "the answer has no access_token and positive expires_in"))
        }
        if let type = json["token_type"]?.stringValue, type.lowercased() != "bearer" {
            throw ODataError(endpoint: endpoint, .tokenEndpointFailed(status: status, problem: "the token type is \(type), not Bearer"))
        }
        return AccessToken(value: value, refreshAt: requestedAt.advanced(by: refresh.usableLifetime(seconds: lifetime)))
    }

    /// The error of a refused token request: `error_description`'s first line and its `AADSTS…` code.
    private func refusal(status: Int, json: ODataJSON?, body: [UInt8]) -> ODataError {
        guard let json, let code = json["error"]?.stringValue else {
            let problem = ODataRetryPolicy.retryableStatuses.contains(status)
                ? "the identity platform is unavailable" : "an answer that is not an OAuth error"
            let excerpt = BodyExcerpt.of(body)
            return ODataError(endpoint: endpoint, .tokenEndpointFailed(status: status, problem: problem + (excerpt.isEmpty ? "" : " (\(excerpt))")))
        }
        let firstLine = (json["error_description"]?.stringValue ?? "")
            .split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        let description = BodyExcerpt.of(Array(redactingSecret(firstLine).utf8), limit: 300)
        let aadsts = description.hasPrefix("AADSTS") ? String(description.prefix { $0 != ":" }) : code
        return ODataError(endpoint: endpoint, .tokenRefused(status: status, code: aadsts, description: description.isEmpty ? code : description))
    }

    /// `text` with the secret cut out, should a service ever echo it.
    private func redactingSecret(_ text: String) -> String {
        let secret = credentials.secret.reveal()
        guard !secret.isEmpty else { return text }
        return text.replacingOccurrences(of: secret, with: "<redacted>")
    }
}

/// `application/x-www-form-urlencoded` encoding of one value.
enum FormEncoding {
    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// `value` with every byte but the unreserved ones percent-encoded.
    static func encode(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }
}
