import Foundation
import Postgres

extension MappingStore {
    /// The stored mappings (all, or those named), by name, with their field mappings. Rows are
    /// read as stored, so a mapping written by SQL with a rule that does not parse still shows.
    public static func storedMappings(named names: [String]? = nil, on connection: PostgresConnection) async throws
        -> [StoredMapping]
    {
        let fields = try await storedFields(named: names, on: connection)
        return try await connection.query(
            """
            SELECT name, local_endpoint, local_table, local_key, local_modified, local_filter,
                   integration_endpoint, integration_table, integration_key, integration_modified, integration_filter,
                   direction, sync_only_coupled, allow_insert, update_conflict, deletion_conflict, depends_on,
                   batch_size, enabled, local_watermark, integration_watermark, updated_at,
                   local_template, integration_template, local_modified_by, integration_modified_by
            FROM couplet.table_mappings WHERE \(names)::text[] IS NULL OR name = ANY(\(names)::text[])
            ORDER BY name
            """, name: "stored mappings"
        ).map { row in try storedMapping(row, fields: fields[try row.decode(String.self, at: 0)] ?? []) }
    }

    private static func storedMapping(_ row: PostgresRow, fields: [MappingRow.Field]) throws -> StoredMapping {
        func side(_ offset: Int, template: String, modifiedBy: String) throws -> MappingRow.Side {
            let (endpoint, table, key, modified, filter) = try (
                row.decode(String.self, at: offset), row.decode(String.self, at: offset + 1),
                row.decode(String.self, at: offset + 2), row.decode(String.self, at: offset + 3),
                row.decode(String?.self, at: offset + 4))
            let values = try row.decode(PostgresJSON<[String: String?]>.self, column: template).value
            return MappingRow.Side(
                endpoint: endpoint, table: table, key: key, modified: modified, filter: filter, template: values,
                modifiedBy: try row.decode(String?.self, column: modifiedBy))
        }
        let mapping = MappingRow(
            name: try row.decode(column: "name"), local: try side(1, template: "local_template", modifiedBy: "local_modified_by"),
            integration: try side(6, template: "integration_template", modifiedBy: "integration_modified_by"),
            direction: try row.decode(column: "direction"), syncOnlyCoupled: try row.decode(column: "sync_only_coupled"),
            allowInsert: try row.decode(column: "allow_insert"), updateConflict: try row.decode(column: "update_conflict"),
            deletionConflict: try row.decode(column: "deletion_conflict"), dependsOn: try row.decode(column: "depends_on"),
            batchSize: try row.decode(column: "batch_size"), isEnabled: try row.decode(column: "enabled"), fields: fields)
        return StoredMapping(
            row: mapping, localWatermark: try row.decode(column: "local_watermark"),
            integrationWatermark: try row.decode(column: "integration_watermark"), updatedAt: try row.decode(column: "updated_at"))
    }

    private static func storedFields(named names: [String]?, on connection: PostgresConnection) async throws
        -> [String: [MappingRow.Field]]
    {
        var fields: [String: [MappingRow.Field]] = [:]
        for row in try await connection.query(
            """
            SELECT mapping, local_field, integration_field, direction, to_integration_rule, from_integration_rule, constant,
                   not_null, clear_on_failure, comparison, match_priority, match_case_sensitive
            FROM couplet.field_mappings WHERE \(names)::text[] IS NULL OR mapping = ANY(\(names)::text[])
            ORDER BY mapping, position
            """, name: "stored field mappings")
        {
            let (mapping, local, integration, direction, toRule, fromRule, constant, notNull, clear, comparison) = try row.decode(
                (String, String, String, String, String?, String?, String?, Bool, Bool, String).self)
            fields[mapping, default: []].append(MappingRow.Field(
                local: local, integration: integration, direction: direction, toIntegration: toRule, fromIntegration: fromRule,
                constant: constant, notNull: notNull, clearOnFailure: clear, comparison: comparison,
                matchPriority: try row.decode(column: "match_priority"), matchCaseSensitive: try row.decode(column: "match_case_sensitive")))
        }
        return fields
    }

    // MARK: - Writing

    /// Writes what `report` planned: endpoints and value maps first, so new mappings can name them; pruned endpoints last.
    static func write(_ file: MappingFileDefinition, _ report: MappingApplyReport, on connection: PostgresConnection) async throws {
        try await writeValueMaps(file.valueMaps, report.valueMaps, on: connection)
        for endpoint in file.endpoints where report.endpoints.created.contains(endpoint.name) || report.endpoints.updated.contains(endpoint.name) {
            try await connection.query(
                """
                INSERT INTO couplet.endpoints (name, kind, description, settings)
                VALUES (\(endpoint.name), \(endpoint.kind), \(endpoint.description), \(EndpointDefinition.settingsJSON(endpoint.settings))::jsonb)
                ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, description = excluded.description, settings = excluded.settings
                """, name: "write endpoint")
        }
        if !report.mappings.deleted.isEmpty {
            try await connection.query(
                "DELETE FROM couplet.table_mappings WHERE name = ANY(\(report.mappings.deleted)::text[])", name: "delete mappings")
        }
        for row in file.mappings.map(MappingRow.init) {
            if report.mappings.created.contains(row.name) { try await insert(row, on: connection) }
            if report.mappings.updated.contains(row.name) {
                let reset = Set(report.watermarkResets.filter { $0.mapping == row.name }.map(\.side))
                try await update(row, resetting: reset, on: connection)
            }
        }
        if !report.endpoints.deleted.isEmpty {
            try await connection.query(
                "DELETE FROM couplet.endpoints WHERE name = ANY(\(report.endpoints.deleted)::text[])", name: "delete endpoints")
        }
    }

    private static func insert(_ row: MappingRow, on connection: PostgresConnection) async throws {
        let (local, integration) = (row.local, row.integration)
        try await connection.query(
            """
            INSERT INTO couplet.table_mappings (
                name, local_endpoint, local_table, local_key, local_modified, local_filter,
                integration_endpoint, integration_table, integration_key, integration_modified, integration_filter,
                direction, sync_only_coupled, allow_insert, update_conflict, deletion_conflict, depends_on, batch_size, enabled,
                local_template, integration_template, local_modified_by, integration_modified_by)
            VALUES (\(row.name), \(local.endpoint), \(local.table), \(local.key), \(local.modified), \(local.filter),
                    \(integration.endpoint), \(integration.table), \(integration.key), \(integration.modified), \(integration.filter),
                    \(row.direction), \(row.syncOnlyCoupled), \(row.allowInsert), \(row.updateConflict), \(row.deletionConflict),
                    \(row.dependsOn)::text[], \(row.batchSize), \(row.isEnabled), \(try PostgresJSON(local.template)),
                    \(try PostgresJSON(integration.template)), \(local.modifiedBy), \(integration.modifiedBy))
            """, name: "insert mapping")
        try await insertFields(of: row, on: connection)
    }

    /// Updates the mapping's row, setting the watermarks of `reset` sides to NULL and the change
    /// tokens of sides now on another endpoint or table (a token names the changes of one table),
    /// and replaces its field mappings.
    private static func update(_ row: MappingRow, resetting reset: Set<SyncSide>, on connection: PostgresConnection) async throws {
        let (local, integration) = (row.local, row.integration)
        try await connection.query(
            """
            UPDATE couplet.table_mappings SET
                local_endpoint = \(local.endpoint), local_table = \(local.table), local_key = \(local.key),
                local_modified = \(local.modified), local_filter = \(local.filter),
                integration_endpoint = \(integration.endpoint), integration_table = \(integration.table),
                integration_key = \(integration.key), integration_modified = \(integration.modified),
                integration_filter = \(integration.filter), direction = \(row.direction),
                sync_only_coupled = \(row.syncOnlyCoupled), allow_insert = \(row.allowInsert),
                update_conflict = \(row.updateConflict), deletion_conflict = \(row.deletionConflict),
                depends_on = \(row.dependsOn)::text[], batch_size = \(row.batchSize), enabled = \(row.isEnabled),
                local_template = \(try PostgresJSON(local.template)), integration_template = \(try PostgresJSON(integration.template)),
                local_modified_by = \(local.modifiedBy), integration_modified_by = \(integration.modifiedBy),
                local_watermark = CASE WHEN \(reset.contains(.local)) THEN NULL ELSE local_watermark END,
                integration_watermark = CASE WHEN \(reset.contains(.integration)) THEN NULL ELSE integration_watermark END,
                local_change_token = CASE WHEN local_endpoint = \(local.endpoint) AND local_table = \(local.table)
                    THEN local_change_token END,
                integration_change_token = CASE WHEN integration_endpoint = \(integration.endpoint)
                    AND integration_table = \(integration.table) THEN integration_change_token END,
                updated_at = now()
            WHERE name = \(row.name)
            """, name: "update mapping")
        try await connection.query("DELETE FROM couplet.field_mappings WHERE mapping = \(row.name)", name: "delete field mappings")
        try await insertFields(of: row, on: connection)
    }

    private static func insertFields(of row: MappingRow, on connection: PostgresConnection) async throws {
        let fields = row.fields
        try await connection.query(
            """
            INSERT INTO couplet.field_mappings (mapping, position, local_field, integration_field, direction, to_integration_rule,
                                                from_integration_rule, constant, not_null, clear_on_failure, comparison,
                                                match_priority, match_case_sensitive)
            SELECT \(row.name), f.position, f.local_field, f.integration_field, f.direction, f.to_rule, f.from_rule, f.constant,
                   f.not_null, f.clear_on_failure, f.comparison, f.match_priority, f.match_case_sensitive
            FROM unnest(\(fields.map(\.local))::text[], \(fields.map(\.integration))::text[], \(fields.map(\.direction))::text[],
                        \(fields.map(\.toIntegration))::text[], \(fields.map(\.fromIntegration))::text[],
                        \(fields.map(\.constant))::text[], \(fields.map(\.notNull))::boolean[],
                        \(fields.map(\.clearOnFailure))::boolean[], \(fields.map(\.comparison))::text[],
                        \(fields.map(\.matchPriority))::int8[], \(fields.map(\.matchCaseSensitive))::boolean[])
                 WITH ORDINALITY AS f(local_field, integration_field, direction, to_rule, from_rule, constant, not_null,
                                      clear_on_failure, comparison, match_priority, match_case_sensitive, position)
            """, name: "insert field mappings")
    }
}
