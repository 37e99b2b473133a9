import EmulatorSupport
import Foundation

/// The CSDL `$metadata` document: schema `Microsoft.NAV` with an enum type per Postgres enum used, an
/// entity type per entity set (key `id`, typed properties, the company's navigation properties), and
/// the `NAV` entity container.
struct MetadataDocument {
    let catalog: Catalog

    var xml: String {
        let sets = catalog.allEntitySets
        var lines = [
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>",
            "<edmx:Edmx Version=\"4.0\" xmlns:edmx=\"http://docs.oasis-open.org/odata/ns/edmx\">",
            "<edmx:DataServices>",
            "<Schema Namespace=\"Microsoft.NAV\" xmlns=\"http://docs.oasis-open.org/odata/ns/edm\">",
        ]
        lines += enumTypes(sets)
        lines += entityType(catalog.companySet, navigation: sets)
        for set in sets { lines += entityType(set, navigation: []) }
        lines.append("<EntityContainer Name=\"NAV\">")
        lines.append("<EntitySet Name=\"companies\" EntityType=\"Microsoft.NAV.company\">")
        for set in sets { lines.append("<NavigationPropertyBinding Path=\"\(escaped(set.name))\" Target=\"\(escaped(set.name))\"/>") }
        lines.append("</EntitySet>")
        for set in sets { lines.append("<EntitySet Name=\"\(escaped(set.name))\" EntityType=\"Microsoft.NAV.\(escaped(set.typeName))\"/>") }
        lines += ["</EntityContainer>", "</Schema>", "</edmx:DataServices>", "</edmx:Edmx>"]
        return lines.joined(separator: "\n")
    }

    /// One `EnumType` per enum the properties use, its members numbered in label order.
    private func enumTypes(_ sets: [EntitySet]) -> [String] {
        var seen: [String: [String]] = [:]
        for property in sets.flatMap(\.properties) {
            if case .enumeration(let type, let labels) = property.kind { seen[type] = labels }
        }
        return seen.sorted { $0.key < $1.key }.flatMap { type, labels in
            ["<EnumType Name=\"\(escaped(type))\">"]
                + labels.enumerated().map { "<Member Name=\"\(escaped($1))\" Value=\"\($0)\"/>" }
                + ["</EnumType>"]
        }
    }

    private func entityType(_ set: EntitySet, navigation: [EntitySet]) -> [String] {
        var lines = ["<EntityType Name=\"\(escaped(set.typeName))\">", "<Key><PropertyRef Name=\"id\"/></Key>"]
        lines += set.properties.map(property)
        lines += navigation.map {
            "<NavigationProperty Name=\"\(escaped($0.name))\" Type=\"Collection(Microsoft.NAV.\(escaped($0.typeName)))\" ContainsTarget=\"true\"/>"
        }
        lines.append("</EntityType>")
        return lines
    }

    /// A `Property` with its type, `Nullable="false"` for NOT NULL, `MaxLength`, and `Precision`/`Scale` of decimals.
    private func property(_ property: Property) -> String {
        var attributes = "Name=\"\(escaped(property.name))\" Type=\"\(escaped(property.kind.edmType))\""
        if !property.nullable { attributes += " Nullable=\"false\"" }
        if let length = property.maxLength { attributes += " MaxLength=\"\(length)\"" }
        if property.kind == .decimal {
            attributes += property.precision.map { " Precision=\"\($0)\"" } ?? ""
            attributes += " Scale=\"" + (property.scale.map(String.init) ?? "Variable") + "\""
        }
        return "<Property \(attributes)/>"
    }

    private func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: "\"", with: "&quot;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
