import EmulatorSupport
import Foundation
import Logging
import Postgres
import Synchronization

/// The Dataverse Web API over one Postgres schema: entity sets, records, metadata, change tracking.
///
/// Every request runs on a pooled connection; a request inside a `$batch` change set runs on the
/// change set's connection, inside its transaction.
final class WebAPI: Sendable {
    let settings: DataverseEmulator.Configuration
    let pool: PostgresConnectionPool
    let logger: Logger
    private let catalogState: Mutex<Catalog>
    private let deltaTokens = Mutex<[String: Date]>([:])
    private let deltaTokensExpiredAt = Mutex<Date?>(nil)
    private let baseURLState = Mutex("")

    init(settings: DataverseEmulator.Configuration, pool: PostgresConnectionPool, catalog: Catalog, logger: Logger) {
        self.settings = settings
        self.pool = pool
        self.logger = logger
        self.catalogState = Mutex(catalog)
    }

    /// The entities served.
    var catalog: Catalog {
        get { catalogState.withLock { $0 } }
        set { catalogState.withLock { $0 = newValue } }
    }

    /// The environment URL without a trailing slash (`http://127.0.0.1:PORT`).
    var environmentURL: String {
        get { baseURLState.withLock { $0 } }
        set { baseURLState.withLock { $0 = newValue } }
    }

    /// `<environment>/api/data/v9.2/`.
    var serviceRoot: String { environmentURL + "/api/data/v9.2/" }

    /// Expires every delta token issued so far.
    func expireDeltaTokens() {
        deltaTokensExpiredAt.withLock { $0 = Date() }
    }

    // MARK: Dispatch

    /// Answers one request; `connection` is the change set's, if inside one.
    func handle(_ request: APIRequest, connection: PostgresConnection? = nil, references: [String: String] = [:]) async
        -> APIResponse
    {
        do {
            return try await route(request, connection: connection, references: references)
        } catch let error as DataverseError {
            return .error(error)
        } catch let error as PostgresError {
            return .error(translate(error, request: request))
        } catch {
            logger.error("emulator request failed", metadata: ["error": "\(error)"])
            return .error(DataverseError(.internalServerError, code: "0x80040216", "An unexpected error occurred."))
        }
    }

    private func route(_ request: APIRequest, connection: PostgresConnection?, references: [String: String]) async throws
        -> APIResponse
    {
        let path = Path(request.resource)
        if path.segments.isEmpty { return serviceDocument() }
        let first = path.segments[0]
        if first.name == "EntityDefinitions" {
            guard request.method == .get else { throw methodNotAllowed() }
            return try MetadataEndpoints(catalog: catalog, serviceRoot: serviceRoot).answer(path: path, request: request)
        }
        if first.name == "$metadata" {
            throw DataverseError(.notImplemented, code: "0x0", "The emulator does not serve the CSDL $metadata document.")
        }
        guard let entity = catalog.entitySets[first.name] else { throw DataverseError.segmentNotFound(first.name) }
        try rejectUnsupportedOptions(request)
        let id = try first.key.map { key throws(DataverseError) in try Self.guid(key, segment: first.name) }
        return try await withConnection(connection) { connection in
            try await self.dispatch(request, entity: entity, id: id, rest: Array(path.segments.dropFirst()), connection: connection, references: references)
        }
    }

    private func dispatch(
        _ request: APIRequest, entity: EntityInfo, id: String?, rest: [Path.Segment], connection: PostgresConnection,
        references: [String: String]
    ) async throws -> APIResponse {
        let writer = RecordWriter(api: self, entity: entity, connection: connection, references: references)
        switch (request.method, id, rest.count) {
        case (.get, nil, 0): return try await Reader(api: self, entity: entity, connection: connection).collection(request)
        case (.get, let id?, 0): return try await Reader(api: self, entity: entity, connection: connection).record(id, request: request)
        case (.get, nil, 1) where rest[0].name == "$count":
            return try await Reader(api: self, entity: entity, connection: connection).countOnly(request)
        case (.get, let id?, 1): return try await Reader(api: self, entity: entity, connection: connection).property(id, name: rest[0].name)
        case (.post, nil, 0): return try await writer.create(request)
        case (.patch, let id?, 0): return try await writer.update(id, request: request)
        case (.delete, let id?, 0): return try await writer.delete(id, request: request)
        case (.put, let id?, 1), (.delete, let id?, 1): return try await writer.writeProperty(id, name: rest[0].name, request: request)
        case (.put, let id?, 2) where rest[1].name == "$ref", (.delete, let id?, 2) where rest[1].name == "$ref":
            return try await writer.writeReference(id, name: rest[0].name, request: request)
        default: throw methodNotAllowed()
        }
    }

    private func methodNotAllowed() -> DataverseError {
        DataverseError(.methodNotAllowed, code: "0x80060888", "The HTTP method is not allowed on this resource.")
    }

    /// Runs `body` on the given connection, else on a pooled one.
    private func withConnection<T: Sendable>(
        _ connection: PostgresConnection?, _ body: @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        if let connection { return try await body(connection) }
        return try await pool.withConnection { try await body($0) }
    }

    /// Query options Dataverse does not support, or the emulator does not.
    private func rejectUnsupportedOptions(_ request: APIRequest) throws(DataverseError) {
        if request.option("$skip") != nil {
            throw DataverseError(.badRequest, code: "0x0", "The query parameter $skip is not supported")
        }
        for option in ["$apply", "$search", "$compute", "$format"] where request.option(option) != nil {
            throw DataverseError(.badRequest, code: "0x0", "The emulator does not support the query option \(option).")
        }
        let known: Set = ["$select", "$filter", "$orderby", "$top", "$count", "$skiptoken", "$deltatoken", "$expand"]
        if let unknown = request.query.map(\.0).first(where: { $0.hasPrefix("$") && !known.contains($0) }) {
            throw DataverseError(.badRequest, code: "0x0", "The query parameter \(unknown) is not supported")
        }
    }

    private func serviceDocument() -> APIResponse {
        let sets = catalog.entitySets.keys.sorted().map { name -> JSONValue in
            .object([("name", .string(name)), ("kind", .string("EntitySet")), ("url", .string(name))])
        }
        return .json(.ok, .object([("@odata.context", .string(serviceRoot + "$metadata")), ("value", .array(sets))]))
    }

    /// A key segment's guid, lowercased.
    static func guid(_ key: String, segment: String) throws(DataverseError) -> String {
        let trimmed = key.trimmingCharacters(in: CharacterSet(charactersIn: "{}"))
        guard let uuid = UUID(uuidString: trimmed) else {
            throw DataverseError.badRequest("The key '\(key)' of '\(segment)' is not a guid (alternate keys are not emulated).")
        }
        return uuid.uuidString.lowercased()
    }

    // MARK: Delta tokens

    /// A delta token for a database snapshot: `<snapshot>!<MM/dd/yyyy HH:mm:ss>` (UTC), after the documentation's
    /// `<version>!<date>`; the snapshot (`xmin:xmax:running,…`) lets the next delta return exactly the changes its
    /// transactions did not see, however late they commit.
    func issueDeltaToken(xmin: String) -> String {
        let now = Date()
        let token = xmin + "!" + Self.tokenDate.string(from: now)
        deltaTokens.withLock { tokens in
            if tokens.count > 10_000 { tokens = tokens.filter { now.timeIntervalSince($0.value) < self.settings.deltaTokenLifetime } }
            tokens[token] = now
        }
        return token
    }

    /// The `xmin` of a valid delta token; an expired or malformed one is refused.
    func validateDeltaToken(_ token: String) throws(DataverseError) -> String {
        let parts = token.split(separator: "!", maxSplits: 1).map(String.init)
        guard parts.count == 2, Self.isSnapshot(parts[0]), let written = Self.tokenDate.date(from: parts[1]) else {
            throw DataverseError.badRequest("The delta token '\(token)' is not valid.")
        }
        let issued = deltaTokens.withLock { $0[token] } ?? written
        let expiredAt = deltaTokensExpiredAt.withLock { $0 }
        if Date().timeIntervalSince(issued) > settings.deltaTokenLifetime || expiredAt.map({ issued <= $0 }) == true {
            throw DataverseError(
                .badRequest, code: "0x80044352", "Version stamp associated with the client has expired. Please perform a full sync.")
        }
        return parts[0]
    }

    /// True for a `pg_snapshot` text: `xmin:xmax:` and a comma-separated list of running transaction ids.
    static func isSnapshot(_ text: String) -> Bool {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, UInt64(parts[0]) != nil, UInt64(parts[1]) != nil, parts[2].count < 10_000 else { return false }
        return parts[2].isEmpty || parts[2].split(separator: ",").allSatisfy { UInt64($0) != nil }
    }

    private static let tokenDate: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "MM/dd/yyyy HH:mm:ss"
        return formatter
    }()

    // MARK: Errors

    /// A database error as the Web API reports it, naming the column where Postgres says.
    func translate(_ error: PostgresError, request: APIRequest) -> DataverseError {
        let entity = Path(request.resource).segments.first.flatMap { catalog.entitySets[$0.name]?.logicalName } ?? "entity"
        let constraint = error.constraintName ?? "unknown"
        let columns = error.columnName.map { [$0] } ?? catalog.constraintColumns[constraint] ?? []
        let named = columns.isEmpty ? "" : " of the '\(columns.joined(separator: "', '"))' attribute"
        switch error.sqlState {
        case "23505": return .duplicate
        case "23502":
            return DataverseError(
                .badRequest, code: "0x80044331",
                "A validation error occurred.  The value\(named) of the '\(entity)' entity cannot be null.")
        case "23503":
            return DataverseError(
                .badRequest, code: "0x80044331",
                "A validation error occurred.  The record referenced by the value\(named) of the '\(entity)' entity does not exist (constraint '\(constraint)').")
        case "23514", "23P01":
            return DataverseError(
                .badRequest, code: "0x80044331",
                "A validation error occurred.  The value\(named) of the '\(entity)' entity violates the constraint '\(constraint)'.")
        case let state? where state.hasPrefix("22"):
            return DataverseError.payload(entity, error.message)
        case "40001", "40P01", "55P03":
            return DataverseError(.serviceUnavailable, code: "0x80040216", "The request could not be completed; try again.")
        default:
            logger.error("emulator database error", metadata: ["error": "\(error)"])
            return DataverseError(.internalServerError, code: "0x80040216", "An unexpected error occurred.")
        }
    }
}

/// The Web API's resource paths are the shared ones.
typealias Path = ResourcePath
