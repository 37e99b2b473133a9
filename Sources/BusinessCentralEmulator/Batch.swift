import EmulatorSupport
import Foundation
import HTTPTypes
import Postgres

/// `POST …/api/v2.0/$batch` with an OData JSON batch: `{"requests": [{"id", "method", "url", "headers",
/// "body", "dependsOn", "atomicityGroup"}]}`, at most 100 requests, answered `{"responses": [{"id",
/// "status", "headers", "body"}]}` in request order.
///
/// Requests run in order. Without `Prefer: odata.continue-on-error` the batch stops at the first failure
/// (later requests get no response); a request whose `dependsOn` names a failed or skipped request or
/// group answers 424. The requests of one atomicity group (adjacent, as OData requires) run in one
/// transaction: when one fails, none of the group's changes stay, the failing request answers its error
/// and the others 424. With `Isolation: snapshot` the whole batch is one transaction, rolled back when
/// any request failed, as Business Central's transactional batches are.
struct BatchProcessor {
    let api: ServiceAPI
    let root: String
    static let maximumRequests = 100
    /// 424, which OData's JSON batch format gives a request whose dependency failed.
    static let failedDependencyStatus = HTTPResponse.Status(code: 424, reasonPhrase: "Failed Dependency")

    /// One request of the batch.
    struct Item: Sendable {
        let id: String?
        let request: EmulatorRequest
        let dependsOn: [String]
        let group: String?
        /// A `Company` header's company name, for a URL relative to that company.
        let companyName: String?
    }

    /// One response of the batch.
    struct Result: Sendable {
        let id: String?
        let response: EmulatorResponse

        var failed: Bool { response.status.code >= 400 }

        /// `{"id", "status", "headers", "body"}`, header names in lower case as the service writes them.
        var json: JSONValue {
            var headers: [(String, JSONValue)] = []
            if let contentType = response.contentType, response.body != nil {
                headers += [("content-type", .string(contentType)), ("odata-version", .string("4.0"))]
            }
            headers += response.headers.map { ($0.0.lowercased(), .string($0.1)) }
            var members: [(String, JSONValue)] = [
                ("id", id.map(JSONValue.string) ?? .null), ("status", .number(String(response.status.code))), ("headers", .object(headers)),
            ]
            if let body = response.body { members.append(("body", (try? JSONValue.parse(body)) ?? .string(body))) }
            return .object(members)
        }
    }

    /// Thrown out of a transaction to roll it back, carrying what was answered.
    private struct Rollback: Error {
        let results: [Result]
    }

    // MARK: Running

    /// The batch's answer.
    func answer(_ request: EmulatorRequest) async -> EmulatorResponse {
        do {
            guard request.method == .post else { throw BusinessCentralError.methodNotAllowed(request.method, "$batch") }
            let items = try Self.parse(request)
            let continueOnError = ["", "true"].contains(request.preferences["odata.continue-on-error"]?.lowercased() ?? "false")
            let results: [Result]
            if request.header("isolation")?.lowercased() == "snapshot" {
                results = try await runAsOneTransaction(items, continueOnError: continueOnError)
            } else {
                results = await run(items, continueOnError: continueOnError, connection: nil)
            }
            return .json(.ok, .object([("responses", .array(results.map(\.json)))]))
        } catch let error as BusinessCentralError {
            return error.response
        } catch {
            api.logger.error("emulator batch failed", metadata: ["error": "\(error)"])
            return BusinessCentralError(.internalServerError, code: "Internal_ServerError", "An unexpected error occurred.").response
        }
    }

    private func runAsOneTransaction(_ items: [Item], continueOnError: Bool) async throws -> [Result] {
        do {
            return try await api.pool.withConnection { connection in
                try await connection.withTransaction { connection in
                    let results = await run(items, continueOnError: continueOnError, connection: connection)
                    if results.contains(where: \.failed) { throw Rollback(results: results) }
                    return results
                }
            }
        } catch let rollback as Rollback {
            return rollback.results
        }
    }

    /// Runs the items in order, an atomicity group at a time.
    private func run(_ items: [Item], continueOnError: Bool, connection: PostgresConnection?) async -> [Result] {
        var results: [Result] = []
        var succeeded: Set<String> = []
        var index = 0
        while index < items.count {
            let group = items[index].group
            let end = group.map { name in items[index...].firstIndex { $0.group != name } ?? items.endIndex } ?? index + 1
            let members = Array(items[index..<end])
            let answered: [Result]
            if let unmet = members.first(where: { !$0.dependsOn.allSatisfy(succeeded.contains) }) {
                answered = members.map { Result(id: $0.id, response: Self.failedDependency(unmet.dependsOn)) }
            } else if let group {
                answered = await runGroup(group, members, connection: connection)
            } else {
                answered = [Result(id: members[0].id, response: await execute(members[0], connection: connection))]
            }
            results += answered
            if !answered.contains(where: \.failed) {
                succeeded.formUnion(answered.compactMap(\.id))
                if let group { succeeded.insert(group) }
            } else if !continueOnError {
                break
            }
            index = end
        }
        return results
    }

    /// Runs an atomicity group in one transaction (a savepoint inside a snapshot batch).
    private func runGroup(_ name: String, _ members: [Item], connection: PostgresConnection?) async -> [Result] {
        let body: @Sendable (PostgresConnection) async throws -> [Result] = { connection in
            try await connection.withTransaction { connection in
                var results: [Result] = []
                for member in members {
                    let result = Result(id: member.id, response: await execute(member, connection: connection))
                    results.append(result)
                    if result.failed { throw Rollback(results: results) }
                }
                return results
            }
        }
        do {
            if let connection { return try await body(connection) }
            return try await api.pool.withConnection { try await body($0) }
        } catch let rollback as Rollback {
            let failedID = rollback.results.last?.id
            return members.map { member in
                if member.id == failedID, let failure = rollback.results.last { return failure }
                return Result(id: member.id, response: Self.groupFailed(name))
            }
        } catch {
            return members.map { Result(id: $0.id, response: BusinessCentralError(.internalServerError, code: "Internal_ServerError", "\(error)").response) }
        }
    }

    private func execute(_ item: Item, connection: PostgresConnection?) async -> EmulatorResponse {
        do {
            let request = try resolvingCompany(item)
            if request.resource == "$batch" { throw BusinessCentralError.badRequest("A batch cannot contain another batch.") }
            return await api.handle(request, root: root, connection: connection)
        } catch let error as BusinessCentralError {
            return error.response
        } catch {
            return BusinessCentralError(.internalServerError, code: "Internal_ServerError", "\(error)").response
        }
    }

    /// A URL relative to a company (`items(…)` with a `Company` header) made relative to the API root.
    private func resolvingCompany(_ item: Item) throws(BusinessCentralError) -> EmulatorRequest {
        guard let name = item.companyName, !item.request.resource.hasPrefix("companies"), !item.request.resource.hasPrefix("$") else {
            return item.request
        }
        guard let company = api.catalog.company(named: name) else { throw .notFound }
        var request = item.request
        request.resource = "companies(\(company.id))/" + request.resource
        return request
    }

    private static func failedDependency(_ names: [String]) -> EmulatorResponse {
        BusinessCentralError(
            Self.failedDependencyStatus, code: "BadRequest", "The request depends on '\(names.joined(separator: "', '"))', which did not succeed."
        ).response
    }

    private static func groupFailed(_ name: String) -> EmulatorResponse {
        BusinessCentralError(
            Self.failedDependencyStatus, code: "BadRequest", "Another request of the atomicity group '\(name)' failed; none of its changes were kept."
        ).response
    }

    // MARK: Parsing

    /// The batch's requests, checked: a JSON body with at most 100 requests, each with a method and a URL.
    static func parse(_ request: EmulatorRequest) throws(BusinessCentralError) -> [Item] {
        let contentType = request.header("content-type")?.lowercased() ?? ""
        guard contentType.hasPrefix("application/json") else {
            throw .badRequest("The emulator takes JSON batches only (Content-Type: application/json).")
        }
        let text = String(decoding: request.body, as: UTF8.self)
        guard let body = try? JSONValue.parse(text), let requests = body["requests"]?.arrayValue else {
            throw .invalidBody
        }
        guard requests.count <= maximumRequests else {
            throw .badRequest("The batch contains \(requests.count) requests; at most \(maximumRequests) are allowed.")
        }
        return try requests.map(item)
    }

    private static func item(_ json: JSONValue) throws(BusinessCentralError) -> Item {
        guard let methodName = json["method"]?.stringValue, let method = HTTPRequest.Method(methodName.uppercased()),
            let url = json["url"]?.stringValue
        else { throw .badRequest("Each batch request needs a 'method' and a 'url'.") }
        var headers: [(String, String)] = []
        for (name, value) in json["headers"]?.objectMembers ?? [] {
            if let text = value.stringValue { headers.append((name.lowercased(), text)) }
        }
        let body: [UInt8]
        switch json["body"] {
        case nil, .null?: body = []
        case .string(let text)?: body = Array(text.utf8)
        case let value?: body = Array(value.serialized.utf8)
        }
        let (resource, query) = resourceAndQuery(url)
        let id: String? = switch json["id"] {
        case .string(let text)?: text
        case .number(let text)?: text
        default: nil
        }
        return Item(
            id: id, request: EmulatorRequest(method: method, resource: resource, query: query, headers: headers, body: body),
            dependsOn: json["dependsOn"]?.arrayValue?.compactMap(\.stringValue) ?? [], group: json["atomicityGroup"]?.stringValue,
            companyName: headers.first { $0.0 == "company" }?.1)
    }

    /// Splits a batch request URL (absolute, `/v2.0/…/api/v2.0/…`, or relative to the API root) into resource and query.
    static func resourceAndQuery(_ url: String) -> (String, [(String, String)]) {
        let pieces = url.split(separator: "?", maxSplits: 1).map(String.init)
        var path = pieces.first ?? ""
        if let range = path.range(of: "/api/v2.0/") { path = String(path[range.upperBound...]) }
        while path.hasPrefix("/") { path.removeFirst() }
        return (path.removingPercentEncoding ?? path, pieces.count > 1 ? EmulatorRequest.parseQuery(pieces[1]) : [])
    }
}
