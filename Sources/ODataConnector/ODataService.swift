import Foundation

/// One OData service Couplet talks to (a Dataverse organization or a Business Central environment): where it is,
/// how to sign in, and the limits the client keeps to. Its `description` never shows the secret.
public struct ODataService: Sendable, CustomStringConvertible {
    /// The endpoint's name in Couplet's configuration (`crm`, `erp`); errors and logs name it.
    public var name: String
    /// The service root, ending in `/`: `https://org.crm.dynamics.com/api/data/v9.2/` or
    /// `https://api.businesscentral.dynamics.com/v2.0/<tenant>/<environment>/api/v2.0/`.
    public var root: URL
    /// The OAuth 2.0 client credentials the client signs in with.
    public var credentials: ClientCredentials
    /// Bounds on responses.
    public var limits: ODataLimits
    /// Per-request and connection timeouts.
    public var timeouts: ODataTimeouts
    /// How failed requests are retried.
    public var retry: ODataRetryPolicy
    /// The service protection limits the client keeps to.
    public var protection: ServiceProtectionLimits

    /// Creates a service; `root` gets a trailing `/` when it has none.
    ///
    /// - Throws: `ODataError.Kind.configuration` when `root` is not an absolute `http`/`https` URL with a host.
    public init(
        name: String,
        root: URL,
        credentials: ClientCredentials,
        limits: ODataLimits = ODataLimits(),
        timeouts: ODataTimeouts = ODataTimeouts(),
        retry: ODataRetryPolicy = ODataRetryPolicy(),
        protection: ServiceProtectionLimits
    ) throws(ODataError) {
        guard let scheme = root.scheme?.lowercased(), scheme == "https" || scheme == "http", root.host != nil else {
            throw ODataError(endpoint: name, .configuration("the service root \(root) is not an http(s) URL with a host"))
        }
        self.name = name
        self.root = root.absoluteString.hasSuffix("/") ? root : root.appendingPathComponent("")
        self.credentials = credentials
        self.limits = limits
        self.timeouts = timeouts
        self.retry = retry
        self.protection = protection
    }

    public var description: String {
        "ODataService(\(name), root: \(root.absoluteString), \(credentials))"
    }
}

/// OAuth 2.0 client credentials for the Microsoft identity platform (or a stand-in at another authority).
public struct ClientCredentials: Sendable, CustomStringConvertible {
    /// The Microsoft identity platform: `https://login.microsoftonline.com/`.
    public static let microsoftAuthority = URL(string: "https://login.microsoftonline.com/")
        ?? URL(fileURLWithPath: "/")

    /// The directory (tenant) id or domain.
    public var tenant: String
    /// The application (client) id.
    public var clientID: String
    /// The client secret.
    public var secret: EndpointSecret
    /// The resource whose `/.default` scope is asked for: `https://org.crm.dynamics.com` for Dataverse,
    /// `https://api.businesscentral.dynamics.com` for Business Central.
    public var resource: String
    /// The authority the token request goes to: `<authority><tenant>/oauth2/v2.0/token`.
    public var authority: URL

    /// Creates credentials.
    public init(tenant: String, clientID: String, secret: EndpointSecret, resource: String, authority: URL = microsoftAuthority) {
        self.tenant = tenant
        self.clientID = clientID
        self.secret = secret
        self.resource = resource
        self.authority = authority
    }

    /// `<resource>/.default`, the scope of the client credentials grant.
    public var scope: String {
        (resource.hasSuffix("/") ? String(resource.dropLast()) : resource) + "/.default"
    }

    /// The token endpoint, `<authority><tenant>/oauth2/v2.0/token`; `nil` when the tenant cannot be a path segment.
    public var tokenEndpoint: URL? {
        let allowed = CharacterSet.urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))
        guard !tenant.isEmpty, let segment = tenant.addingPercentEncoding(withAllowedCharacters: allowed) else { return nil }
        let base = authority.absoluteString.hasSuffix("/") ? authority.absoluteString : authority.absoluteString + "/"
        return URL(string: base + segment + "/oauth2/v2.0/token")
    }

    public var description: String {
        "ClientCredentials(tenant: \(tenant), client: \(clientID), secret: \(secret), scope: \(scope))"
    }
}

/// Bounds on what the client reads from a service.
public struct ODataLimits: Sendable {
    /// The most bytes read of one response body (a page, a batch response); default 64 MiB.
    public var maximumResponseBytes: Int
    /// The most bytes read of a token endpoint response; default 64 KiB.
    public var maximumTokenResponseBytes: Int

    /// Creates limits.
    public init(maximumResponseBytes: Int = 64 * 1024 * 1024, maximumTokenResponseBytes: Int = 64 * 1024) {
        self.maximumResponseBytes = max(1, maximumResponseBytes)
        self.maximumTokenResponseBytes = max(1, maximumTokenResponseBytes)
    }
}

/// Timeouts of one request.
public struct ODataTimeouts: Sendable {
    /// The time one attempt may take, from sending to the last byte of the body; default 120 s.
    public var request: Duration
    /// The time a new connection may take; default 10 s.
    public var connect: Duration

    /// Creates timeouts.
    public init(request: Duration = .seconds(120), connect: Duration = .seconds(10)) {
        self.request = request
        self.connect = connect
    }
}

/// How failed requests are retried: exponential backoff with full jitter, bounded in attempts and in total time.
public struct ODataRetryPolicy: Sendable {
    /// The statuses retried: 500, 502, 503, 504.
    public static let retryableStatuses: Set<Int> = [500, 502, 503, 504]

    /// The most attempts of one request, the first included (throttled answers not counted); default 5.
    public var maximumAttempts: Int
    /// The backoff ceiling of the first retry; the ceiling doubles each retry; default 0.5 s.
    public var baseDelay: Duration
    /// The largest backoff ceiling; default 30 s.
    public var maximumDelay: Duration
    /// The most time one request may spend, attempts, backoff and throttling included; default 10 min.
    public var maximumTotalTime: Duration
    /// The most times one request is retried after a `429`; default 10.
    public var maximumThrottledRetries: Int

    /// Creates a policy.
    public init(
        maximumAttempts: Int = 5,
        baseDelay: Duration = .milliseconds(500),
        maximumDelay: Duration = .seconds(30),
        maximumTotalTime: Duration = .seconds(600),
        maximumThrottledRetries: Int = 10
    ) {
        self.maximumAttempts = max(1, maximumAttempts)
        self.baseDelay = baseDelay
        self.maximumDelay = maximumDelay
        self.maximumTotalTime = maximumTotalTime
        self.maximumThrottledRetries = max(0, maximumThrottledRetries)
    }

    /// The backoff before retry number `retry` (1 for the first): a random time between zero and
    /// `min(maximumDelay, baseDelay × 2^(retry−1))` (full jitter).
    public func backoff(beforeRetry retry: Int) -> Duration {
        let exponent = Double(min(max(retry - 1, 0), 62))
        let ceiling = min(seconds(maximumDelay), seconds(baseDelay) * pow(2, exponent), 86_400)
        guard ceiling > 0 else { return .zero }
        return .nanoseconds(Int64(Double.random(in: 0...ceiling) * 1e9))
    }

    private func seconds(_ duration: Duration) -> Double {
        let parts = duration.components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
