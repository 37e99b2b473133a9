import Foundation
import Sync

/// What the engine needs to know of a Dataverse table (an entity): its entity set, primary id,
/// and each attribute's type — read from the Web API's own metadata (`EntityDefinitions`), once per
/// session, so that values are written in the attribute's JSON type and lookups are bound.
struct DataverseEntity: Sendable {
    /// An attribute's kind, as `AttributeType` names it, grouped by how its values travel.
    enum Kind: Sendable, Equatable {
        /// String, Memo, EntityName: JSON strings.
        case text
        /// Integer, BigInt, Picklist, State, Status: JSON integers (option sets by value).
        case integer
        /// Decimal, Money, Double: JSON numbers, kept as their exact text.
        case decimal
        /// Boolean.
        case boolean
        /// DateTime: an ISO 8601 instant in UTC.
        case dateTime
        /// Uniqueidentifier: a GUID as a string.
        case guid
        /// Lookup, Owner, Customer: read as `_<name>_value`, written as `<name>@odata.bind` to one of these entities.
        case lookup(targets: [String])
        /// A type Couplet does not carry (Virtual, PartyList, File, Image, …).
        case other(String)
    }

    /// The table's logical name (`account`).
    var logicalName: String
    /// Its entity set (`accounts`), the path of its records.
    var entitySet: String
    /// Its primary id attribute (`accountid`).
    var primaryID: String
    /// Each attribute's kind by logical name.
    var attributes: [String: Kind]

    /// The attribute `name`'s kind, or a clear error naming the table.
    func kind(of name: String) throws -> Kind {
        guard let kind = attributes[name] else {
            throw SyncFailure(code: .configuration, message: "Dataverse table \(logicalName) has no column \(name)")
        }
        return kind
    }

    /// The property a read selects and returns for attribute `name`: `_name_value` for a lookup,
    /// and for a lookup's type column (`owneridtype`) its lookup's, whose annotation names the type.
    func readProperty(_ name: String) -> String {
        if let lookup = lookupTyped(by: name) { return "_\(lookup)_value" }
        if case .lookup = attributes[name] { return "_\(name)_value" }
        return name
    }

    /// The annotation of a lookup's value that names its target's table.
    static let lookupType = "Microsoft.Dynamics.CRM.lookuplogicalname"

    /// The value of attribute `name` in a record as read.
    func value(of name: String, in record: ODataJSON) -> String? {
        if lookupTyped(by: name) != nil { return record["\(readProperty(name))@\(Self.lookupType)"]?.stringValue }
        return DataverseValues.text(record[readProperty(name)], kind: attributes[name] ?? .text)
    }

    /// The lookup whose target type attribute `name` is (`owneridtype` of `ownerid`), if any:
    /// Dataverse sets it through the lookup's binding, never by itself.
    func lookupTyped(by name: String) -> String? {
        guard name.hasSuffix("type") else { return nil }
        let lookup = String(name.dropLast(4))
        if case .lookup(let targets) = attributes[lookup], targets.count > 1 { return lookup }
        return nil
    }

    /// The kind an `AttributeType` names.
    static func kind(attributeType type: String, targets: [String]) -> Kind {
        switch type {
        case "String", "Memo", "EntityName": .text
        case "Integer", "BigInt", "Picklist", "State", "Status": .integer
        case "Decimal", "Money", "Double": .decimal
        case "Boolean": .boolean
        case "DateTime": .dateTime
        case "Uniqueidentifier": .guid
        case "Lookup", "Owner", "Customer": .lookup(targets: targets)
        default: .other(type)
        }
    }

    /// The column as the engine's compatibility rules compare columns: in PostgreSQL's terms.
    func catalogColumn(_ name: String, _ kind: Kind) -> CatalogColumn {
        let (type, category): (String, TypeCategory) = switch kind {
        case .text: ("text", .string)
        case .integer: ("bigint", .numeric)
        case .decimal: ("numeric", .numeric)
        case .boolean: ("boolean", .boolean)
        case .dateTime: ("timestamp with time zone", .dateTime)
        case .guid, .lookup: ("uuid", .other)
        case .other(let name): (name, .other)
        }
        return CatalogColumn(name: name, type: type, baseType: type, category: category)
    }

    /// The table described in PostgreSQL's terms, for `couplet mappings validate`.
    var catalogTable: CatalogTable {
        CatalogTable(
            kind: "r", columns: attributes.keys.sorted().map { catalogColumn($0, attributes[$0] ?? .other("?")) },
            canSelect: true, canInsert: true, canUpdate: true)
    }
}
