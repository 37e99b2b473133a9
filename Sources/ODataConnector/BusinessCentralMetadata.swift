import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Sync

/// An entity set of Business Central's API v2.0 (`customers`, `vendors`, `items` …) as the
/// service's `$metadata` describes it: its entity type's properties, each with how its values
/// travel, its `MaxLength` and whether the service lets a client write it.
struct BusinessCentralEntity: Sendable {
    /// One property of the entity type.
    struct Property: Sendable, Equatable {
        /// How its values travel.
        var kind: ODataValueKind
        /// The longest text it holds (`MaxLength`), nil when unbounded or not text.
        var maxLength: Int?
        /// The service computes it (`Org.OData.Core.V1.Computed`, or `Permissions` of `Read` only).
        var isReadOnly: Bool
    }

    /// The entity set's name, what a mapping's `table:` names.
    var entitySet: String
    /// The key property: `id`, the record's SystemId.
    var key: String
    /// The properties by name.
    var properties: [String: Property]

    /// The property `name`, or a clear error naming the entity set.
    func property(_ name: String) throws -> Property {
        guard let property = properties[name] else {
            throw SyncFailure(code: .configuration, message: "Business Central's \(entitySet) has no property \(name)")
        }
        return property
    }

    /// The compiler of filters on the entity set: a column is its property.
    var filterCompiler: ODataFilter {
        ODataFilter(dialect: .businessCentral, columnKind: { try property($0).kind }) { name in
            _ = try property(name)
            return name
        }
    }

    /// The entity set described in PostgreSQL's terms, for `couplet describe` and `mappings validate`.
    var catalogTable: CatalogTable {
        CatalogTable(
            kind: "r", columns: properties.keys.sorted().map { (properties[$0]?.kind ?? .other("?")).catalogColumn($0) },
            canSelect: true, canInsert: true, canUpdate: true)
    }
}

/// Business Central's `$metadata` (CSDL XML) read into entity sets. The document is untrusted: its
/// size is bounded before parsing, external entities are not resolved, and an entity set whose
/// type is missing or has no single `Edm.Guid` key is left out (a mapping naming it is refused).
enum BusinessCentralMetadata {
    /// The largest `$metadata` read (the API v2.0 document is a few megabytes).
    static let maximumBytes = 32 * 1024 * 1024

    /// The entity sets `document` describes, by name.
    ///
    /// - Throws: `SyncFailure` when the document is not well-formed XML or not CSDL.
    static func entities(from document: [UInt8]) throws -> [String: BusinessCentralEntity] {
        let parser = XMLParser(data: Data(document))
        parser.shouldResolveExternalEntities = false
        parser.shouldProcessNamespaces = false
        let reader = CSDLReader()
        parser.delegate = reader
        guard parser.parse() else {
            let problem = parser.parserError.map { "\($0.localizedDescription)" } ?? "it is not well-formed"
            throw SyncFailure(code: .configuration, message: "Business Central's $metadata cannot be read: \(problem)")
        }
        guard reader.isCSDL else {
            throw SyncFailure(code: .configuration, message: "Business Central's $metadata is not a CSDL document (no edmx:Edmx element)")
        }
        return reader.entities()
    }

    /// An enumeration member's name as the service writes its values: CSDL names escape what a name
    /// cannot hold as `_xHHHH_` (the blank member of `customerBlocked` is `_x0020_`, written `" "`).
    static func memberValue(_ name: String) -> String {
        var value = ""
        var rest = Substring(name)
        while let start = rest.range(of: "_x") {
            let hex = rest[start.upperBound...].prefix(4)
            let after = rest[start.upperBound...].dropFirst(4)
            guard hex.count == 4, after.first == "_", let code = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(code) else {
                value += rest[..<start.upperBound]
                rest = rest[start.upperBound...]
                continue
            }
            value += rest[..<start.lowerBound] + String(Character(scalar))
            rest = after.dropFirst()
        }
        return value + rest
    }

    /// The kind an `Edm` type (or an enumeration of the document) names.
    static func kind(type: String, enumerations: [String: [String]]) -> ODataValueKind {
        switch type {
        case "Edm.String": .text
        case "Edm.Int16", "Edm.Int32", "Edm.Int64", "Edm.Byte": .integer
        case "Edm.Decimal", "Edm.Double", "Edm.Single": .decimal
        case "Edm.Boolean": .boolean
        case "Edm.DateTimeOffset": .dateTime
        case "Edm.Date": .date
        case "Edm.Guid": .guid
        default: enumerations[type].map { .enumeration(members: $0) } ?? .other(type)
        }
    }
}

/// Collects entity types, enumerations and entity sets while `XMLParser` walks a CSDL document.
private final class CSDLReader: NSObject, XMLParserDelegate {
    private struct PropertyDraft {
        var name: String
        var type: String
        var maxLength: Int?
        var isReadOnly = false
    }

    private struct TypeDraft {
        var keys: [String] = []
        var properties: [PropertyDraft] = []
    }

    /// The current schema's namespace and alias, each a prefix of its qualified names.
    private var prefixes: [String] = []
    /// Whether the document's element `Edmx` was seen.
    private(set) var isCSDL = false
    private var types: [String: TypeDraft] = [:]
    private var enumerations: [String: [String]] = [:]
    private var sets: [(name: String, type: String)] = []
    private var currentType: (name: String, draft: TypeDraft)?
    private var currentEnumeration: (name: String, members: [String])?
    private var inProperty = false
    /// The text of the `Permissions` annotation being read, nil outside one.
    private var permissions: String?

    /// The entity sets whose type has a single `Edm.Guid` key.
    func entities() -> [String: BusinessCentralEntity] {
        var entities: [String: BusinessCentralEntity] = [:]
        for set in sets {
            guard let type = types[set.type], type.keys.count == 1, let key = type.keys.first,
                  type.properties.first(where: { $0.name == key })?.type == "Edm.Guid"
            else { continue }
            var properties: [String: BusinessCentralEntity.Property] = [:]
            for property in type.properties {
                let kind = BusinessCentralMetadata.kind(type: property.type, enumerations: enumerations)
                properties[property.name] = .init(
                    kind: kind, maxLength: kind == .text ? property.maxLength : nil, isReadOnly: property.isReadOnly || property.name == key)
            }
            entities[set.name] = BusinessCentralEntity(entitySet: set.name, key: key, properties: properties)
        }
        return entities
    }

    func parser(
        _ parser: XMLParser, didStartElement element: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        switch localName(element) {
        case "Edmx": isCSDL = true
        case "Schema": prefixes = [attributes["Namespace"], attributes["Alias"]].compactMap { $0 }
        case "EntityType": currentType = attributes["Name"].map { ($0, TypeDraft()) }
        case "PropertyRef": if let name = attributes["Name"] { currentType?.draft.keys.append(name) }
        case "Property": startProperty(attributes)
        case "Annotation": annotate(attributes)
        case "EnumType": currentEnumeration = attributes["Name"].map { ($0, []) }
        case "Member":
            if let name = attributes["Name"] { currentEnumeration?.members.append(BusinessCentralMetadata.memberValue(name)) }
        case "EntitySet": if let name = attributes["Name"], let type = attributes["EntityType"] { sets.append((name, type)) }
        default: break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        permissions?.append(string)
    }

    func parser(_ parser: XMLParser, didEndElement element: String, namespaceURI: String?, qualifiedName: String?) {
        switch localName(element) {
        case "EntityType":
            if case let (name, draft)? = currentType { for prefix in prefixes { types["\(prefix).\(name)"] = draft } }
            currentType = nil
        case "EnumType":
            if case let (name, members)? = currentEnumeration { for prefix in prefixes { enumerations["\(prefix).\(name)"] = members } }
            currentEnumeration = nil
        case "Property": inProperty = false
        case "Annotation":
            if let text = permissions { markReadOnly(text.trimmingCharacters(in: .whitespacesAndNewlines).hasSuffix("/Read")) }
            permissions = nil
        default: break
        }
    }

    private func startProperty(_ attributes: [String: String]) {
        guard currentType != nil, let name = attributes["Name"], let type = attributes["Type"] else { return }
        let maxLength = attributes["MaxLength"].flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil }
        currentType?.draft.properties.append(PropertyDraft(name: name, type: type, maxLength: maxLength))
        inProperty = true
    }

    /// A property's `Computed` (true unless `Bool="false"`) or `Permissions` annotation.
    private func annotate(_ attributes: [String: String]) {
        guard inProperty else { return }
        switch attributes["Term"] {
        case "Org.OData.Core.V1.Computed": markReadOnly(attributes["Bool"]?.lowercased() != "false")
        case "Org.OData.Core.V1.Permissions":
            if let member = attributes["EnumMember"] { markReadOnly(member.hasSuffix("/Read")) } else { permissions = "" }
        default: break
        }
    }

    /// Marks the property being read as read-only when `readOnly`.
    private func markReadOnly(_ readOnly: Bool) {
        guard readOnly, inProperty, let last = currentType?.draft.properties.indices.last else { return }
        currentType?.draft.properties[last].isReadOnly = true
    }

    private func localName(_ element: String) -> String {
        element.split(separator: ":").last.map(String.init) ?? element
    }
}
