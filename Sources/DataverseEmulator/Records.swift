import EmulatorSupport
import Foundation
import Postgres

/// Which OData annotations a request asked for with `Prefer: odata.include-annotations`.
struct AnnotationFilter: Sendable {
    private let patterns: [String]

    /// From the preference's value (`*`, or a comma-separated list whose items may end in `*`).
    init(_ value: String?) {
        patterns = (value ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// True when `annotation` is asked for.
    func includes(_ annotation: String) -> Bool {
        patterns.contains { pattern in
            pattern.hasSuffix("*") ? annotation.hasPrefix(String(pattern.dropLast())) : pattern == annotation
        }
    }

    /// True when any annotation is asked for.
    var isEmpty: Bool { patterns.isEmpty }
}

/// What one read returns per record: the columns to select and how to turn each row into JSON.
struct ReadPlan {
    /// What one selected SQL column holds.
    enum Role {
        case value(AttributeInfo)
        case lookupLogicalName(AttributeInfo)
        case formattedValue(AttributeInfo)
        case etag
    }

    let entity: EntityInfo
    /// The `$select`ed attributes in order (all visible ones without `$select`).
    let attributes: [AttributeInfo]
    /// Whether `$select` named the attributes.
    let isSelected: Bool
    let roles: [Role]
    let selectList: PostgresQuery

    static let formatted = "OData.Community.Display.V1.FormattedValue"
    static let logicalName = "Microsoft.Dynamics.CRM.lookuplogicalname"
    static let navigation = "Microsoft.Dynamics.CRM.associatednavigationproperty"

    /// Plans a read of `entity` for `$select` (nil for all) and the requested annotations.
    init(entity: EntityInfo, select: String?, annotations: AnnotationFilter, catalog: Catalog) throws(DataverseError) {
        self.entity = entity
        self.annotations = annotations
        let selected = try Self.selected(select, of: entity)
        isSelected = selected != nil
        attributes = selected ?? entity.visibleAttributes
        var roles: [Role] = [.etag]
        var columns: [PostgresQuery] = ["coalesce(v.version, 0)::text"]
        for attribute in Self.output(attributes, isSelected: isSelected, of: entity) {
            roles.append(.value(attribute))
            columns.append(Self.valueExpression(attribute))
            guard let lookup = attribute.lookup else { continue }
            if annotations.includes(Self.logicalName) || annotations.includes(Self.navigation) {
                roles.append(.lookupLogicalName(attribute))
                columns.append(Self.targetExpression(attribute, lookup: lookup, catalog: catalog))
            }
            if annotations.includes(Self.formatted) {
                roles.append(.formattedValue(attribute))
                columns.append(Self.formattedExpression(attribute, lookup: lookup, catalog: catalog))
            }
        }
        self.roles = roles
        self.selectList = PostgresQuery.joined(columns, separator: ", ")
    }

    /// The attributes `$select` names, in its order; nil without `$select`.
    private static func selected(_ select: String?, of entity: EntityInfo) throws(DataverseError) -> [AttributeInfo]? {
        guard let select, !select.isEmpty else { return nil }
        var attributes: [AttributeInfo] = []
        for name in select.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            guard let attribute = entity.attribute(property: name), !attribute.isLookupType else {
                throw DataverseError.unknownProperty(name, entity: entity.logicalName)
            }
            if !attributes.contains(where: { $0.name == attribute.name }) { attributes.append(attribute) }
        }
        return attributes
    }

    /// What a record shows: the attributes, then the primary key unless among them, then, when a money
    /// column is selected, the record's currency (as Dataverse does).
    private static func output(_ attributes: [AttributeInfo], isSelected: Bool, of entity: EntityInfo) -> [AttributeInfo] {
        var output = attributes
        if !output.contains(where: { $0.name == entity.primaryIdAttribute }), let key = entity.attribute(named: entity.primaryIdAttribute) {
            output.append(key)
        }
        if isSelected, attributes.contains(where: { entity.isMoney($0) }), let currency = entity.attribute(named: "transactioncurrencyid"),
            !output.contains(where: { $0.name == currency.name })
        {
            output.append(currency)
        }
        return output
    }

    let annotations: AnnotationFilter

    /// The column's value as text in the form the JSON needs (ISO 8601 UTC for datetimes).
    static func valueExpression(_ attribute: AttributeInfo) -> PostgresQuery {
        let column = FilterCompiler.column(attribute)
        switch (attribute.kind, attribute.postgresType) {
        case (.dateTime, "timestamptz"): return "to_char(\(column) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
        case (.dateTime, _): return "to_char(\(column), 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
        case (.dateOnly, _): return "to_char(\(column), 'YYYY-MM-DD')"
        default: return "\(column)::text"
        }
    }

    /// The logical name of the record a lookup points at.
    static func targetExpression(_ attribute: AttributeInfo, lookup: LookupInfo, catalog: Catalog) -> PostgresQuery {
        if let typeColumn = lookup.typeColumn, let identifier = try? PostgresIdentifier(typeColumn) {
            return "CASE WHEN \(FilterCompiler.column(attribute)) IS NOT NULL THEN t.\(identifier)::text END"
        }
        if lookup.targets.count == 1 { return "CASE WHEN \(FilterCompiler.column(attribute)) IS NOT NULL THEN \(lookup.targets[0])::text END" }
        var cases: [PostgresQuery] = []
        for target in lookup.targets {
            guard let entity = catalog.entities[target], let key = try? PostgresIdentifier(entity.primaryIdAttribute) else { continue }
            cases.append("WHEN EXISTS (SELECT FROM \(entity.table) x WHERE x.\(key) = \(FilterCompiler.column(attribute))) THEN \(target)::text")
        }
        guard !cases.isEmpty else { return "NULL::text" }
        return "CASE \(PostgresQuery.joined(cases, separator: " ")) END"
    }

    /// The primary name of the record a lookup points at.
    static func formattedExpression(_ attribute: AttributeInfo, lookup: LookupInfo, catalog: Catalog) -> PostgresQuery {
        var names: [PostgresQuery] = []
        for target in lookup.targets {
            guard let entity = catalog.entities[target], let nameColumn = entity.primaryNameAttribute,
                let key = try? PostgresIdentifier(entity.primaryIdAttribute), let name = try? PostgresIdentifier(nameColumn)
            else { continue }
            names.append("(SELECT x.\(name)::text FROM \(entity.table) x WHERE x.\(key) = \(FilterCompiler.column(attribute)))")
        }
        guard !names.isEmpty else { return "NULL::text" }
        return "coalesce(\(PostgresQuery.joined(names, separator: ", ")))"
    }

    /// The record's JSON, beginning with `@odata.etag`; the primary key comes last unless selected.
    /// A lookup's annotations precede its `_<name>_value`, as Dataverse writes them.
    func render(_ row: PostgresRow, context: String? = nil) -> JSONValue {
        var members: [(String, JSONValue)] = []
        if let context { members.append(("@odata.context", .string(context))) }
        var group: [(String, JSONValue)] = []
        var groupValue: (String, JSONValue)?
        func flush() {
            members += group
            if let groupValue { members.append(groupValue) }
            group = []
            groupValue = nil
        }
        for (index, role) in roles.enumerated() {
            let text = index < row.values.count ? row.values[index] : nil
            switch role {
            case .etag:
                members.append(("@odata.etag", .string("W/\"\(text ?? "0")\"")))
            case .value(let attribute):
                flush()
                groupValue = (attribute.propertyName, Self.json(text, kind: attribute.kind))
            case .formattedValue(let attribute):
                guard let text else { continue }
                group.insert(("\(attribute.propertyName)@\(Self.formatted)", .string(text)), at: 0)
            case .lookupLogicalName(let attribute):
                guard let text, let lookup = attribute.lookup else { continue }
                if annotations.includes(Self.navigation) {
                    let navigation = lookup.targets.count > 1 && attribute.name != "ownerid" ? "\(attribute.name)_\(text)" : attribute.name
                    group.append(("\(attribute.propertyName)@\(Self.navigation)", .string(navigation)))
                }
                if annotations.includes(Self.logicalName) {
                    group.append(("\(attribute.propertyName)@\(Self.logicalName)", .string(text)))
                }
            }
        }
        flush()
        return .object(members)
    }

    /// A column's text as JSON of its kind.
    static func json(_ text: String?, kind: AttributeKind) -> JSONValue {
        guard let text else { return .null }
        // Postgres' NaN and Infinity have no JSON form (nor Dataverse counterpart).
        if kind.isNumeric { return Double(text)?.isFinite == true ? .number(text) : .null }
        if kind == .boolean { return .bool(text == "true" || text == "t") }
        return .string(text)
    }

    /// The `(a,b)` part of an `@odata.context` for a selection, empty without `$select`.
    var contextSelection: String {
        isSelected ? "(" + attributes.map(\.propertyName).joined(separator: ",") + ")" : ""
    }
}

/// Joins the bookkeeping's row version to the table (alias `v`).
func versionJoin(_ entity: EntityInfo) -> PostgresQuery {
    guard let key = try? PostgresIdentifier(entity.primaryIdAttribute) else { return "" }
    return DataverseEmulator.rowVersions.join(schema: entity.schema, entity: entity.logicalName, key: key)
}
