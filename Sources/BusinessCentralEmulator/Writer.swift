import EmulatorSupport
import Foundation
import Postgres

/// Creates, updates and deletes records as the API does: `POST` answers 201 with the created entity
/// (column defaults applied), `PATCH` 200 with the updated one, `DELETE` 204; `PATCH` and `DELETE`
/// require `If-Match` (`*` or the record's etag).
struct Writer {
    let api: ServiceAPI
    let set: EntitySet
    let reader: Reader
    let connection: PostgresConnection

    /// `POST <set>`: the client may give `id` (as the create examples do); else the emulator assigns one.
    func create(_ request: EmulatorRequest) async throws -> EmulatorResponse {
        var columns = try values(from: try payload(request))
        let id = columns.first { $0.name == "id" }.flatMap(\.value) ?? UUID().uuidString.lowercased()
        columns.removeAll { $0.name == "id" }
        columns.insert(("id", id), at: 0)
        return try await connection.withTransaction { connection in
            try await insert(columns, on: connection)
            let location = reader.root + reader.path + "(\(id))"
            guard let entity = try await reader.fetch(id, context: reader.root + "$metadata#" + reader.path + "/$entity") else {
                throw BusinessCentralError.notFound
            }
            return Reader.entityResponse(.created, entity, headers: [("Location", location)])
        }
    }

    /// `PATCH <set>(<id>)` with `If-Match`.
    func update(_ id: String, request: EmulatorRequest) async throws -> EmulatorResponse {
        let ifMatch = try requiredETag(request)
        let columns = try values(from: try payload(request))
        if let given = columns.first(where: { $0.name == "id" }), given.value != id {
            throw BusinessCentralError(.badRequest, code: "BadRequest_InvalidOperation", "The property 'id' is read-only.")
        }
        return try await connection.withTransaction { connection in
            try await checkVersion(id, ifMatch: ifMatch, on: connection)
            try await updateRow(id, columns: columns.filter { $0.name != "id" }, on: connection)
            guard let entity = try await reader.fetch(id, context: reader.root + "$metadata#" + reader.path + "/$entity") else {
                throw BusinessCentralError.notFound
            }
            return Reader.entityResponse(.ok, entity)
        }
    }

    /// `DELETE <set>(<id>)` with `If-Match`.
    func delete(_ id: String, request: EmulatorRequest) async throws -> EmulatorResponse {
        let ifMatch = try requiredETag(request)
        return try await connection.withTransaction { connection in
            try await checkVersion(id, ifMatch: ifMatch, on: connection)
            guard let table = set.table else { throw BusinessCentralError.methodNotAllowed(.delete, set.name) }
            try await connection.query("DELETE FROM \(table) t WHERE t.id = \(id)::uuid", name: "emulator delete")
            return .noContent()
        }
    }

    // MARK: Concurrency

    /// The `If-Match` header, which updates and deletes require.
    private func requiredETag(_ request: EmulatorRequest) throws(BusinessCentralError) -> String {
        guard let value = request.header("if-match")?.trimmingCharacters(in: .whitespaces), !value.isEmpty else {
            throw .missingETag
        }
        return value
    }

    /// Locks the record and compares its etag with `ifMatch` (`*` matches any).
    private func checkVersion(_ id: String, ifMatch: String, on connection: PostgresConnection) async throws {
        guard let table = set.table else { throw BusinessCentralError.methodNotAllowed(.patch, set.name) }
        let version = try await ServiceAPI.rowVersions.lockedVersion(
            of: id, in: table, schema: set.schema, entity: set.name, key: try PostgresIdentifier("id"), on: connection)
        guard let version else { throw BusinessCentralError.notFound }
        let offered = ifMatch.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard offered.contains("*") || offered.contains(Reader.etag(version)) else { throw BusinessCentralError.entityChanged }
    }

    // MARK: SQL

    private func insert(_ columns: [RowStatements.Column], on connection: PostgresConnection) async throws {
        guard let table = set.table else { throw BusinessCentralError.methodNotAllowed(.post, set.name) }
        try await RowStatements.insert(into: table, columns, on: connection)
    }

    private func updateRow(_ id: String, columns: [RowStatements.Column], on connection: PostgresConnection) async throws {
        guard let table = set.table else { throw BusinessCentralError.methodNotAllowed(.patch, set.name) }
        try await RowStatements.update(table, key: try PostgresIdentifier("id"), id: id, columns, on: connection)
    }

    // MARK: Payloads

    /// The request body's members.
    private func payload(_ request: EmulatorRequest) throws(BusinessCentralError) -> [(String, JSONValue)] {
        let text = String(decoding: request.body, as: UTF8.self)
        let value: JSONValue
        do {
            value = try JSONValue.parse(text.isEmpty ? "{}" : text)
        } catch {
            throw .invalidBody
        }
        guard let members = value.objectMembers else { throw .invalidBody }
        return members
    }

    /// Column values for a payload: annotations (`@odata.etag`) and read-only properties (`lastModifiedDateTime`)
    /// are ignored, unknown properties refused.
    private func values(from members: [(String, JSONValue)]) throws(BusinessCentralError) -> [(name: String, value: String?)] {
        var columns: [(name: String, value: String?)] = []
        for (name, value) in members where !name.hasPrefix("@") {
            guard let property = set.property(name) else {
                throw .badRequest(
                    "The property '\(name)' does not exist on type 'Microsoft.NAV.\(set.typeName)'. Make sure to only use property names that are defined by the type.")
            }
            guard !property.isReadOnly else { continue }
            columns.append((name, try Values.text(value, for: property)))
        }
        return columns
    }
}
