import EmulatorSupport
import Foundation
import Logging
import Postgres
import Synchronization

/// An emulator of the Dataverse Web API (Dynamics 365 Sales) over a Postgres database shaped like
/// Dataverse, with the Microsoft identity platform's client-credentials token endpoint, service
/// protection limits and fault switches for tests. See docs/emulator.md.
///
/// ```swift
/// let emulator = DataverseEmulator(configuration: .init(database: configuration, clientSecret: "secret"))
/// let port = try await emulator.start()          // binds 127.0.0.1, port 0 picks a free one
/// emulator.inject(.status(503), count: 2)        // the next two Web API requests fail
/// await emulator.stop()
/// ```
public final class DataverseEmulator: Sendable {
    /// What the emulator serves and how it limits clients; its description never shows the client secret.
    public struct Configuration: Sendable, CustomStringConvertible {
        /// The database whose tables are the entities.
        public var database: PostgresConfiguration
        /// The schema whose tables are served.
        public var schema = "public"
        /// The TCP port on 127.0.0.1; 0 picks a free one.
        public var port = 0
        /// The environment URL clients ask a token for (`<url>/.default`), such as
        /// `https://contoso.crm.dynamics.com`; nil means `http://127.0.0.1:<port>`. Links in answers always
        /// begin with the address the emulator listens on, which a client can follow.
        public var environmentURL: String?
        /// The one application (client id) the token endpoint knows.
        public var clientID = "51f81489-12ee-4a9e-aaae-a2591f45987d"
        /// Its client secret.
        public var clientSecret: String
        /// Access token lifetime (`expires_in`), 3599 s as the identity platform issues.
        public var tokenLifetime: TimeInterval = 3599
        /// How long a delta token stays usable: Dataverse's default is 7 days.
        public var deltaTokenLifetime: TimeInterval = 7 * 24 * 3600
        /// Records per page when the client sets no `odata.maxpagesize`.
        public var pageSize = 5000
        /// The largest page a client may ask for.
        public var maximumPageSize = 5000
        /// Requests per client within the window (service protection).
        public var requestLimit = 6000
        /// Combined execution time per client within the window, in seconds.
        public var executionTimeLimit: TimeInterval = 1200
        /// The sliding window, in seconds.
        public var limitWindow: TimeInterval = 300
        /// Concurrent requests per client.
        public var concurrentRequestLimit = 52
        /// The largest request body accepted.
        public var maximumBodySize = 16 * 1024 * 1024
        /// Postgres connections the emulator keeps at most.
        public var databaseConnections = 8

        /// A configuration with the documented defaults.
        public init(database: PostgresConfiguration, clientSecret: String) {
            self.database = database
            self.clientSecret = clientSecret
        }

        /// The settings, the client secret left out.
        public var description: String {
            "DataverseEmulator.Configuration(database: \(database), schema: \(schema), port: \(port), clientID: \(clientID), "
                + "tokenLifetime: \(tokenLifetime), deltaTokenLifetime: \(deltaTokenLifetime), pageSize: \(pageSize), "
                + "requestLimit: \(requestLimit), executionTimeLimit: \(executionTimeLimit), limitWindow: \(limitWindow), "
                + "concurrentRequestLimit: \(concurrentRequestLimit))"
        }
    }

    /// The configuration.
    public let configuration: Configuration
    let logger: Logger
    let tokens: TokenIssuer
    let protection: ServiceProtection
    let faults = FaultBoard()
    private let server = EmulatorServer()
    private let state = Mutex<RunState>(RunState())
    /// The bookkeeping of row versions and changes.
    static let rowVersions = RowVersions(schema: "dataverse_emulator")

    private struct RunState {
        var api: WebAPI?
        var pool: PostgresConnectionPool?
    }

    /// Makes an emulator; nothing runs until `start()`.
    public init(configuration: Configuration, logger: Logger = Logger(label: "couplet.emulator")) {
        self.configuration = configuration
        self.logger = logger
        self.tokens = TokenIssuer(
            clientID: configuration.clientID, clientSecret: configuration.clientSecret, lifetime: configuration.tokenLifetime)
        self.protection = ServiceProtection(
            limits: .init(
                requests: configuration.requestLimit, executionTime: configuration.executionTimeLimit,
                window: configuration.limitWindow, concurrentRequests: configuration.concurrentRequestLimit))
    }

    // MARK: Running

    /// Installs the bookkeeping, reads the entities and starts serving on 127.0.0.1; returns the port.
    @discardableResult
    public func start() async throws -> Int {
        guard !server.isRunning else {
            throw PostgresError(.invalidConfiguration, message: "the emulator is already running on port \(port)")
        }
        let pool = PostgresConnectionPool(
            configuration.database, maximumConnections: max(configuration.databaseConnections, 2), applicationName: "couplet emulator")
        let catalog = try await pool.withConnection { connection in try await Self.installedCatalog(configuration.schema, on: connection) }
        let api = WebAPI(settings: configuration, pool: pool, catalog: catalog, logger: logger)
        state.withLock {
            $0.api = api
            $0.pool = pool
        }
        let door = FrontDoor(
            dialect: DataverseDialect(emulator: self), faults: faults, tokens: tokens, protection: protection,
            maximumBodySize: configuration.maximumBodySize)
        let port = try await server.start(port: configuration.port, responder: EmulatorResponder(emulator: self, door: door), logger: logger)
        api.environmentURL = "http://127.0.0.1:\(port)"
        logger.info("Dataverse emulator listening", metadata: ["port": "\(port)", "entities": "\(catalog.entities.count)"])
        return port
    }

    /// Reads the entities of `schema` and installs the bookkeeping's triggers on their tables.
    private static func installedCatalog(_ schema: String, on connection: PostgresConnection) async throws -> Catalog {
        let catalog = try await Catalog.load(schema: schema, from: connection)
        let tables = catalog.entities.values.map { TrackedTable(schema: $0.schema, name: $0.logicalName, key: $0.primaryIdAttribute) }
        try await rowVersions.install(tables, on: connection)
        return catalog
    }

    /// Stops serving and closes the database connections.
    public func stop() async {
        await server.stop()
        state.withLock { $0.pool }?.close()
    }

    /// The port, once started.
    public var port: Int { server.port }

    /// The address the emulator listens on, `http://127.0.0.1:<port>`: where clients send requests, and
    /// the beginning of every link it writes.
    public var environmentURL: String { api?.environmentURL ?? "" }

    /// The resource whose `/.default` scope the token endpoint accepts: the configured environment URL,
    /// else the address it listens on.
    public var tokenResource: String { configuration.environmentURL ?? environmentURL }

    /// The Web API's service root, `<environment URL>/api/data/v9.2/`.
    public var serviceRoot: String { environmentURL + "/api/data/v9.2/" }

    /// The token endpoint for `tenant`.
    public func tokenURL(tenant: String = "00000000-0000-0000-0000-000000000001") -> String {
        "http://127.0.0.1:\(port)/\(tenant)/oauth2/v2.0/token"
    }

    var api: WebAPI? { state.withLock { $0.api } }

    /// Reads the entities from the catalog again (after a table was added) and installs its triggers.
    public func reloadMetadata() async throws {
        guard let api else { return }
        let catalog = try await api.pool.withConnection { connection in try await Self.installedCatalog(configuration.schema, on: connection) }
        api.catalog = catalog
    }

    // MARK: Fault switches

    /// Plays `fault` for the next `count` requests in `scope`.
    public func inject(_ fault: Fault, count: Int = 1, scope: FaultScope = .api) {
        faults.inject(fault, count: count, scope: scope)
    }

    /// Drops the faults not yet played.
    public func clearFaults() { faults.clear() }

    /// Makes every access token issued so far expired: the next request with one answers 401.
    public func expireAccessTokens() { tokens.expireAll() }

    /// Makes every delta token issued so far expired.
    public func expireDeltaTokens() { api?.expireDeltaTokens() }

    /// The counters: requests by route, 429s sent, the most concurrent requests seen.
    public func stats() -> EmulatorStats { faults.stats }

    /// Sets the counters to zero.
    public func resetStats() { faults.resetStats() }
}
