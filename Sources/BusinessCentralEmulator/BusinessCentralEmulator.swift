@_exported import EmulatorSupport
import Foundation
import Logging
import Postgres
import Synchronization

/// An emulator of the Business Central API v2.0 over a Postgres database whose schemas are the
/// companies, with the Microsoft identity platform's client-credentials token endpoint, Business
/// Central's API limits and the shared fault switches. See docs/emulator.md.
///
/// ```swift
/// var configuration = BusinessCentralEmulator.Configuration(database: configuration, clientSecret: "secret")
/// configuration.companies = [.init(name: "CRONUS USA, Inc.", schema: "cronus")]
/// let emulator = BusinessCentralEmulator(configuration: configuration)
/// try await emulator.start()                    // binds 127.0.0.1, port 0 picks a free one
/// let root = emulator.apiRoot()                  // http://127.0.0.1:PORT/v2.0/<tenant>/production/api/v2.0/
/// await emulator.stop()
/// ```
public final class BusinessCentralEmulator: Sendable {
    /// A company: its name and the schema holding its tables.
    public struct Company: Sendable {
        /// The company name (`CRONUS USA, Inc.`).
        public var name: String
        /// The schema whose tables are its entity sets.
        public var schema: String
        /// Its id; nil derives a stable one from the name (`md5('business central company ' || name)` as a uuid).
        public var id: String?
        /// Its display name; nil for the name.
        public var displayName: String?

        /// A company.
        public init(name: String, schema: String, id: String? = nil, displayName: String? = nil) {
            self.name = name
            self.schema = schema
            self.id = id
            self.displayName = displayName
        }
    }

    /// What the emulator serves and how it limits clients; its description never shows the client secret.
    public struct Configuration: Sendable, CustomStringConvertible {
        /// The database whose schemas are the companies.
        public var database: PostgresConfiguration
        /// The companies, in the order `GET companies` lists them.
        public var companies = [Company(name: "CRONUS USA, Inc.", schema: "public")]
        /// The TCP port on 127.0.0.1; 0 picks a free one.
        public var port = 0
        /// The environment name in the URL (`production`, `sandbox`); others answer 404.
        public var environment = "production"
        /// The resource clients ask a token for (`<resource>/.default`); nil: the emulator's own
        /// address, as a connector whose `url` is the emulator asks (the real service's is
        /// `https://api.businesscentral.dynamics.com`).
        public var resource: String?
        /// The one application (client id) the token endpoint knows.
        public var clientID = "6a3b8f5e-2c1d-4e7a-9b0f-3d5c7e9a1b2c"
        /// Its client secret.
        public var clientSecret: String
        /// Access token lifetime (`expires_in`), 3599 s as the identity platform issues.
        public var tokenLifetime: TimeInterval = 3599
        /// Records per page when the client sets no `odata.maxpagesize` (the documented 20,000).
        public var pageSize = 20_000
        /// The largest page a client may ask for.
        public var maximumPageSize = 20_000
        /// Requests per client within the window (6,000 per 5 minutes).
        public var requestLimit = 6000
        /// The sliding window, in seconds.
        public var limitWindow: TimeInterval = 300
        /// Concurrent requests per client (5).
        public var concurrentRequestLimit = 5
        /// The largest request body accepted.
        public var maximumBodySize = 16 * 1024 * 1024
        /// Postgres connections the emulator keeps at most.
        public var databaseConnections = 8
        /// What `GET companies` says as `systemVersion`.
        public var systemVersion = "27.0.38460.0"

        /// A configuration with the documented defaults.
        public init(database: PostgresConfiguration, clientSecret: String) {
            self.database = database
            self.clientSecret = clientSecret
        }

        /// The settings, the client secret left out.
        public var description: String {
            "BusinessCentralEmulator.Configuration(database: \(database), companies: \(companies.map { "\($0.name)=\($0.schema)" }), "
                + "port: \(port), environment: \(environment), resource: \(resource ?? "its own address"), clientID: \(clientID), tokenLifetime: \(tokenLifetime), "
                + "pageSize: \(pageSize), requestLimit: \(requestLimit), limitWindow: \(limitWindow), concurrentRequestLimit: \(concurrentRequestLimit))"
        }
    }

    /// The configuration.
    public let configuration: Configuration
    let logger: Logger
    let tokens: TokenIssuer
    let protection: ServiceProtection
    let faults = FaultBoard()
    private let server = EmulatorServer()
    private let state = Mutex<ServiceAPI?>(nil)

    /// Makes an emulator; nothing runs until `start()`.
    public init(configuration: Configuration, logger: Logger = Logger(label: "couplet.emulator")) {
        self.configuration = configuration
        self.logger = logger
        self.tokens = TokenIssuer(
            clientID: configuration.clientID, clientSecret: configuration.clientSecret, lifetime: configuration.tokenLifetime)
        self.protection = ServiceProtection(
            limits: .init(
                requests: configuration.requestLimit, executionTime: nil, window: configuration.limitWindow,
                concurrentRequests: configuration.concurrentRequestLimit))
    }

    // MARK: Running

    /// Installs the bookkeeping, reads the companies' tables and starts serving on 127.0.0.1; returns the port.
    @discardableResult
    public func start() async throws -> Int {
        guard !server.isRunning else {
            throw PostgresError(.invalidConfiguration, message: "the emulator is already running on port \(port)")
        }
        let pool = PostgresConnectionPool(
            configuration.database, maximumConnections: max(configuration.databaseConnections, 2), applicationName: "couplet emulator")
        let catalog = try await pool.withConnection { connection in try await self.installedCatalog(on: connection) }
        state.withLock { $0 = ServiceAPI(settings: configuration, pool: pool, catalog: catalog, logger: logger) }
        let door = FrontDoor(
            dialect: BusinessCentralDialect(emulator: self), faults: faults, tokens: tokens, protection: protection,
            maximumBodySize: configuration.maximumBodySize)
        let port = try await server.start(port: configuration.port, responder: Responder(emulator: self, door: door), logger: logger)
        logger.info("Business Central emulator listening", metadata: ["port": "\(port)", "companies": "\(catalog.companies.count)"])
        return port
    }

    /// Reads the companies' entity sets and installs the bookkeeping's triggers on their tables.
    private func installedCatalog(on connection: PostgresConnection) async throws -> Catalog {
        let enums = try await PostgresCatalog.enumLabels(connection: connection)
        var companies: [CompanyCatalog] = []
        for company in configuration.companies {
            let id = try await companyID(company, on: connection)
            companies.append(
                try await CompanyCatalog.load(
                    id: id, name: company.name, displayName: company.displayName ?? company.name, schema: company.schema, enums: enums,
                    from: connection))
        }
        try await ServiceAPI.rowVersions.install(companies.flatMap(\.trackedTables), on: connection)
        let createdAt = try await connection.query("SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")
            .single().decode(String.self, at: 0)
        return Catalog(
            companies: companies, companySet: Catalog.companySet(companies, createdAt: createdAt, systemVersion: configuration.systemVersion))
    }

    /// The configured id, else one derived from the name.
    private func companyID(_ company: Company, on connection: PostgresConnection) async throws -> String {
        if let id = company.id { return try ServiceAPI.guid(id) }
        return try await connection.query("SELECT md5('business central company ' || \(company.name))::uuid::text")
            .single().decode(String.self, at: 0)
    }

    /// Stops serving and closes the database connections.
    public func stop() async {
        await server.stop()
        state.withLock { $0 }?.pool.close()
    }

    /// Reads the companies' tables again (after a table was added) and installs the triggers.
    public func reloadMetadata() async throws {
        guard let api else { return }
        api.catalog = try await api.pool.withConnection { connection in try await self.installedCatalog(on: connection) }
    }

    var api: ServiceAPI? { state.withLock { $0 } }

    // MARK: Addresses

    /// The port, once started.
    public var port: Int { server.port }

    /// `http://127.0.0.1:<port>`.
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// The resource tokens are for: the configured one, else the emulator's own address.
    public var tokenResource: String { configuration.resource ?? baseURL }

    /// The API root for `tenant`: `http://127.0.0.1:<port>/v2.0/<tenant>/<environment>/api/v2.0/`.
    public func apiRoot(tenant: String = "00000000-0000-0000-0000-000000000001") -> String {
        baseURL + "/v2.0/\(tenant)/\(configuration.environment)/api/v2.0/"
    }

    /// The token endpoint for `tenant`.
    public func tokenURL(tenant: String = "00000000-0000-0000-0000-000000000001") -> String {
        baseURL + "/\(tenant)/oauth2/v2.0/token"
    }

    /// The id `GET companies` gives the company called `name`, once started.
    public func companyID(named name: String) -> String? {
        api?.catalog.company(named: name)?.id
    }

    /// The entity type name of an entity set, Business Central's singular of the set name: a plural
    /// before `Of` loses its `s` (`unitsOfMeasure` → `unitOfMeasure`); `…ies` → `…y` (`currencies`),
    /// `…sses`, `…xes`, `…ches`, `…shes` drop `es`, other names ending in `s` drop it (`paymentTerms` →
    /// `paymentTerm`).
    public static func entityTypeName(_ setName: String) -> String {
        if let of = setName.range(of: "sOf") { return setName.replacingCharacters(in: of, with: "Of") }
        if setName.hasSuffix("ies") { return setName.dropLast(3) + "y" }
        if ["sses", "xes", "ches", "shes"].contains(where: { setName.hasSuffix($0) }) { return String(setName.dropLast(2)) }
        if setName.hasSuffix("s") { return String(setName.dropLast()) }
        return setName
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

    /// The counters: requests by route, 429s sent, the most concurrent requests seen.
    public func stats() -> EmulatorStats { faults.stats }

    /// Sets the counters to zero.
    public func resetStats() { faults.resetStats() }
}
