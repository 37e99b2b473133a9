import EmulatorSupport
import Foundation
import Postgres

/// One `$expand`ed single-valued navigation property: a lookup, read as the record it points at.
struct Expansion {
    /// The navigation property as written (`primarycontactid`, `parentcustomerid_account`): the member's name.
    let navigation: String
    /// The lookup.
    let attribute: AttributeInfo
    /// The entities the expanded record may be of.
    let targets: [String]
    /// Its `$select`, if any.
    let select: String?

    /// The `name(select)` part of an `@odata.context`.
    var contextPart: String { navigation + "(" + (select ?? "") + ")" }

    /// `$expand=primarycontactid($select=fullname),transactioncurrencyid`: lookups only (the emulator has no
    /// collection-valued navigation properties), with at most a `$select` inside the parentheses.
    static func parse(_ text: String?, entity: EntityInfo) throws(DataverseError) -> [Expansion] {
        guard let text, !text.isEmpty else { return [] }
        return try APIRequest.splitOutsideParentheses(text).map { item throws(DataverseError) in
            let name = String(item.prefix { $0 != "(" }).trimmingCharacters(in: .whitespaces)
            var select: String?
            let options = item.dropFirst(name.count).trimmingCharacters(in: .whitespaces)
            if !options.isEmpty {
                guard options.hasPrefix("("), options.hasSuffix(")"), options.dropFirst().hasPrefix("$select=") else {
                    throw DataverseError.badRequest("The emulator supports only $select inside $expand: '\(item)'.")
                }
                select = String(options.dropFirst("($select=".count).dropLast())
            }
            guard let (attribute, targets) = lookup(navigation: name, entity: entity) else {
                throw DataverseError.unknownProperty(name, entity: entity.logicalName)
            }
            return Expansion(navigation: name, attribute: attribute, targets: targets, select: select)
        }
    }

    /// The lookup a navigation property names: `<name>`, or `<name>_<target>` of a multi-target lookup.
    static func lookup(navigation: String, entity: EntityInfo) -> (AttributeInfo, [String])? {
        if let attribute = entity.attribute(named: navigation), let lookup = attribute.lookup { return (attribute, lookup.targets) }
        for attribute in entity.attributes {
            guard let lookup = attribute.lookup, lookup.targets.count > 1 else { continue }
            if let target = lookup.targets.first(where: { navigation == "\(attribute.name)_\($0)" }) { return (attribute, [target]) }
        }
        return nil
    }

    /// Adds each expansion's record (or null) to `records`, which are rendered records of `entity`.
    static func apply(
        _ expansions: [Expansion], to records: [JSONValue], entity: EntityInfo, api: WebAPI, connection: PostgresConnection
    ) async throws -> [JSONValue] {
        guard !expansions.isEmpty, !records.isEmpty else { return records }
        let ids = records.compactMap { $0[entity.primaryIdAttribute]?.stringValue }
        var expanded = records.map { $0.objectMembers ?? [] }
        for expansion in expansions {
            let pointers = try await targetIDs(of: expansion.attribute, records: ids, entity: entity, connection: connection)
            let found = try await targetRecords(expansion, ids: Array(Set(pointers.values)), api: api, connection: connection)
            for index in expanded.indices {
                let pointer = ids.indices.contains(index) ? pointers[ids[index]] : nil
                expanded[index].append((expansion.navigation, pointer.flatMap { found[$0] } ?? .null))
            }
        }
        return expanded.map(JSONValue.object)
    }

    /// Record id → the id its lookup holds.
    private static func targetIDs(of attribute: AttributeInfo, records: [String], entity: EntityInfo, connection: PostgresConnection)
        async throws -> [String: String]
    {
        let key = try PostgresIdentifier(entity.primaryIdAttribute)
        let column = try PostgresIdentifier(attribute.name)
        let list = PostgresQuery.joined(records.map { "\($0)::uuid" }, separator: ", ")
        let rows = try await connection.query(
            "SELECT t.\(key)::text, t.\(column)::text FROM \(entity.table) t WHERE t.\(key) IN (\(list)) AND t.\(column) IS NOT NULL",
            name: "emulator expand pointers")
        var pointers: [String: String] = [:]
        for row in rows {
            let (record, target) = try row.decode((String, String).self)
            pointers[record] = target
        }
        return pointers
    }

    /// Target id → its rendered record, looked up in each entity the expansion may point at.
    private static func targetRecords(_ expansion: Expansion, ids: [String], api: WebAPI, connection: PostgresConnection) async throws
        -> [String: JSONValue]
    {
        guard !ids.isEmpty else { return [:] }
        let entities = expansion.targets.compactMap { api.catalog.entities[$0] }
        let names = expansion.select.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        // A multi-target lookup's $select may name properties of any of its targets; each takes its own.
        for name in names ?? [] where !entities.contains(where: { $0.attribute(property: name) != nil }) {
            throw DataverseError.unknownProperty(name, entity: entities.first?.logicalName ?? expansion.navigation)
        }
        var found: [String: JSONValue] = [:]
        for entity in entities {
            let select = names.map { $0.filter { entity.attribute(property: $0) != nil } }
            let plan = try ReadPlan(
                entity: entity, select: select.map { $0.isEmpty ? entity.primaryIdAttribute : $0.joined(separator: ",") },
                annotations: AnnotationFilter(nil), catalog: api.catalog)
            let key = try PostgresIdentifier(entity.primaryIdAttribute)
            let list = PostgresQuery.joined(ids.map { "\($0)::uuid" }, separator: ", ")
            let rows = try await connection.query(
                "SELECT \(plan.selectList) FROM \(entity.table) t \(versionJoin(entity)) WHERE t.\(key) IN (\(list))",
                name: "emulator expand records")
            for row in rows {
                // Expanded records carry no etag, as the join-tables examples show them.
                let members = (plan.render(row).objectMembers ?? []).filter { $0.0 != "@odata.etag" }
                if let id = JSONValue.object(members)[entity.primaryIdAttribute]?.stringValue { found[id] = .object(members) }
            }
        }
        return found
    }
}
