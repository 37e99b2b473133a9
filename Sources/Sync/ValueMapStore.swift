import Postgres

extension MappingStore {
    /// The stored value maps (all, or those named), by name, each with its pairs in file order.
    public static func storedValueMaps(named names: [String]? = nil, on connection: PostgresConnection) async throws -> [ValueMap] {
        try await connection.query(
            """
            SELECT m.name, m.has_default_to_integration, m.default_to_integration,
                   m.has_default_from_integration, m.default_from_integration,
                   coalesce(array_agg(p.local_value ORDER BY p.position) FILTER (WHERE p.position IS NOT NULL), '{}'),
                   coalesce(array_agg(p.integration_value ORDER BY p.position) FILTER (WHERE p.position IS NOT NULL), '{}')
            FROM couplet.value_maps m LEFT JOIN couplet.value_map_pairs p ON p.value_map = m.name
            WHERE \(names)::text[] IS NULL OR m.name = ANY(\(names)::text[])
            GROUP BY m.name ORDER BY m.name
            """, name: "stored value maps"
        ).map { row in
            let (name, hasToDefault, toDefault, hasFromDefault, fromDefault, locals, integrations) = try row.decode(
                (String, Bool, String?, Bool, String?, [String], [String]).self)
            return ValueMap(
                name: name, pairs: zip(locals, integrations).map(ValuePair.init),
                toIntegrationDefault: hasToDefault ? .replace(with: toDefault) : .fail,
                fromIntegrationDefault: hasFromDefault ? .replace(with: fromDefault) : .fail)
        }
    }

    /// The names of the stored value maps: what `MappingFile.parse` takes as `otherValueMaps` when they stay.
    public static func valueMapNames(on connection: PostgresConnection) async throws -> Set<String> {
        Set(try await storedValueMaps(on: connection).map(\.name))
    }

    /// The field mappings of `mapping` (and its match fields) with their `map` rules bound to the
    /// stored value maps; a configuration failure when a rule names a value map that is not stored.
    static func fieldsWithValueMaps(of mapping: String, on db: PostgresConnection) async throws -> ([FieldMapping], [MatchField]) {
        let (fields, matchFields) = try await fields(of: mapping, on: db)
        let names = fields.reduce(into: Set<String>()) { names, field in names.formUnion(field.referencedValueMaps) }
        guard !names.isEmpty else { return (fields, matchFields) }
        let maps = Dictionary(try await storedValueMaps(named: names.sorted(), on: db).map { ($0.name, $0) },
                              uniquingKeysWith: { first, _ in first })
        if let missing = names.sorted().first(where: { maps[$0] == nil }) {
            throw SyncFailure(
                code: .configuration,
                message: "mapping \(mapping) uses map(\(missing)), but there is no value map \(missing); "
                    + "declare it under value_maps in the mappings file and apply the file again")
        }
        let bound = matchFields.map { match in
            MatchField(field: match.field.binding(maps), priority: match.priority, caseSensitive: match.caseSensitive)
        }
        return (fields.map { $0.binding(maps) }, bound)
    }

    // MARK: - Applying

    /// Which of `valueMaps` are new, changed or stored exactly so, and which stored ones are not in the file.
    static func compareValueMaps(_ valueMaps: [ValueMap], prune: Bool, on connection: PostgresConnection) async throws
        -> MappingApplyReport.Changes
    {
        let stored = Dictionary(try await storedValueMaps(on: connection).map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var changes = MappingApplyReport.Changes()
        for map in valueMaps {
            switch stored[map.name] {
            case nil: changes.created.append(map.name)
            case map: changes.unchanged.append(map.name)
            default: changes.updated.append(map.name)
            }
        }
        let absent = stored.keys.filter { name in !valueMaps.contains { $0.name == name } }.sorted()
        if prune { changes.deleted = absent } else { changes.retained = absent }
        return changes
    }

    /// Writes the value maps `changes` created or updated (their pairs replaced) and deletes the pruned ones.
    static func writeValueMaps(_ valueMaps: [ValueMap], _ changes: MappingApplyReport.Changes, on connection: PostgresConnection)
        async throws
    {
        if !changes.deleted.isEmpty {
            try await connection.query("DELETE FROM couplet.value_maps WHERE name = ANY(\(changes.deleted)::text[])", name: "delete value maps")
        }
        for map in valueMaps where changes.created.contains(map.name) || changes.updated.contains(map.name) {
            try await write(map, on: connection)
        }
    }

    private static func write(_ map: ValueMap, on connection: PostgresConnection) async throws {
        let (hasToDefault, toDefault) = stored(map.toIntegrationDefault)
        let (hasFromDefault, fromDefault) = stored(map.fromIntegrationDefault)
        try await connection.query(
            """
            INSERT INTO couplet.value_maps (name, has_default_to_integration, default_to_integration,
                                            has_default_from_integration, default_from_integration)
            VALUES (\(map.name), \(hasToDefault), \(toDefault), \(hasFromDefault), \(fromDefault))
            ON CONFLICT (name) DO UPDATE SET
                has_default_to_integration = excluded.has_default_to_integration,
                default_to_integration = excluded.default_to_integration,
                has_default_from_integration = excluded.has_default_from_integration,
                default_from_integration = excluded.default_from_integration,
                updated_at = now()
            """, name: "write value map")
        try await connection.query("DELETE FROM couplet.value_map_pairs WHERE value_map = \(map.name)", name: "delete value map pairs")
        try await connection.query(
            """
            INSERT INTO couplet.value_map_pairs (value_map, position, local_value, integration_value)
            SELECT \(map.name), p.position, p.local_value, p.integration_value
            FROM unnest(\(map.pairs.map(\.local))::text[], \(map.pairs.map(\.integration))::text[])
                 WITH ORDINALITY AS p(local_value, integration_value, position)
            """, name: "insert value map pairs")
    }

    /// A default as the two columns store it: whether there is one, and its value.
    private static func stored(_ unmapped: UnmappedValue) -> (Bool, String?) {
        guard case .replace(let value) = unmapped else { return (false, nil) }
        return (true, value)
    }
}
