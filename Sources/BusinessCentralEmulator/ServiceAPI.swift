import EmulatorSupport
import Foundation
import Logging
import Postgres
import Synchronization

/// The API under `…/api/v2.0/`: companies, their entity sets, `$metadata`.
///
/// Every request runs on a pooled connection; a request inside a `$batch` atomicity group (or a batch
/// with `Isolation: snapshot`) runs on the batch's connection, inside its transaction.
final class ServiceAPI: Sendable {
    let settings: BusinessCentralEmulator.Configuration
    let pool: PostgresConnectionPool
    let logger: Logger
    private let catalogState: Mutex<Catalog>

    /// The bookkeeping of row versions (the etags).
    static let rowVersions = RowVersions(schema: "business_central_emulator")

    init(settings: BusinessCentralEmulator.Configuration, pool: PostgresConnectionPool, catalog: Catalog, logger: Logger) {
        self.settings = settings
        self.pool = pool
        self.logger = logger
        self.catalogState = Mutex(catalog)
    }

    /// The companies and entity sets served.
    var catalog: Catalog {
        get { catalogState.withLock { $0 } }
        set { catalogState.withLock { $0 = newValue } }
    }

    // MARK: Dispatch

    /// Answers one request; `root` is the API root the client used (`http://…/v2.0/{tenant}/{environment}/api/v2.0/`),
    /// `connection` the batch's, if inside a transaction of one.
    func handle(_ request: EmulatorRequest, root: String, connection: PostgresConnection? = nil) async -> EmulatorResponse {
        do {
            return try await route(request, root: root, connection: connection)
        } catch let error as BusinessCentralError {
            return error.response
        } catch let error as PostgresError {
            return translate(error, request: request).response
        } catch {
            logger.error("emulator request failed", metadata: ["error": "\(error)"])
            return BusinessCentralError(.internalServerError, code: "Internal_ServerError", "An unexpected error occurred.").response
        }
    }

    private func route(_ request: EmulatorRequest, root: String, connection: PostgresConnection?) async throws -> EmulatorResponse {
        let segments = ResourcePath(request.resource).segments
        let catalog = self.catalog
        guard let first = segments.first else {
            guard request.method == .get else { throw BusinessCentralError.methodNotAllowed(request.method, "api") }
            return serviceDocument(root: root)
        }
        if first.name == "$metadata", segments.count == 1 {
            guard request.method == .get else { throw BusinessCentralError.methodNotAllowed(request.method, "$metadata") }
            return EmulatorResponse(status: .ok, body: MetadataDocument(catalog: catalog).xml, contentType: "application/xml")
        }
        guard first.name == "companies" else { throw BusinessCentralError.segmentNotFound(first.name) }
        try QueryOptions.rejectUnknown(request)
        let target = try resolve(Array(segments.dropFirst()), company: first.key, catalog: catalog)
        return try await withConnection(connection) { connection in
            try await self.dispatch(request, target: target, root: root, connection: connection)
        }
    }

    /// What a path names: an entity set of a company (or the companies), a record of it, or its count.
    struct Target {
        let set: EntitySet
        /// The path of the set from the API root: `companies(<id>)/customers`, or `companies`.
        let path: String
        let id: String?
        let isCount: Bool
    }

    private func resolve(_ rest: [ResourcePath.Segment], company key: String?, catalog: Catalog) throws(BusinessCentralError) -> Target {
        guard let key else {
            guard rest.isEmpty || (rest.count == 1 && rest[0].name == "$count") else { throw .segmentNotFound(rest[0].name) }
            return Target(set: catalog.companySet, path: "companies", id: nil, isCount: !rest.isEmpty)
        }
        let companyID = try Self.guid(key)
        guard let company = catalog.company(id: companyID) else { throw .notFound }
        guard let segment = rest.first else {
            return Target(set: catalog.companySet, path: "companies", id: companyID, isCount: false)
        }
        guard let set = company.entitySets[segment.name] else { throw .segmentNotFound(segment.name) }
        let path = "companies(\(company.id))/\(set.name)"
        switch rest.count {
        case 1: return Target(set: set, path: path, id: try segment.key.map(Self.guid), isCount: false)
        case 2 where rest[1].name == "$count" && segment.key == nil: return Target(set: set, path: path, id: nil, isCount: true)
        default: throw .segmentNotFound(rest[1].name)
        }
    }

    private func dispatch(_ request: EmulatorRequest, target: Target, root: String, connection: PostgresConnection) async throws
        -> EmulatorResponse
    {
        let reader = Reader(api: self, set: target.set, path: target.path, root: root, connection: connection)
        let writer = Writer(api: self, set: target.set, reader: reader, connection: connection)
        switch (request.method, target.id, target.isCount) {
        case (.get, nil, false): return try await reader.collection(request)
        case (.get, nil, true): return try await reader.count(request)
        case (.get, let id?, false): return try await reader.record(id, request: request)
        case (.post, nil, false) where target.set.isVersioned: return try await writer.create(request)
        case (.patch, let id?, false) where target.set.isVersioned: return try await writer.update(id, request: request)
        case (.delete, let id?, false) where target.set.isVersioned: return try await writer.delete(id, request: request)
        default: throw BusinessCentralError.methodNotAllowed(request.method, target.set.name)
        }
    }

    /// Runs `body` on the given connection, else on a pooled one.
    private func withConnection<T: Sendable>(
        _ connection: PostgresConnection?, _ body: @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        if let connection { return try await body(connection) }
        return try await pool.withConnection { try await body($0) }
    }

    /// The service document: `companies`, then every entity set, as the API root lists them.
    private func serviceDocument(root: String) -> EmulatorResponse {
        let names = ["companies"] + catalog.allEntitySets.map(\.name)
        let sets = names.map { name -> JSONValue in
            .object([("name", .string(name)), ("kind", .string("EntitySet")), ("url", .string(name))])
        }
        return .json(.ok, .object([("@odata.context", .string(root + "$metadata")), ("value", .array(sets))]))
    }

    /// A key's guid, lower case; anything else is the documented invalid-guid error.
    static func guid(_ key: String) throws(BusinessCentralError) -> String {
        guard let uuid = UUID(uuidString: key.trimmingCharacters(in: CharacterSet(charactersIn: "{}"))) else {
            throw BusinessCentralError(
                .badRequest, code: "Application_InvalidGUID",
                "Invalid format of GUID string. The correct format of the GUID string is: CDEF7890-ABCD-0123-1234-567890ABCDEF where 0-9, A-F symbolizes hexadecimal digits.")
        }
        return uuid.uuidString.lowercased()
    }

    // MARK: Errors

    /// A database error as the service reports it, naming the field.
    func translate(_ error: PostgresError, request: EmulatorRequest) -> BusinessCentralError {
        let segments = ResourcePath(request.resource).segments
        let company = segments.first?.key.flatMap { catalog.company(id: $0.lowercased()) }
        let type = segments.count > 1 ? BusinessCentralEmulator.entityTypeName(segments[1].name) : "record"
        let constraint = error.constraintName ?? "unknown"
        let fields = error.columnName.map { [$0] } ?? company?.constraintColumns[constraint] ?? []
        let named = fields.joined(separator: ", ")
        switch error.sqlState {
        case "23502":
            return BusinessCentralError(.badRequest, code: "BadRequest_RequiredParamNotProvided", "Field '\(named)' must not be blank or empty.")
        case "23503" where request.method == .delete:
            return BusinessCentralError(
                .badRequest, code: "Application_DialogException",
                "You cannot delete the \(type) because other records refer to it (\(constraint)).")
        case "23503":
            let key = Self.key(in: error.detail)
            return BusinessCentralError(
                .badRequest, code: "Internal_InvalidTableRelation",
                "The field \(named) of table \(type) contains a value (\(key?.values ?? "")) that cannot be found in the related table (\(key?.table ?? "")).")
        case "23505":
            let identification = Self.key(in: error.detail).map { "\($0.fields)='\($0.values)'" } ?? named
            return BusinessCentralError(
                .badRequest, code: "Internal_EntityWithSameKeyExists",
                "The \(type) already exists. Identification fields and values: \(identification)")
        case "23514", "23P01":
            return BusinessCentralError(
                .badRequest, code: "Application_FieldValidationException",
                "The value of \(named) of the \(type) does not meet the rule '\(constraint)'.")
        case let state? where state.hasPrefix("22"):
            return BusinessCentralError(.badRequest, code: "BadRequest", "The value is not valid for the \(type): \(error.message)")
        case "40001", "40P01", "55P03":
            return BusinessCentralError(.serviceUnavailable, code: "Internal_ServerError", "The request could not be completed; try again.")
        default:
            logger.error("emulator database error", metadata: ["error": "\(error)"])
            return BusinessCentralError(.internalServerError, code: "Internal_ServerError", "An unexpected error occurred.")
        }
    }
}

extension ServiceAPI {
    /// The fields, values and referenced table of a key violation's detail: `Key (number)=(N1) already exists.`,
    /// `Key ("currencyId")=(…) is not present in table "currencies".`
    static func key(in detail: String?) -> (fields: String, values: String, table: String)? {
        guard let detail, let match = detail.firstMatch(of: /Key \((.*)\)=\((.*)\) (?:already exists|is not present in table "(.*)")/) else {
            return nil
        }
        return (match.1.replacingOccurrences(of: "\"", with: ""), String(match.2), match.3.map(String.init) ?? "")
    }
}

/// The query options the API takes; others are refused.
enum QueryOptions {
    static let known: Set = ["$select", "$filter", "$orderby", "$top", "$skip", "$count", "$skiptoken", "$schemaversion"]

    /// Refuses `$expand` (not emulated) and options the service does not know.
    static func rejectUnknown(_ request: EmulatorRequest) throws(BusinessCentralError) {
        for (name, _) in request.query where name.hasPrefix("$") && !known.contains(name) {
            if name == "$expand" { throw .badRequest("The emulator does not support $expand.") }
            throw .querySyntax("The query parameter '\(name)' is not supported.")
        }
    }
}
