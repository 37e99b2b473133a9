import Foundation
import Sync

/// What the engine needs to know of a Dataverse table (an entity): its entity set, primary id,
/// and each attribute's type — read from the Web API's own metadata (`EntityDefinitions`), once per
/// session, so that values are written in the attribute's JSON type and lookups are bound.
struct DataverseEntity: Sendable {
    /// The table's logical name (`account`).
    var logicalName: String
    /// Its entity set (`accounts`), the path of its records.
    var entitySet: String
    /// Its primary id attribute (`accountid`).
    var primaryID: String
    /// Each attribute's kind by logical name.
    var attributes: [String: ODataValueKind]
    /// Whether change tracking is enabled for the table (`ChangeTrackingEnabled`): deltas then read
    /// its delta links, deletions included.
    var tracksChanges = false

    /// The attribute `name`'s kind, or a clear error naming the table.
    func kind(of name: String) throws -> ODataValueKind {
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
        return ODataValues.text(record[readProperty(name)], kind: attributes[name] ?? .text)
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
    static func kind(attributeType type: String, targets: [String]) -> ODataValueKind {
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

    /// The compiler of filters on the table: a lookup compares its `_name_value`; a lookup's type
    /// column (`parentcustomeridtype`) is not a property of the Web API, so it is refused.
    var filterCompiler: ODataFilter {
        ODataFilter(dialect: .dataverse, columnKind: kind(of:)) { name in
            _ = try kind(of: name)
            if let lookup = lookupTyped(by: name) {
                throw ODataFilter.Unsupported(
                    description: "Dataverse cannot filter on \(name), the table \(lookup) points to (it is not a column of the Web API); filter on \(lookup) itself or leave the condition out")
            }
            return readProperty(name)
        }
    }

    /// The table described in PostgreSQL's terms, for `couplet mappings validate`.
    var catalogTable: CatalogTable {
        CatalogTable(
            kind: "r", columns: attributes.keys.sorted().map { (attributes[$0] ?? .other("?")).catalogColumn($0) },
            canSelect: true, canInsert: true, canUpdate: true)
    }
}
