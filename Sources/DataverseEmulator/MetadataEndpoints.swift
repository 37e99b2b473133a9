import EmulatorSupport
import Foundation
import Postgres

/// `EntityDefinitions`: the entity and attribute definitions, in the shapes the metadata
/// documentation shows, for the properties the emulator knows.
struct MetadataEndpoints {
    let catalog: Catalog
    let serviceRoot: String

    static let entityProperties = [
        "MetadataId", "LogicalName", "SchemaName", "EntitySetName", "LogicalCollectionName", "PrimaryIdAttribute",
        "PrimaryNameAttribute", "ChangeTrackingEnabled", "IsOptimisticConcurrencyEnabled", "ObjectTypeCode",
    ]
    static let attributeProperties = [
        "MetadataId", "LogicalName", "SchemaName", "AttributeType", "AttributeTypeName", "EntityLogicalName", "IsPrimaryId",
        "IsPrimaryName", "IsValidForCreate", "IsValidForUpdate", "IsValidForRead", "MaxLength", "Targets",
    ]

    /// Answers `EntityDefinitions`, `EntityDefinitions(LogicalName='x')`, `…/Attributes`,
    /// `…/Attributes(LogicalName='y')` and `…/Attributes/Microsoft.Dynamics.CRM.LookupAttributeMetadata`.
    func answer(path: Path, request: APIRequest) throws(DataverseError) -> APIResponse {
        let segments = path.segments
        guard let key = segments[0].key else {
            guard segments.count == 1 else { throw DataverseError.segmentNotFound(segments[1].name) }
            return try entities(request)
        }
        let entity = try lookUp(key)
        if segments.count == 1 { return try definition(of: entity, request: request) }
        guard segments[1].name == "Attributes" else { throw DataverseError.segmentNotFound(segments[1].name) }
        if let attributeKey = segments[1].key { return try attribute(attributeKey, of: entity, request: request) }
        var cast: String?
        if segments.count == 3 {
            guard segments[2].name == "Microsoft.Dynamics.CRM.LookupAttributeMetadata" else { throw DataverseError.segmentNotFound(segments[2].name) }
            cast = segments[2].name
        }
        return try attributes(of: entity, cast: cast, request: request)
    }

    /// `EntityDefinitions`: every entity.
    private func entities(_ request: APIRequest) throws(DataverseError) -> APIResponse {
        let select = try selection(request.option("$select"), allowed: Self.entityProperties, type: "EntityMetadata")
        let values = catalog.entities.values.sorted { $0.logicalName < $1.logicalName }.map { entityJSON($0, select: select, attributes: nil) }
        let context = serviceRoot + "$metadata#EntityDefinitions\(contextList(select))"
        return .json(.ok, .object([("@odata.context", .string(context)), ("value", .array(values))]))
    }

    /// `EntityDefinitions(LogicalName='x')`, with `$select` and `$expand=Attributes($select=…)`.
    private func definition(of entity: EntityInfo, request: APIRequest) throws(DataverseError) -> APIResponse {
        let select = try selection(request.option("$select"), allowed: Self.entityProperties, type: "EntityMetadata")
        let expand = try attributeExpansion(request.option("$expand"))
        let parts = (select ?? []) + (expand.map { ["Attributes" + contextList($0.select)] } ?? [])
        let context = serviceRoot + "$metadata#EntityDefinitions" + (parts.isEmpty ? "/$entity" : "(" + parts.joined(separator: ",") + ")/$entity")
        return .json(.ok, Self.prefixed(context, entityJSON(entity, select: select, attributes: expand)))
    }

    /// `EntityDefinitions(LogicalName='x')/Attributes(LogicalName='y')`.
    private func attribute(_ key: String, of entity: EntityInfo, request: APIRequest) throws(DataverseError) -> APIResponse {
        let select = try selection(request.option("$select"), allowed: Self.attributeProperties, type: "AttributeMetadata")
        guard let attribute = entity.attribute(named: try Self.logicalName(key)) else { throw DataverseError.segmentNotFound(key) }
        let context = serviceRoot + "$metadata#EntityDefinitions('\(entity.logicalName)')/Attributes\(contextList(select))/$entity"
        return .json(.ok, Self.prefixed(context, attributeJSON(attribute, entity: entity, select: select)))
    }

    /// `EntityDefinitions(LogicalName='x')/Attributes`, or only its lookups under the `LookupAttributeMetadata` cast.
    private func attributes(of entity: EntityInfo, cast: String?, request: APIRequest) throws(DataverseError) -> APIResponse {
        let select = try selection(request.option("$select"), allowed: Self.attributeProperties, type: "AttributeMetadata")
        let attributes = cast == nil ? entity.attributes : entity.attributes.filter { $0.lookup != nil }
        let values = attributes.map { attributeJSON($0, entity: entity, select: select) }
        let context = serviceRoot + "$metadata#EntityDefinitions('\(entity.logicalName)')/Attributes" + (cast.map { "/" + $0 } ?? "") + contextList(select)
        return .json(.ok, .object([("@odata.context", .string(context)), ("value", .array(values))]))
    }

    /// `object` with `@odata.context` first.
    private static func prefixed(_ context: String, _ object: JSONValue) -> JSONValue {
        .object([("@odata.context", .string(context))] + (object.objectMembers ?? []))
    }

    private func lookUp(_ key: String) throws(DataverseError) -> EntityInfo {
        let name = try Self.logicalName(key)
        guard let entity = catalog.entities[name] else {
            throw DataverseError(.notFound, code: "0x80040217", "Could not find entity with logical name '\(name)'.")
        }
        return entity
    }

    /// `LogicalName='account'` (or `'account'`) → `account`.
    static func logicalName(_ key: String) throws(DataverseError) -> String {
        var text = key
        if text.hasPrefix("LogicalName=") { text = String(text.dropFirst("LogicalName=".count)) }
        guard text.count >= 2, text.hasPrefix("'"), text.hasSuffix("'") else {
            throw DataverseError.badRequest("The key '\(key)' is not supported; use LogicalName='<name>'.")
        }
        return String(text.dropFirst().dropLast())
    }

    private func selection(_ text: String?, allowed: [String], type: String) throws(DataverseError) -> [String]? {
        guard let text, !text.isEmpty else { return nil }
        let names = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        for name in names where !allowed.contains(name) {
            throw DataverseError(.badRequest, code: "0x0", "Could not find a property named '\(name)' on type 'Microsoft.Dynamics.CRM.\(type)'.")
        }
        return names
    }

    private func contextList(_ select: [String]?) -> String {
        guard let select, !select.isEmpty else { return "" }
        return "(" + select.joined(separator: ",") + ")"
    }

    /// `$expand=Attributes($select=…)`; nil without `$expand`.
    private func attributeExpansion(_ text: String?) throws(DataverseError) -> (select: [String]?, Void)? {
        guard let text, !text.isEmpty else { return nil }
        guard text.hasPrefix("Attributes") else { throw DataverseError.badRequest("Only $expand=Attributes is supported on EntityDefinitions.") }
        let rest = text.dropFirst("Attributes".count)
        guard !rest.isEmpty else { return (nil, ()) }
        guard rest.hasPrefix("("), rest.hasSuffix(")") else { throw DataverseError.badRequest("The $expand '\(text)' is not valid.") }
        let inner = rest.dropFirst().dropLast()
        guard inner.hasPrefix("$select=") else { throw DataverseError.badRequest("Only $select is supported inside $expand=Attributes(…).") }
        return (try selection(String(inner.dropFirst("$select=".count)), allowed: Self.attributeProperties, type: "AttributeMetadata"), ())
    }

    private func entityJSON(_ entity: EntityInfo, select: [String]?, attributes: (select: [String]?, Void)?) -> JSONValue {
        let all: [(String, JSONValue)] = [
            ("MetadataId", .string(Self.metadataId(entity.logicalName))),
            ("LogicalName", .string(entity.logicalName)),
            ("SchemaName", .string(entity.logicalName)),
            ("EntitySetName", .string(entity.entitySetName)),
            ("LogicalCollectionName", .string(entity.entitySetName)),
            ("PrimaryIdAttribute", .string(entity.primaryIdAttribute)),
            ("PrimaryNameAttribute", entity.primaryNameAttribute.map(JSONValue.string) ?? .null),
            ("ChangeTrackingEnabled", .bool(true)),
            ("IsOptimisticConcurrencyEnabled", .bool(true)),
        ]
        var members = Self.pick(all, select: select)
        if let attributes {
            members.append(("Attributes", .array(entity.attributes.map { attributeJSON($0, entity: entity, select: attributes.select) })))
        }
        return .object(members)
    }

    private func attributeJSON(_ attribute: AttributeInfo, entity: EntityInfo, select: [String]?) -> JSONValue {
        let type = attribute.attributeType(entity: entity)
        let metadataType = attribute.lookup != nil ? "LookupAttributeMetadata" : Self.metadataType(type)
        var all: [(String, JSONValue)] = [
            ("MetadataId", .string(Self.metadataId(entity.logicalName + "." + attribute.name))),
            ("LogicalName", .string(attribute.name)),
            ("SchemaName", .string(attribute.name)),
            ("AttributeType", .string(type)),
            ("AttributeTypeName", .object([("Value", .string(type + "Type"))])),
            ("EntityLogicalName", .string(entity.logicalName)),
            ("IsPrimaryId", .bool(attribute.name == entity.primaryIdAttribute)),
            ("IsPrimaryName", .bool(attribute.name == entity.primaryNameAttribute)),
            // A lookup's type column is written only through a bind; the primary key only on create.
            ("IsValidForCreate", .bool(!attribute.isLookupType)),
            ("IsValidForUpdate", .bool(!attribute.isLookupType && attribute.name != entity.primaryIdAttribute)),
            ("IsValidForRead", .bool(true)),
        ]
        if let maxLength = attribute.maxLength { all.append(("MaxLength", .number(String(maxLength)))) }
        if let lookup = attribute.lookup { all.append(("Targets", .array(lookup.targets.map(JSONValue.string)))) }
        return .object([("@odata.type", .string("#Microsoft.Dynamics.CRM.\(metadataType)"))] + Self.pick(all, select: select))
    }

    /// The selected members, `MetadataId` always included as Dataverse does.
    private static func pick(_ all: [(String, JSONValue)], select: [String]?) -> [(String, JSONValue)] {
        guard let select else { return all }
        return all.filter { select.contains($0.0) || $0.0 == "MetadataId" }
    }

    private static func metadataType(_ attributeType: String) -> String {
        switch attributeType {
        case "String": return "StringAttributeMetadata"
        case "Memo": return "MemoAttributeMetadata"
        case "Integer": return "IntegerAttributeMetadata"
        case "BigInt": return "BigIntAttributeMetadata"
        case "Decimal": return "DecimalAttributeMetadata"
        case "Money": return "MoneyAttributeMetadata"
        case "Double": return "DoubleAttributeMetadata"
        case "Boolean": return "BooleanAttributeMetadata"
        case "DateTime": return "DateTimeAttributeMetadata"
        case "Picklist": return "PicklistAttributeMetadata"
        case "State": return "StateAttributeMetadata"
        case "Status": return "StatusAttributeMetadata"
        case "EntityName": return "EntityNameAttributeMetadata"
        default: return "AttributeMetadata"
        }
    }

    /// A stable id from a name (FNV-1a, formatted as a guid).
    static func metadataId(_ name: String) -> String {
        var hash1: UInt64 = 0xcbf2_9ce4_8422_2325
        var hash2: UInt64 = 0x8422_2325_cbf2_9ce4
        for byte in name.utf8 {
            hash1 = (hash1 ^ UInt64(byte)) &* 0x100_0000_01b3
            hash2 = (hash2 ^ UInt64(byte)) &* 0x100_0000_01b3 &+ 1
        }
        let hex = String(format: "%016llx%016llx", hash1, hash2)
        let characters = Array(hex)
        func part(_ range: Range<Int>) -> String { String(characters[range]) }
        return [part(0..<8), part(8..<12), part(12..<16), part(16..<20), part(20..<32)].joined(separator: "-")
    }
}
