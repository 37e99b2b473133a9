import YAMLFile

/// Warns about fields a mapping carries both ways with rules in one direction only (`uppercase`
/// to the integration, nothing back): a value the rules change reaches the other side changed and
/// comes back as it is. The engine does not write a value whose round trip changes nothing (see
/// `FieldDiff`), so such a field no longer rewrites the source's value when the other record
/// changes for another reason — but a person should decide what the way back is.
enum RoundTripCheck {
    /// One warning per such field of `definition`, at its rules.
    static func findings(for definition: TableMappingDefinition) -> [MappingFinding] {
        let mapping = definition.mapping
        guard mapping.settings.direction == .bidirectional else { return [] }
        return mapping.fields.enumerated().compactMap { index, field in
            guard field.direction == .bidirectional, field.constant == nil else { return nil }
            let ruled = SyncDirection.allCases.filter { !field.transformation(for: $0).rules.isEmpty }
            guard ruled.count == 1, let oneWay = ruled.first else { return nil }
            let rules = field.transformation(for: oneWay).description
            return MappingFinding(
                part: .rules(field: index, direction: oneWay), severity: .warning,
                message: "mapping \(mapping.settings.name): field \(field.localField) ↔ \(field.integrationField) travels both ways but has rules \(oneWay.storedName) only (\(rules)), so a value they change travels back unchanged. Add \(oneWay.opposite.storedName) rules that give \(mapping.settings.table(on: oneWay.source))'s form (the same rules when they normalise, like trim or uppercase), or make the field \(oneWay.storedName) only (direction: \(oneWay.storedName))")
        }
    }
}
