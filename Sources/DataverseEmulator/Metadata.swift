import EmulatorSupport
import Foundation
import Postgres

/// How an attribute's value travels as JSON and which Dataverse `AttributeType` it reports.
public enum AttributeKind: String, Sendable {
    /// `uuid`.
    case uniqueidentifier
    /// `text`, `varchar`, `char`.
    case string
    /// Long text (`description`, or a column comment `memo: yes`).
    case memo
    /// `int`, `smallint` (also option set values).
    case integer
    /// `bigint`.
    case bigInt
    /// `numeric` (Decimal, or Money beside a currency lookup).
    case decimal
    /// `real`, `double precision`.
    case double
    /// `boolean`.
    case boolean
    /// `timestamptz`, `timestamp`.
    case dateTime
    /// `date`.
    case dateOnly
    /// Any other type, written as its text.
    case other

    /// From the column's Postgres type name (`pg_type.typname`).
    init(postgresType: String) {
        switch postgresType {
        case "uuid": self = .uniqueidentifier
        case "text", "varchar", "bpchar", "citext", "name": self = .string
        case "int2", "int4": self = .integer
        case "int8": self = .bigInt
        case "numeric": self = .decimal
        case "float4", "float8": self = .double
        case "bool": self = .boolean
        case "timestamptz", "timestamp": self = .dateTime
        case "date": self = .dateOnly
        default: self = .other
        }
    }

    /// True when the JSON value is a number.
    var isNumeric: Bool { [.integer, .bigInt, .decimal, .double].contains(self) }
}

/// A lookup: the entities its values may point at, and the sibling column that names the target's entity.
public struct LookupInfo: Sendable, Equatable {
    /// Logical names of the entities it may point at.
    public var targets: [String]
    /// The `<name>type` column recording the target's logical name (multi-target lookups), if any.
    public var typeColumn: String?
}

/// One column of an entity table.
public struct AttributeInfo: Sendable {
    /// The column name, which is the attribute's logical name.
    public let name: String
    /// The Postgres type name.
    public let postgresType: String
    /// The value kind.
    public let kind: AttributeKind
    /// Whether the column is NOT NULL.
    public let isRequired: Bool
    /// The most characters a `varchar(n)`/`char(n)` column holds.
    public var maxLength: Int?
    /// Set when the attribute is a lookup.
    public var lookup: LookupInfo?
    /// True for the `<name>type` column of a multi-target lookup (never read or written directly).
    public var isLookupType = false

    /// The property name in records: `_<name>_value` for a lookup, else the name.
    public var propertyName: String { lookup == nil ? name : "_\(name)_value" }

    /// Dataverse's `AttributeType` for the metadata endpoints.
    public func attributeType(entity: EntityInfo) -> String {
        if name == entity.primaryIdAttribute { return "Uniqueidentifier" }
        if let lookup {
            if name == "ownerid" { return "Owner" }
            if Set(lookup.targets) == ["account", "contact"] { return "Customer" }
            return "Lookup"
        }
        if isLookupType { return "EntityName" }
        switch kind {
        case .uniqueidentifier: return "Uniqueidentifier"
        case .string: return "String"
        case .memo: return "Memo"
        case .integer:
            if name == "statecode" { return "State" }
            if name == "statuscode" { return "Status" }
            return name.hasSuffix("code") ? "Picklist" : "Integer"
        case .bigInt: return "BigInt"
        case .decimal: return entity.isMoney(self) ? "Money" : "Decimal"
        case .double: return "Double"
        case .boolean: return "Boolean"
        case .dateTime, .dateOnly: return "DateTime"
        case .other: return "Virtual"
        }
    }
}

/// An entity: a table whose primary key is one uuid column named `<table>id`.
public final class EntityInfo: Sendable {
    /// The logical name (the table name).
    public let logicalName: String
    /// The entity set name used in URLs.
    public let entitySetName: String
    /// The primary key column.
    public let primaryIdAttribute: String
    /// The column that names a record (`name`, else `fullname`, else `subject`, else `title`), if any.
    public let primaryNameAttribute: String?
    /// The columns, in table order.
    public let attributes: [AttributeInfo]
    /// The table, schema-qualified.
    public let table: PostgresIdentifier
    /// The schema.
    public let schema: String
    private let byName: [String: Int]
    private let byProperty: [String: Int]

    init(logicalName: String, entitySetName: String, schema: String, attributes: [AttributeInfo]) throws {
        self.logicalName = logicalName
        self.entitySetName = entitySetName
        self.primaryIdAttribute = logicalName + "id"
        self.schema = schema
        self.attributes = attributes
        self.table = try PostgresIdentifier(logicalName, schema: schema)
        let names = Set(attributes.map(\.name))
        self.primaryNameAttribute = ["name", "fullname", "subject", "title"].first { names.contains($0) }
        var byName: [String: Int] = [:]
        var byProperty: [String: Int] = [:]
        for (index, attribute) in attributes.enumerated() {
            byName[attribute.name] = index
            byProperty[attribute.propertyName] = index
        }
        self.byName = byName
        self.byProperty = byProperty
    }

    /// The attribute with this logical name.
    public func attribute(named name: String) -> AttributeInfo? { byName[name].map { attributes[$0] } }

    /// The attribute shown under this property name (`name`, `_parentaccountid_value`).
    public func attribute(property: String) -> AttributeInfo? { byProperty[property].map { attributes[$0] } }

    /// True for a numeric column of an entity with a `transactioncurrencyid` lookup: Dataverse's Money.
    public func isMoney(_ attribute: AttributeInfo) -> Bool {
        attribute.kind == .decimal && attribute.lookup == nil && self.attribute(named: "transactioncurrencyid")?.lookup != nil
    }

    /// The attributes records show (all but the lookup type columns).
    public var visibleAttributes: [AttributeInfo] { attributes.filter { !$0.isLookupType } }
}

/// The entities of one schema, read from the Postgres catalog.
public struct Catalog: Sendable {
    /// Entities by logical name.
    public let entities: [String: EntityInfo]
    /// Entities by entity set name.
    public let entitySets: [String: EntityInfo]
    /// The columns each constraint of the schema covers, by constraint name (to name them in errors).
    public var constraintColumns: [String: [String]] = [:]

    /// The English plural Dataverse gives entity set names: y → ies after a consonant; s, x, z, ch, sh → es; else s.
    public static func plural(_ name: String) -> String {
        if name.hasSuffix("y"), let before = name.dropLast().last, !"aeiou".contains(before) {
            return name.dropLast() + "ies"
        }
        if ["s", "x", "z", "ch", "sh"].contains(where: { name.hasSuffix($0) }) { return name + "es" }
        return name + "s"
    }

    /// Well-known lookup names and their targets, as in Dataverse.
    static let wellKnownLookups: [String: [String]] = [
        "ownerid": ["systemuser", "team"], "parentcustomerid": ["account", "contact"], "customerid": ["account", "contact"],
        "owninguser": ["systemuser"], "owningteam": ["team"], "createdby": ["systemuser"], "modifiedby": ["systemuser"],
        "basecurrencyid": ["transactioncurrency"],
    ]

    /// Reads the entities of `schema`.
    public static func load(schema: String, from connection: PostgresConnection) async throws -> Catalog {
        let tables = try await entityTables(schema: schema, connection: connection)
        let columnsByTable = try await PostgresCatalog.columns(schema: schema, of: Set(tables.keys), connection: connection)
        let references = try await PostgresCatalog.foreignKeys(schema: schema, connection: connection)
        let names = Set(tables.keys)
        var entities: [String: EntityInfo] = [:]
        for (table, comment) in tables {
            let attributes = makeAttributes(
                table: table, columns: columnsByTable[table] ?? [], entities: names, references: references)
            let setName = Self.setting("entityset", in: comment) ?? plural(table)
            entities[table] = try EntityInfo(logicalName: table, entitySetName: setName, schema: schema, attributes: attributes)
        }
        var catalog = Catalog(entities: entities, entitySets: Dictionary(entities.values.map { ($0.entitySetName, $0) }) { a, _ in a })
        catalog.constraintColumns = try await PostgresCatalog.constraintColumns(schema: schema, connection: connection)
        return catalog
    }

    /// Tables whose primary key is one uuid column named `<table>id`, with their comments.
    private static func entityTables(schema: String, connection: PostgresConnection) async throws -> [String: String] {
        let tables = try await PostgresCatalog.uuidKeyedTables(schema: schema, connection: connection).filter { $0.key == $0.name + "id" }
        return Dictionary(tables.map { ($0.name, $0.comment) }) { first, _ in first }
    }

    /// The value of a `key: value` line in a comment.
    static func setting(_ key: String, in comment: String) -> String? {
        for line in comment.split(whereSeparator: \.isNewline) {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces).lowercased() == key {
                let value = parts[1].trimmingCharacters(in: .whitespaces)
                return value.isEmpty ? nil : value
            }
        }
        return nil
    }

    private static func makeAttributes(
        table: String, columns: [CatalogColumn], entities: Set<String>, references: [String: String]
    ) -> [AttributeInfo] {
        let columnNames = Set(columns.map(\.name))
        var attributes = columns.map { row -> AttributeInfo in
            let (column, type, notNull, comment) = (row.name, row.type, row.notNull, row.comment)
            var kind = AttributeKind(postgresType: type)
            if kind == .string, Self.setting("memo", in: comment) != nil || column == "description" { kind = .memo }
            var attribute = AttributeInfo(name: column, postgresType: type, kind: kind, isRequired: notNull)
            attribute.maxLength = row.maxLength
            if type == "uuid", column != table + "id" {
                let targets = lookupTargets(
                    table: table, column: column, comment: comment, entities: entities, references: references)
                if !targets.isEmpty {
                    let typeColumn = columnNames.contains(column + "type") ? column + "type" : nil
                    attribute.lookup = LookupInfo(targets: targets, typeColumn: typeColumn)
                }
            }
            return attribute
        }
        let typeColumns = Set(attributes.compactMap { $0.lookup?.typeColumn })
        for index in attributes.indices where typeColumns.contains(attributes[index].name) {
            attributes[index].isLookupType = true
        }
        return attributes
    }

    /// The lookup targets of a uuid column, by the conventions in docs/emulator.md (first that applies):
    /// a `lookup: a,b` column comment; a foreign key to an entity table; a well-known Dataverse name
    /// (`ownerid`, `parentcustomerid`, `customerid`, …); `<entity>id`; `parent<entity>id`,
    /// `primary<entity>id`, `default<entity>id`. Targets that are not entities here are dropped.
    static func lookupTargets(
        table: String, column: String, comment: String, entities: Set<String>, references: [String: String]
    ) -> [String] {
        if let listed = setting("lookup", in: comment) {
            return listed.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter(entities.contains)
        }
        if let target = references[table + "." + column], entities.contains(target) { return [target] }
        if let known = wellKnownLookups[column] { return known.filter(entities.contains) }
        guard column.hasSuffix("id") else { return [] }
        let stem = String(column.dropLast(2))
        if entities.contains(stem) { return [stem] }
        for prefix in ["parent", "primary", "default"] where stem.hasPrefix(prefix) {
            let rest = String(stem.dropFirst(prefix.count))
            if entities.contains(rest) { return [rest] }
        }
        return []
    }
}
