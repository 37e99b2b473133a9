import EmulatorSupport
import Foundation
import HTTPTypes
import Postgres
import Synchronization

/// Record ids the emulator assigns: increasing (a millisecond clock, then a counter, then random bits, as
/// UUID version 7 lays them out), so records read back in creation order when no `$orderby` is given, as
/// Dataverse's sequential ids do.
enum SequentialID {
    private static let last = Mutex<(milliseconds: UInt64, counter: UInt16)>((0, 0))

    /// The next id, lowercase.
    static func next() -> String {
        let now = UInt64(Date().timeIntervalSince1970 * 1000)
        let (milliseconds, counter) = last.withLock { last -> (UInt64, UInt16) in
            if now > last.milliseconds {
                last = (now, 0)
            } else if last.counter == 0x0FFF {
                last = (last.milliseconds + 1, 0)
            } else {
                last.counter += 1
            }
            return last
        }
        var bytes = [UInt8](repeating: 0, count: 16)
        for index in 0..<6 { bytes[index] = UInt8(truncatingIfNeeded: milliseconds >> (8 * (5 - index))) }
        bytes[6] = 0x70 | UInt8(truncatingIfNeeded: counter >> 8)
        bytes[7] = UInt8(truncatingIfNeeded: counter)
        var generator = SystemRandomNumberGenerator()
        for index in 8..<16 { bytes[index] = UInt8.random(in: 0...255, using: &generator) }
        bytes[8] = 0x80 | (bytes[8] & 0x3F)
        let uuid = UUID(uuid: (
            bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
            bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
        return uuid.uuidString.lowercased()
    }
}

/// Creates, updates, upserts and deletes records, with Dataverse's conditional headers and lookups
/// written as `<name>@odata.bind`.
struct RecordWriter {
    let api: WebAPI
    let entity: EntityInfo
    let connection: PostgresConnection
    /// Content-ID references of the enclosing change set (`1` → `accounts(<id>)`).
    let references: [String: String]

    // MARK: Requests

    /// `POST <entityset>`: 204 with `OData-EntityId`, or 201 with the record under `return=representation`.
    func create(_ request: APIRequest) async throws -> APIResponse {
        let members = try payload(request)
        return try await connection.withTransaction { _ in
            var columns = try await self.columns(from: members)
            let id: String
            if let supplied = columns.first(where: { $0.name == entity.primaryIdAttribute }) {
                guard let value = supplied.value else { throw DataverseError.payload(entity.logicalName, "The primary key cannot be null.") }
                id = value.lowercased()
            } else {
                id = SequentialID.next()
                columns.append((entity.primaryIdAttribute, id))
            }
            try await insert(columns)
            return try await written(id, request: request, createdStatus: .created)
        }
    }

    /// `PATCH <entityset>(<id>)`: update, or upsert without `If-Match`; `If-Match: *` forbids the create,
    /// `If-Match: W/"v"` requires that version, `If-None-Match: *` forbids the update.
    func update(_ id: String, request: APIRequest) async throws -> APIResponse {
        let members = try payload(request)
        let ifMatch = request.header("if-match")
        let ifNoneMatch = request.header("if-none-match").flatMap { $0 == "null" ? nil : $0 }
        return try await connection.withTransaction { _ in
            let current = try await currentVersion(id, lock: true)
            var columns = try await self.columns(from: members).filter { $0.name != entity.primaryIdAttribute || $0.value?.lowercased() == id }
            if let current {
                if ifNoneMatch == "*" { throw DataverseError.upsertPrevented }
                if let ifMatch, ifMatch != "*", ifMatch != "W/\"\(current)\"" { throw DataverseError.versionMismatch }
                try await updateRow(id, columns: columns)
                return try await written(id, request: request, createdStatus: .ok)
            }
            if ifMatch != nil { throw DataverseError.recordNotFound(entity.logicalName, id) }
            columns.removeAll { $0.name == entity.primaryIdAttribute }
            columns.append((entity.primaryIdAttribute, id))
            try await insert(columns)
            return try await written(id, request: request, createdStatus: .created)
        }
    }

    /// `DELETE <entityset>(<id>)`, with an optional `If-Match`.
    func delete(_ id: String, request: APIRequest) async throws -> APIResponse {
        try await connection.withTransaction { _ in
            guard let current = try await currentVersion(id, lock: true) else { throw DataverseError.recordNotFound(entity.logicalName, id) }
            if let ifMatch = request.header("if-match"), ifMatch != "*", ifMatch != "W/\"\(current)\"" { throw DataverseError.versionMismatch }
            let key = try PostgresIdentifier(entity.primaryIdAttribute)
            try await connection.query("DELETE FROM \(entity.table) t WHERE t.\(key) = \(id)::uuid", name: "emulator delete")
            return .noContent()
        }
    }

    /// `PUT <entityset>(<id>)/<property>` with `{"value": …}`, or `DELETE` to clear it.
    func writeProperty(_ id: String, name: String, request: APIRequest) async throws -> APIResponse {
        guard let attribute = entity.attribute(named: name), attribute.lookup == nil, !attribute.isLookupType,
            attribute.name != entity.primaryIdAttribute
        else { throw DataverseError.unknownProperty(name, entity: entity.logicalName) }
        var value: String?
        if request.method == .put {
            guard let member = try payload(request).first(where: { $0.0 == "value" }) else {
                throw DataverseError.payload(entity.logicalName, "The body must be {\"value\": …}.")
            }
            value = try Self.text(member.1, for: attribute, entity: entity.logicalName)
        }
        return try await connection.withTransaction { _ in
            guard try await currentVersion(id, lock: true) != nil else { throw DataverseError.recordNotFound(entity.logicalName, id) }
            try await updateRow(id, columns: [(attribute.name, value)])
            return .noContent()
        }
    }

    /// `PUT <entityset>(<id>)/<lookup>/$ref` with `{"@odata.id": …}`, or `DELETE` to clear the lookup.
    func writeReference(_ id: String, name: String, request: APIRequest) async throws -> APIResponse {
        guard let attribute = entity.attribute(named: name), let lookup = attribute.lookup else {
            throw DataverseError.unknownProperty(name, entity: entity.logicalName)
        }
        var columns: [(name: String, value: String?)] = [(attribute.name, nil)]
        if request.method == .put {
            guard let target = try payload(request).first(where: { $0.0 == "@odata.id" })?.1.stringValue else {
                throw DataverseError.payload(entity.logicalName, "The body must be {\"@odata.id\": …}.")
            }
            columns = try await bind(attribute, lookup: lookup, reference: target)
        }
        return try await connection.withTransaction { _ in
            guard try await currentVersion(id, lock: true) != nil else { throw DataverseError.recordNotFound(entity.logicalName, id) }
            try await updateRow(id, columns: columns)
            return .noContent()
        }
    }

    // MARK: Responses

    /// 204 with `OData-EntityId`, or the record under `Prefer: return=representation`.
    private func written(_ id: String, request: APIRequest, createdStatus: HTTPResponse.Status) async throws -> APIResponse {
        let location = api.serviceRoot + "\(entity.entitySetName)(\(id))"
        guard request.preferences["return"] == "representation" else { return .noContent(headers: [("OData-EntityId", location)]) }
        let annotations = AnnotationFilter(request.preferences["odata.include-annotations"])
        let plan = try ReadPlan(entity: entity, select: request.option("$select"), annotations: annotations, catalog: api.catalog)
        guard let row = try await Reader(api: api, entity: entity, connection: connection).fetch(id, plan: plan) else {
            throw DataverseError.recordNotFound(entity.logicalName, id)
        }
        // As the create and update examples show: the context names no selection (unless with $expand, as the
        // associate-on-create example shows), and no OData-EntityId is sent.
        let expansions = try Expansion.parse(request.option("$expand"), entity: entity)
        let selection = expansions.isEmpty ? "" : Reader.contextSelection(plan, expansions)
        let context = api.serviceRoot + "$metadata#\(entity.entitySetName)\(selection)/$entity"
        let record = try await Expansion.apply(expansions, to: [plan.render(row, context: context)], entity: entity, api: api, connection: connection)
        return .json(createdStatus, record.first ?? .null, headers: [("Preference-Applied", "return=representation")])
    }

    // MARK: SQL

    private func currentVersion(_ id: String, lock: Bool) async throws -> String? {
        let key = try PostgresIdentifier(entity.primaryIdAttribute)
        return try await DataverseEmulator.rowVersions.lockedVersion(
            of: id, in: entity.table, schema: entity.schema, entity: entity.logicalName, key: key, on: connection)
    }

    private func insert(_ columns: [(name: String, value: String?)]) async throws {
        try await RowStatements.insert(into: entity.table, columns, on: connection)
    }

    private func updateRow(_ id: String, columns: [(name: String, value: String?)]) async throws {
        try await RowStatements.update(entity.table, key: try PostgresIdentifier(entity.primaryIdAttribute), id: id, columns, on: connection)
    }

    // MARK: Payloads

    /// The request body as a JSON object's members.
    private func payload(_ request: APIRequest) throws(DataverseError) -> [(String, JSONValue)] {
        let text = String(decoding: request.body, as: UTF8.self)
        let value: JSONValue
        do {
            value = try JSONValue.parse(text.isEmpty ? "{}" : text)
        } catch {
            throw DataverseError.badRequest("The request body is not valid JSON: \(error.description).")
        }
        guard let members = value.objectMembers else { throw DataverseError.badRequest("The request body must be a JSON object.") }
        return members
    }

    /// Column values for a payload: attributes by logical name, lookups only through `@odata.bind`.
    private func columns(from members: [(String, JSONValue)]) async throws -> [(name: String, value: String?)] {
        var columns: [(name: String, value: String?)] = []
        for (key, value) in members {
            if key.hasSuffix("@odata.bind") {
                let navigation = String(key.dropLast("@odata.bind".count))
                guard let (attribute, lookup) = lookupAttribute(navigation: navigation) else {
                    throw DataverseError.payload(
                        entity.logicalName, "An undeclared property '\(navigation)' which only has property annotations in the payload but no property value was found in the payload.")
                }
                if case .null = value {
                    // The type column keeps its value: it may be NOT NULL, and means nothing without an id.
                    columns.append((attribute.name, nil))
                    continue
                }
                guard let reference = value.stringValue else {
                    throw DataverseError.payload(entity.logicalName, "The value of '\(key)' must be a string such as \"/accounts(<guid>)\".")
                }
                columns += try await bind(attribute, lookup: lookup, reference: reference, navigation: navigation)
                continue
            }
            if key.hasPrefix("@") || key.contains("@") { continue }
            guard let attribute = entity.attribute(named: key), !attribute.isLookupType, attribute.lookup == nil else {
                if entity.attribute(named: key)?.lookup != nil {
                    throw DataverseError.payload(
                        entity.logicalName, "A 'PrimitiveValue' node with non-null value was found when trying to read the value of the navigation property '\(key)'; set a lookup with '\(key)@odata.bind'.")
                }
                throw DataverseError(
                    .badRequest, code: "0x80060888",
                    "The property '\(key)' does not exist on type 'Microsoft.Dynamics.CRM.\(entity.logicalName)'. Make sure to only use property names that are defined by the type.")
            }
            columns.append((attribute.name, try Self.text(value, for: attribute, entity: entity.logicalName)))
        }
        return columns
    }

    /// The lookup a navigation property names: `<name>`, or `<name>_<target>` for a multi-target lookup.
    private func lookupAttribute(navigation: String) -> (AttributeInfo, LookupInfo)? {
        if let attribute = entity.attribute(named: navigation), let lookup = attribute.lookup { return (attribute, lookup) }
        for attribute in entity.attributes {
            guard let lookup = attribute.lookup, lookup.targets.count > 1 else { continue }
            for target in lookup.targets
            where navigation == "\(attribute.name)_\(target)" || navigation == "\(attribute.name)_\(target)_\(entity.logicalName)" {
                return (attribute, LookupInfo(targets: [target], typeColumn: lookup.typeColumn))
            }
        }
        return nil
    }

    /// Columns that point `attribute` at the record `reference` names, after checking the target.
    private func bind(_ attribute: AttributeInfo, lookup: LookupInfo, reference: String, navigation: String? = nil) async throws
        -> [(name: String, value: String?)]
    {
        let (target, id) = try resolve(reference)
        guard lookup.targets.contains(target.logicalName) else {
            throw DataverseError.payload(
                entity.logicalName,
                "The entity set '\(target.entitySetName)' is not a valid target of '\(navigation ?? attribute.name)' (targets: \(lookup.targets.joined(separator: ", "))).")
        }
        let key = try PostgresIdentifier(target.primaryIdAttribute)
        let exists = try await connection.query("SELECT FROM \(target.table) x WHERE x.\(key) = \(id)::uuid", name: "emulator bind check")
        guard !exists.isEmpty else {
            throw DataverseError(.badRequest, code: "0x80040217", "\(target.logicalName) With Id = \(id) Does Not Exist")
        }
        var columns: [(name: String, value: String?)] = [(attribute.name, id)]
        if let typeColumn = lookup.typeColumn { columns.append((typeColumn, target.logicalName)) }
        return columns
    }

    /// The entity and id a bind value names: `/accounts(<id>)`, `accounts(<id>)`, an absolute URL, or `$<Content-ID>`.
    private func resolve(_ reference: String) throws(DataverseError) -> (EntityInfo, String) {
        var path = reference
        if path.hasPrefix("$"), let resolved = references[String(path.dropFirst())] { path = resolved }
        if let range = path.range(of: "/api/data/") {
            path = String(path[range.upperBound...])
            if let slash = path.firstIndex(of: "/") { path = String(path[path.index(after: slash)...]) }
        }
        while path.hasPrefix("/") { path.removeFirst() }
        let segments = Path(path).segments
        guard segments.count == 1, let key = segments[0].key, let target = api.catalog.entitySets[segments[0].name] else {
            throw DataverseError.payload(entity.logicalName, "The reference '\(reference)' does not name a record such as /accounts(<guid>).")
        }
        return (target, try WebAPI.guid(key, segment: segments[0].name))
    }

    /// A JSON value as the text Postgres takes for `attribute`; refuses values of the wrong JSON type.
    static func text(_ value: JSONValue, for attribute: AttributeInfo, entity: String) throws(DataverseError) -> String? {
        func mismatch() -> DataverseError {
            DataverseError.payload(entity, "Cannot convert the literal '\(value.serialized)' to the expected type '\(edmType(attribute.kind))' of '\(attribute.name)'.")
        }
        switch (value, attribute.kind) {
        case (.null, _): return nil
        case (.number(let text), let kind) where kind.isNumeric: return text
        case (.string(let text), let kind) where kind.isNumeric && Double(text) != nil: return text
        case (.bool(let flag), .boolean): return flag ? "true" : "false"
        case (.string(let text), .string), (.string(let text), .memo):
            if let maxLength = attribute.maxLength, text.count > maxLength {
                throw DataverseError(
                    .badRequest, code: "0x80044331",
                    "A validation error occurred.  The length of the '\(attribute.name)' attribute of the '\(entity)' entity exceeded the maximum allowed length of '\(maxLength)'.")
            }
            return text
        case (.string(let text), .uniqueidentifier):
            guard let uuid = UUID(uuidString: text) else { throw mismatch() }
            return uuid.uuidString.lowercased()
        case (.string(let text), .dateTime), (.string(let text), .dateOnly): return text
        case (.string(let text), .other): return text
        case (_, .other): return value.serialized
        default: throw mismatch()
        }
    }

    static func edmType(_ kind: AttributeKind) -> String {
        switch kind {
        case .uniqueidentifier: return "Edm.Guid"
        case .string, .memo: return "Edm.String"
        case .integer: return "Edm.Int32"
        case .bigInt: return "Edm.Int64"
        case .decimal: return "Edm.Decimal"
        case .double: return "Edm.Double"
        case .boolean: return "Edm.Boolean"
        case .dateTime: return "Edm.DateTimeOffset"
        case .dateOnly: return "Edm.Date"
        case .other: return "Edm.Untyped"
        }
    }
}
