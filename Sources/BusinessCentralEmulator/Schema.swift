import EmulatorSupport
import Foundation
import Postgres

/// How a property's value travels as JSON, and its type in `$metadata`.
enum ValueKind: Sendable, Equatable {
    case guid, string, decimal, int32, int64, double, boolean, date, dateTimeOffset
    /// A Postgres enum: the value is one of its labels, written as a string.
    case enumeration(type: String, labels: [String])

    /// From a column: its type name, and the labels when it is an enum.
    init(column: CatalogColumn, labels: [String]?) {
        if column.isEnum { self = .enumeration(type: column.type, labels: labels ?? []); return }
        switch column.type {
        case "uuid": self = .guid
        case "numeric": self = .decimal
        case "int2", "int4": self = .int32
        case "int8": self = .int64
        case "float4", "float8": self = .double
        case "bool": self = .boolean
        case "date": self = .date
        case "timestamptz", "timestamp": self = .dateTimeOffset
        default: self = .string
        }
    }

    /// True when the JSON value is a number.
    var isNumeric: Bool { [.decimal, .int32, .int64, .double].contains(self) }

    /// The CSDL type: `Edm.Guid`, …, `Microsoft.NAV.<enum>`.
    var edmType: String {
        switch self {
        case .guid: return "Edm.Guid"
        case .string: return "Edm.String"
        case .decimal: return "Edm.Decimal"
        case .int32: return "Edm.Int32"
        case .int64: return "Edm.Int64"
        case .double: return "Edm.Double"
        case .boolean: return "Edm.Boolean"
        case .date: return "Edm.Date"
        case .dateTimeOffset: return "Edm.DateTimeOffset"
        case .enumeration(let type, _): return "Microsoft.NAV.\(type)"
        }
    }
}

/// One property of an entity type: a column of its table.
struct Property: Sendable {
    /// The API name, which is the column name.
    let name: String
    let kind: ValueKind
    let nullable: Bool
    /// The column has a default (a sequence, like a number series), so a create may leave it out.
    let hasDefault: Bool
    /// Kept by the emulator or the database (`lastModifiedDateTime`, generated columns): what clients send is ignored.
    let isReadOnly: Bool
    let maxLength: Int?
    let precision: Int?
    let scale: Int?

    /// The column in SQL (alias `t`).
    var column: PostgresQuery {
        guard let identifier = try? PostgresIdentifier(name) else { return "NULL" }
        return "t.\(identifier)"
    }
}

/// An entity set: a table of a company's schema whose primary key is a uuid column `id`, or the companies.
final class EntitySet: Sendable {
    /// The entity set name (the table's name): `customers`, `paymentTerms`.
    let name: String
    /// The entity type name: the singular of the set name (docs/emulator.md).
    let typeName: String
    /// What `FROM` reads, as alias `t`.
    let source: PostgresQuery
    /// The table, nil for the companies (which are not writable).
    let table: PostgresIdentifier?
    /// The schema, for the row versions.
    let schema: String
    let properties: [Property]
    /// The order without `$orderby`, and the tie-breaker after it: `t.id`, or the configuration order for companies.
    let keyOrder: PostgresQuery
    private let byName: [String: Int]

    init(name: String, schema: String, source: PostgresQuery, table: PostgresIdentifier?, properties: [Property], keyOrder: PostgresQuery = "t.id") {
        self.name = name
        self.keyOrder = keyOrder
        self.typeName = BusinessCentralEmulator.entityTypeName(name)
        self.schema = schema
        self.source = source
        self.table = table
        self.properties = properties
        self.byName = Dictionary(properties.enumerated().map { ($1.name, $0) }) { first, _ in first }
    }

    /// The property called `name`.
    func property(_ name: String) -> Property? { byName[name].map { properties[$0] } }

    /// True when records carry etags (every table; not the companies).
    var isVersioned: Bool { table != nil }
}

/// A company: its identity and the entity sets of its schema.
struct CompanyCatalog: Sendable {
    let id: String
    let name: String
    let displayName: String
    let schema: String
    let entitySets: [String: EntitySet]
    /// The columns of each constraint of the schema, to name them in errors.
    let constraintColumns: [String: [String]]

    /// The entity sets of `schema`: tables with a uuid primary key `id`.
    static func load(
        id: String, name: String, displayName: String, schema: String, enums: [String: [String]], from connection: PostgresConnection
    ) async throws -> CompanyCatalog {
        let tables = try await PostgresCatalog.uuidKeyedTables(schema: schema, connection: connection).filter { $0.key == "id" }
        let columns = try await PostgresCatalog.columns(schema: schema, of: Set(tables.map(\.name)), connection: connection)
        var sets: [String: EntitySet] = [:]
        for table in tables {
            let properties = (columns[table.name] ?? []).map { column in
                Property(
                    name: column.name, kind: ValueKind(column: column, labels: enums[column.type]), nullable: !column.notNull,
                    hasDefault: column.hasDefault, isReadOnly: column.isGenerated || column.name == lastModified,
                    maxLength: column.maxLength, precision: column.precision, scale: column.scale)
            }
            let identifier = try PostgresIdentifier(table.name, schema: schema)
            sets[table.name] = EntitySet(name: table.name, schema: schema, source: "\(identifier) t", table: identifier, properties: properties)
        }
        let constraints = try await PostgresCatalog.constraintColumns(schema: schema, connection: connection)
        return CompanyCatalog(id: id, name: name, displayName: displayName, schema: schema, entitySets: sets, constraintColumns: constraints)
    }

    /// The column the emulator stamps on every write.
    static let lastModified = "lastModifiedDateTime"

    /// The tables whose row versions (and `lastModifiedDateTime`) the emulator keeps.
    var trackedTables: [TrackedTable] {
        entitySets.values.map { set in
            TrackedTable(
                schema: schema, name: set.name, key: "id",
                stampColumn: set.property(Self.lastModified)?.kind == .dateTimeOffset ? Self.lastModified : nil)
        }
    }
}

/// The companies and their entity sets.
struct Catalog: Sendable {
    /// In configuration order.
    let companies: [CompanyCatalog]
    /// The companies as an entity set (read-only), with the properties the company resource documents.
    let companySet: EntitySet

    /// The company with this id (any case).
    func company(id: String) -> CompanyCatalog? {
        companies.first { $0.id == id.lowercased() }
    }

    /// The company with this name.
    func company(named name: String) -> CompanyCatalog? {
        companies.first { $0.name == name }
    }

    /// Every entity set, once per name (the first company's definition), sorted by name.
    var allEntitySets: [EntitySet] {
        var seen: [String: EntitySet] = [:]
        for company in companies {
            for (name, set) in company.entitySets where seen[name] == nil { seen[name] = set }
        }
        return seen.values.sorted { $0.name < $1.name }
    }

    /// The companies as rows: `id`, `systemVersion`, `timestamp`, `name`, `displayName`, `businessProfileId`,
    /// `systemCreatedAt`, `systemCreatedBy`, `systemModifiedAt`, `systemModifiedBy`.
    static func companySet(_ companies: [CompanyCatalog], createdAt: String, systemVersion: String) -> EntitySet {
        let zero = "00000000-0000-0000-0000-000000000000"
        let rows = companies.enumerated().map { index, company -> PostgresQuery in
            """
            (\(company.id)::uuid, \(systemVersion)::text, \(index + 1)::bigint, \(company.name)::text, \(company.displayName)::text, ''::text, \
            \(createdAt)::timestamptz, \(zero)::uuid, \(createdAt)::timestamptz, \(zero)::uuid)
            """
        }
        let values: PostgresQuery = rows.isEmpty
            ? "SELECT NULL::uuid, NULL::text, NULL::bigint, NULL::text, NULL::text, NULL::text, NULL::timestamptz, NULL::uuid, NULL::timestamptz, NULL::uuid WHERE FALSE"
            : "VALUES \(PostgresQuery.joined(rows, separator: ", "))"
        let source: PostgresQuery =
            "(\(values)) AS t(id, \"systemVersion\", timestamp, name, \"displayName\", \"businessProfileId\", \"systemCreatedAt\", \"systemCreatedBy\", \"systemModifiedAt\", \"systemModifiedBy\")"
        func property(_ name: String, _ kind: ValueKind, maxLength: Int? = nil) -> Property {
            Property(name: name, kind: kind, nullable: name != "id", hasDefault: false, isReadOnly: true, maxLength: maxLength, precision: nil, scale: nil)
        }
        let properties = [
            property("id", .guid), property("systemVersion", .string), property("timestamp", .int64), property("name", .string, maxLength: 30),
            property("displayName", .string, maxLength: 250), property("businessProfileId", .string, maxLength: 250),
            property("systemCreatedAt", .dateTimeOffset), property("systemCreatedBy", .guid), property("systemModifiedAt", .dateTimeOffset),
            property("systemModifiedBy", .guid),
        ]
        return EntitySet(name: "companies", schema: "", source: source, table: nil, properties: properties, keyOrder: "t.timestamp")
    }
}
