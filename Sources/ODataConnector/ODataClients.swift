import Foundation
import Logging
import Synchronization
import Sync

/// The clients of one connector's endpoints: one per endpoint and settings for the life of the
/// process, so its token and its service protection budget (requests, concurrency, `Retry-After`
/// pauses) are shared by every run. The client secret comes from `COUPLET_ENDPOINT_<NAME>_SECRET`
/// (or `…_SECRET_FILE`) only.
final class ODataClients: Sendable {
    /// How an endpoint signs in: the client credentials grant of its Entra ID tenant.
    struct SignIn: Sendable {
        /// The tenant (id or domain).
        var tenant: String
        /// The application (client) id.
        var clientID: String
        /// The resource whose `/.default` scope is asked for.
        var resource: String
        /// The `authority` setting (the Microsoft identity platform when nil or not a URL).
        var authority: String?
    }

    /// One HTTP client for the process, its connections pooled per host, never following a redirect.
    private static let httpClient = ODataClient.makeHTTPClient()
    /// The connector's kind, in messages.
    private let kind: String
    /// The limits each endpoint keeps to.
    private let limits: ServiceProtectionLimits
    private let logger: Logger
    private let clients = Mutex<[String: ODataClient]>([:])

    /// The clients of a connector of `kind`, each keeping to `limits`.
    init(kind: String, limits: ServiceProtectionLimits, logger: Logger) {
        self.kind = kind
        self.limits = limits
        self.logger = logger
    }

    /// How each client's requests stand against its endpoint's service protection limits.
    func limitStatistics() async -> [EndpointLimitStatistics] {
        var statistics: [EndpointLimitStatistics] = []
        for client in clients.withLock({ Array($0.values) }) { statistics.append(await client.limitStatistics()) }
        return statistics
    }

    /// The client of endpoint `name` at service root `root`, made on first use with the secret read from `environment`.
    func client(
        for name: String, root: URL, signIn: SignIn, environment: [String: String]
    ) throws -> ODataClient {
        let key = "\(name) \(root.absoluteString) \(signIn.tenant) \(signIn.clientID) \(signIn.resource) \(signIn.authority ?? "")"
        if let known = clients.withLock({ $0[key] }) { return known }
        let secret: EndpointSecret
        do { secret = try EndpointSecret.read(endpoint: name, environment: environment) } catch {
            throw SyncFailure(code: .configuration, message: "\(kind) endpoint \(name): \(error)")
        }
        let authority = signIn.authority.flatMap(URL.init(string:)) ?? ClientCredentials.microsoftAuthority
        let credentials = ClientCredentials(
            tenant: signIn.tenant, clientID: signIn.clientID, secret: secret, resource: signIn.resource, authority: authority)
        let service = try ODataService(name: name, root: root, credentials: credentials, protection: limits)
        let client = ODataClient(
            service: service, httpClient: Self.httpClient,
            tokenSource: ClientCredentialsTokenSource(service: service, httpClient: Self.httpClient, logger: logger), logger: logger)
        return clients.withLock { clients in
            if let raced = clients[key] { return raced }
            clients[key] = client
            return client
        }
    }
}
