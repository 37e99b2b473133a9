import AsyncHTTPClient
import Foundation
import Logging
import Postgres
import Synchronization
import Sync

/// Dataverse endpoints (Dynamics 365 Sales): the Web API of the environment a mappings file names.
///
/// ```yaml
/// - name: crm
///   kind: dataverse
///   url: https://contoso.crm4.dynamics.com     # the environment
///   tenant: contoso.onmicrosoft.com            # Entra ID tenant (id or domain)
///   client_id: 11111111-2222-3333-4444-555555555555
/// ```
///
/// The client secret comes from `COUPLET_ENDPOINT_<NAME>_SECRET` (or `…_SECRET_FILE`) only. One
/// `ODataClient` per endpoint lives as long as the process, so its token and its service
/// protection budget (requests, concurrency, `Retry-After` pauses) are shared by every run.
public final class DataverseConnector: EndpointConnector {
    /// `dataverse`.
    public var kind: String { "dataverse" }
    private let logger: Logger
    private let clients: ODataClients

    /// A connector keeping to `limits` (Dataverse's documented service protection limits by default).
    public init(limits: ServiceProtectionLimits = .dataverse, logger: Logger) {
        self.logger = logger
        clients = ODataClients(kind: "dataverse", limits: limits, logger: logger)
    }

    public func open(_ endpoint: EndpointDefinition, environment: [String: String]) async throws -> any EndpointSession {
        DataverseSession(client: try client(for: endpoint, environment: environment), logger: logger)
    }

    public func limitStatistics() async -> [EndpointLimitStatistics] { await clients.limitStatistics() }

    /// The endpoint's client, made on first use from its settings and secret.
    private func client(for endpoint: EndpointDefinition, environment: [String: String]) throws -> ODataClient {
        let settings = endpoint.settings
        guard let url = settings["url"], let environmentURL = URL(string: url), let tenant = settings["tenant"],
              let clientID = settings["client_id"]
        else {
            throw SyncFailure(code: .configuration, message: "dataverse endpoint \(endpoint.name) needs url, tenant and client_id in the mappings file")
        }
        let resource = url.hasSuffix("/") ? String(url.dropLast()) : url
        let root = environmentURL.appendingPathComponent("api/data/v9.2/")
        let signIn = ODataClients.SignIn(tenant: tenant, clientID: clientID, resource: resource, authority: endpoint.settings["authority"])
        return try clients.client(for: endpoint.name, root: root, signIn: signIn, environment: environment)
    }
}

/// A session on a Dataverse endpoint: its client, and what the run learns once of the service
/// (tables' metadata, the application user, the service's clock).
final class DataverseSession: EndpointSession {
    let client: ODataClient
    private let logger: Logger
    private let entities = Mutex<[String: DataverseEntity]>([:])
    private let user = Mutex<String?>(nil)
    /// The change pages' links of the session's tables.
    let continuations = ODataContinuations()

    init(client: ODataClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    func table(_ side: MappingSide, columns: [String]) async throws -> any TableEndpoint {
        let entity = try await entity(side.table.parts.last ?? "")
        for column in columns where entity.attributes[column] == nil {
            throw SyncFailure(code: .configuration, message: "Dataverse table \(entity.logicalName) has no column \(column)")
        }
        let filter = try side.filter.map { try entity.filterCompiler.compile($0.condition) }
        return DataverseTableEndpoint(session: self, entity: entity, side: side, columns: columns, filter: filter)
    }

    func describe(_ table: PostgresIdentifier) async throws -> CatalogTable? {
        do {
            return try await entity(table.parts.last ?? "").catalogTable
        } catch let error as ODataError where error.status == 404 {
            return nil
        }
    }

    func checkFilter(_ filter: RecordFilter, on table: PostgresIdentifier) async throws {
        let entity = try await entity(table.parts.last ?? "")
        let compiled = try entity.filterCompiler.compile(filter.condition)
        let query = "\(entity.entitySet)?$select=\(entity.primaryID)&$top=1&$filter=\(DataverseTableEndpoint.escaped(compiled))"
        _ = try await client.send(.get(query))
    }

    func close() async {}

    /// The table `logicalName`'s metadata, read once per session: its entity set, primary id and
    /// attributes, each lookup's targets, and whether the table tracks changes.
    func entity(_ logicalName: String) async throws -> DataverseEntity {
        if let known = entities.withLock({ $0[logicalName] }) { return known }
        guard !logicalName.isEmpty, logicalName.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
            throw SyncFailure(code: .configuration, message: "\"\(logicalName)\" is not a Dataverse table's logical name")
        }
        let definition = try await client.send(.get(
            "EntityDefinitions(LogicalName='\(logicalName)')?$select=LogicalName,EntitySetName,PrimaryIdAttribute,ChangeTrackingEnabled&$expand=Attributes($select=LogicalName,AttributeType)"))
        let lookups = try await client.send(.get(
            "EntityDefinitions(LogicalName='\(logicalName)')/Attributes/Microsoft.Dynamics.CRM.LookupAttributeMetadata?$select=LogicalName,Targets"))
        guard let body = definition.body, let entitySet = body["EntitySetName"]?.stringValue,
              let primaryID = body["PrimaryIdAttribute"]?.stringValue, let attributes = body["Attributes"]?.arrayValue
        else {
            throw SyncFailure(code: .configuration, message: "Dataverse's metadata of \(logicalName) lacks its entity set, primary id or attributes")
        }
        var targets: [String: [String]] = [:]
        for lookup in lookups.body?["value"]?.arrayValue ?? [] {
            guard let name = lookup["LogicalName"]?.stringValue else { continue }
            targets[name] = (lookup["Targets"]?.arrayValue ?? []).compactMap(\.stringValue)
        }
        var kinds: [String: ODataValueKind] = [:]
        for attribute in attributes {
            guard let name = attribute["LogicalName"]?.stringValue, let type = attribute["AttributeType"]?.stringValue else { continue }
            kinds[name] = DataverseEntity.kind(attributeType: type, targets: targets[name] ?? [])
        }
        var entity = DataverseEntity(logicalName: logicalName, entitySet: entitySet, primaryID: primaryID, attributes: kinds)
        entity.tracksChanges = body["ChangeTrackingEnabled"] == .bool(true)
        entities.withLock { $0[logicalName] = entity }
        return entity
    }

    /// The application user Couplet signs in as (`WhoAmI`), in lower case: a record it modified
    /// last was the integration's write.
    func applicationUser() async throws -> String {
        if let known = user.withLock({ $0 }) { return known }
        guard let id = try await client.send(.get("WhoAmI")).body?["UserId"]?.stringValue else {
            throw SyncFailure(code: .serviceFailed, message: "Dataverse's WhoAmI did not name the application user")
        }
        user.withLock { $0 = id.lowercased() }
        return id.lowercased()
    }
}
