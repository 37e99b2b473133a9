import Foundation
import Logging
import Postgres
import Synchronization
import Sync

/// Business Central endpoints: the API v2.0 of one company of a Business Central environment.
///
/// ```yaml
/// - name: erp
///   kind: business-central
///   tenant: contoso.onmicrosoft.com            # Entra ID tenant (id or domain)
///   environment: production
///   company: 11111111-2222-3333-4444-555555555555
///   client_id: 66666666-7777-8888-9999-000000000000
///   # url: https://api.businesscentral.dynamics.com   (the default)
///   # authority: https://login.microsoftonline.com/  (the default)
/// ```
///
/// The service root is `<url>/v2.0/<tenant>/<environment>/api/v2.0/` and a table of a mapping is an
/// entity set of the company, `companies(<company>)/<table>`. The token's scope is `<url>/.default`
/// (`https://api.businesscentral.dynamics.com/.default` by default), as for Dataverse, where `url`
/// is the resource too. The client secret comes from `COUPLET_ENDPOINT_<NAME>_SECRET` (or
/// `…_SECRET_FILE`) only. One `ODataClient` per endpoint lives as long as the process, so its token
/// and its service protection budget (6,000 requests per 5 minutes, 5 at once) are shared by every run.
public final class BusinessCentralConnector: EndpointConnector {
    /// `business-central`.
    public var kind: String { "business-central" }
    /// The public Business Central API host.
    static let defaultURL = "https://api.businesscentral.dynamics.com"
    private let clients: ODataClients

    /// A connector keeping to `limits` (Business Central's documented limits by default).
    public init(limits: ServiceProtectionLimits = .businessCentral, logger: Logger) {
        clients = ODataClients(kind: "business-central", limits: limits, logger: logger)
    }

    /// A session on the company `endpoint` names, its client made on first use; a configuration
    /// error names the endpoint and the missing setting or secret variable, never the secret.
    public func open(_ endpoint: EndpointDefinition, environment: [String: String]) async throws -> any EndpointSession {
        let settings = endpoint.settings
        guard let tenant = settings["tenant"], let environmentName = settings["environment"], let company = settings["company"],
              UUID(uuidString: company) != nil, let clientID = settings["client_id"]
        else {
            throw SyncFailure(
                code: .configuration,
                message: "business-central endpoint \(endpoint.name) needs tenant, environment, company (a GUID) and client_id in the mappings file")
        }
        let url = settings["url"].map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 } ?? Self.defaultURL
        guard let root = Self.serviceRoot(url: url, tenant: tenant, environment: environmentName) else {
            throw SyncFailure(code: .configuration, message: "business-central endpoint \(endpoint.name): its url, tenant and environment make no URL")
        }
        let signIn = ODataClients.SignIn(tenant: tenant, clientID: clientID, resource: url, authority: settings["authority"])
        let client = try clients.client(for: endpoint.name, root: root, signIn: signIn, environment: environment)
        return BusinessCentralSession(client: client, company: company)
    }

    public func limitStatistics() async -> [EndpointLimitStatistics] { await clients.limitStatistics() }

    /// `<url>/v2.0/<tenant>/<environment>/api/v2.0/`, tenant and environment escaped as path segments.
    static func serviceRoot(url: String, tenant: String, environment: String) -> URL? {
        let segment = CharacterSet.urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))
        guard !tenant.isEmpty, !environment.isEmpty, let tenant = tenant.addingPercentEncoding(withAllowedCharacters: segment),
              let environment = environment.addingPercentEncoding(withAllowedCharacters: segment)
        else { return nil }
        return URL(string: "\(url)/v2.0/\(tenant)/\(environment)/api/v2.0/")
    }
}

/// A session on a Business Central endpoint: its client, the company, and what the run learns once
/// of the service (its `$metadata`, the change pages' links).
final class BusinessCentralSession: EndpointSession {
    let client: ODataClient
    /// The company's id, in lower case.
    let company: String
    /// The change pages' links of the session's tables.
    let continuations = ODataContinuations()
    private let metadata = Mutex<[String: BusinessCentralEntity]?>(nil)

    /// A session of `client` on the company `company` (a GUID).
    init(client: ODataClient, company: String) {
        self.client = client
        self.company = company.lowercased()
    }

    /// The collection of `entitySet` in the company.
    func collection(_ entitySet: String) -> String {
        "companies(\(company))/\(entitySet)"
    }

    func table(_ side: MappingSide, columns: [String]) async throws -> any TableEndpoint {
        try await tableEndpoint(side, columns: columns)
    }

    /// The table endpoint of `side`: its entity set's metadata checked against the mapped columns and the filter.
    func tableEndpoint(_ side: MappingSide, columns: [String]) async throws -> BusinessCentralTableEndpoint {
        let entity = try await entity(side.table)
        for column in columns { _ = try entity.property(column) }
        if let modifiedBy = side.modifiedBy?.parts.last {
            throw SyncFailure(
                code: .configuration,
                message: "Business Central's API names no writer of a change, so \(entity.entitySet) cannot use the modified-by column \(modifiedBy)")
        }
        let filter = try side.filter.map { try entity.filterCompiler.compile($0.condition) }
        return BusinessCentralTableEndpoint(session: self, entity: entity, side: side, columns: columns, filter: filter)
    }

    func describe(_ table: PostgresIdentifier) async throws -> CatalogTable? {
        try await entities()[table.parts.last ?? ""]?.catalogTable
    }

    func checkFilter(_ filter: RecordFilter, on table: PostgresIdentifier) async throws {
        let entity = try await entity(table)
        let compiled = try entity.filterCompiler.compile(filter.condition)
        let query = "\(collection(entity.entitySet))?$select=\(entity.key)&$top=1&$filter=\(BusinessCentralTableEndpoint.escaped(compiled))"
        _ = try await client.send(.get(query))
    }

    func close() async {}

    /// The entity set `table` names, or a clear error.
    func entity(_ table: PostgresIdentifier) async throws -> BusinessCentralEntity {
        let name = table.parts.last ?? ""
        guard let entity = try await entities()[name] else {
            throw SyncFailure(
                code: .configuration,
                message: "Business Central's API v2.0 has no entity set \"\(name)\" keyed by a GUID id (a mapping's table names one, as customers)")
        }
        return entity
    }

    /// The service's entity sets, from its `$metadata`, read once per session.
    func entities() async throws -> [String: BusinessCentralEntity] {
        if let known = metadata.withLock({ $0 }) { return known }
        let document = try await client.xmlDocument("$metadata", maximumBytes: BusinessCentralMetadata.maximumBytes)
        let entities = try BusinessCentralMetadata.entities(from: document)
        metadata.withLock { $0 = entities }
        return entities
    }
}
