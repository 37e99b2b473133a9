import Foundation
import Postgres

/// One side of a table mapping as configured: where its records live and how to read them.
public struct MappingSide: Sendable {
    /// The endpoint's name in `couplet.endpoints`.
    public var endpoint: String
    /// The table, possibly schema-qualified.
    public var table: PostgresIdentifier
    /// The key column (one column; its text form identifies a record).
    public var key: PostgresIdentifier
    /// The modified-on column (`timestamptz`, set by the side's own writers).
    public var modified: PostgresIdentifier
    /// Which records to synchronize, if not all.
    public var filter: RecordFilter?
    /// The newest modified-on fully handled on this side.
    public var watermark: Date?
    /// Where the endpoint's own change tracking resumes (nil: none yet, or the endpoint has none).
    public var changeToken: ChangeToken? = nil
    /// Default values for records a sync creates on this side.
    public var template: FieldValues
    /// The column naming the database role that last changed a record, if the side has one: a
    /// delta takes a record the integration's own endpoint login changed for the integration's write.
    public var modifiedBy: PostgresIdentifier? = nil
}

/// A field used for match-based coupling.
public struct MatchField: Sendable {
    /// The field mapping whose two columns must hold equal values.
    public var field: FieldMapping
    /// Fields of the lowest priority are tried first, together.
    public var priority: Int
    /// Whether `ABC` and `abc` differ.
    public var caseSensitive: Bool
}

/// A table mapping with its field mappings, as the engine runs it.
public struct MappingDefinition: Sendable {
    /// The settings the per-record decision needs.
    public var settings: MappingSettings
    /// The field mappings in configuration order.
    public var fields: [FieldMapping]
    /// The local (ERP) side.
    public var local: MappingSide
    /// The integration (CRM) side.
    public var integration: MappingSide
    /// Records read and written per batch.
    public var batchSize: Int
    /// The fields match-based coupling compares, lowest priority first.
    public var matchFields: [MatchField]
    /// The mapping's `updated_at` when it was loaded: a run advances watermarks only if the
    /// mapping has not changed since (an apply may have reset them).
    public var revision: Date? = nil
    /// Whether runs synchronize it (a disabled mapping's jobs do nothing).
    public var isEnabled = true

    /// One side by name.
    public func side(_ side: SyncSide) -> MappingSide { side == .local ? local : integration }

    /// The columns a pass reads on `side`: every field mapped there, but for a constant only where
    /// it is written (its source column is never read, and need not exist, as validation allows).
    public func columns(on side: SyncSide) -> [String] {
        let read = fields.filter { field in
            field.constant == nil || settings.direction.passes.contains { $0.target == side && field.direction.includes($0) }
        }
        return Array(Set(read.map { $0.field(on: side) })).sorted()
    }
}

/// Reads mappings from `couplet.table_mappings` and `couplet.field_mappings`.
public enum MappingStore {
    /// The mapping called `name`, with a clear error when it does not exist or its rules do not parse.
    public static func load(_ name: String, on db: PostgresConnection) async throws -> MappingDefinition {
        let rows = try await db.query(
            """
            SELECT local_endpoint, local_table, local_key, local_modified, local_filter, local_watermark,
                   integration_endpoint, integration_table, integration_key, integration_modified, integration_filter,
                   integration_watermark, direction, sync_only_coupled, allow_insert, update_conflict, deletion_conflict,
                   batch_size, updated_at, enabled, local_modified_by, integration_modified_by,
                   local_change_token, integration_change_token
            FROM couplet.table_mappings WHERE name = \(name)
            """, name: "load mapping")
        guard let row = rows.first else { throw SyncFailure(code: .configuration, message: "there is no mapping \"\(name)\"") }
        let templates = try await templates(of: name, on: db)
        var local = try side(row, offset: 0, template: templates["local"] ?? [:], what: "\(name) local")
        var integration = try side(row, offset: 6, template: templates["integration"] ?? [:], what: "\(name) integration")
        local.modifiedBy = try row.decode(String?.self, column: "local_modified_by")
            .map { try PostgresIdentifier($0, what: "\(name) local modified-by column") }
        integration.modifiedBy = try row.decode(String?.self, column: "integration_modified_by")
            .map { try PostgresIdentifier($0, what: "\(name) integration modified-by column") }
        local.changeToken = try row.decode(String?.self, column: "local_change_token").flatMap(ChangeToken.init)
        integration.changeToken = try row.decode(String?.self, column: "integration_change_token").flatMap(ChangeToken.init)
        let (fields, matchFields) = try await fieldsWithValueMaps(of: name, on: db)
        let settings = MappingSettings(
            name: name, localTable: local.table.description, integrationTable: integration.table.description,
            direction: try MappingDirection(stored: row.decode(String.self, column: "direction")),
            syncOnlyCoupled: try row.decode(Bool.self, column: "sync_only_coupled"),
            allowInsert: try row.decode(Bool.self, column: "allow_insert"),
            matchConfigured: !matchFields.isEmpty,
            updateConflictPolicy: try stored(UpdateConflictPolicy.self, row.decode(String.self, column: "update_conflict")),
            deletionConflictPolicy: try stored(DeletionConflictPolicy.self, row.decode(String.self, column: "deletion_conflict")))
        var definition = MappingDefinition(
            settings: settings, fields: fields, local: local, integration: integration,
            batchSize: try row.decode(Int.self, column: "batch_size"), matchFields: matchFields,
            revision: try row.decode(Date.self, column: "updated_at"))
        definition.isEnabled = try row.decode(Bool.self, column: "enabled")
        return definition
    }

    private static func side(_ row: PostgresRow, offset: Int, template: FieldValues, what: String) throws -> MappingSide {
        let (endpoint, table, key, modified, filter, watermark) = (
            try row.decode(String.self, at: offset), try row.decode(String.self, at: offset + 1),
            try row.decode(String.self, at: offset + 2), try row.decode(String.self, at: offset + 3),
            try row.decode(String?.self, at: offset + 4), try row.decode(Date?.self, at: offset + 5))
        return MappingSide(
            endpoint: endpoint, table: try PostgresIdentifier(qualified: table, what: "\(what) table"),
            key: try PostgresIdentifier(key, what: "\(what) key column"),
            modified: try PostgresIdentifier(modified, what: "\(what) modified-on column"),
            filter: try filter.map { text in try storedFilter(text, what: what) }, watermark: watermark, template: template)
    }

    /// A stored filter, parsed again: the table is input like any other, and text an older version
    /// accepted as SQL, or that someone wrote there directly, is refused before anything runs.
    private static func storedFilter(_ text: String, what: String) throws -> RecordFilter {
        do { return try RecordFilter(parsing: text) } catch {
            throw SyncFailure(
                code: .configuration,
                message: "mapping \(what) filter stored in couplet.table_mappings is not in Couplet's filter grammar: \(error); "
                    + "write it in the grammar (README, \"Filters\") and apply the mappings file again")
        }
    }

    /// The templates, as text: `jsonb_each_text` turns JSON numbers and booleans into their text.
    private static func templates(of mapping: String, on db: PostgresConnection) async throws -> [String: FieldValues] {
        var templates: [String: FieldValues] = ["local": [:], "integration": [:]]
        for row in try await db.query(
            """
            SELECT 'local', t.key, t.value FROM couplet.table_mappings m, jsonb_each_text(m.local_template) t WHERE m.name = \(mapping)
            UNION ALL
            SELECT 'integration', t.key, t.value FROM couplet.table_mappings m, jsonb_each_text(m.integration_template) t
            WHERE m.name = \(mapping)
            """, name: "load templates")
        {
            let (side, column, value) = try row.decode((String, String, String?).self)
            templates[side, default: [:]][column] = value
        }
        return templates
    }

    /// The field mappings of `mapping` in order, and those used for match-based coupling, lowest priority first.
    static func fields(of mapping: String, on db: PostgresConnection) async throws -> ([FieldMapping], [MatchField]) {
        var fields: [FieldMapping] = []
        var matchFields: [MatchField] = []
        for row in try await db.query(
            """
            SELECT local_field, integration_field, direction, to_integration_rule, from_integration_rule, constant,
                   not_null, clear_on_failure, comparison, match_priority, match_case_sensitive
            FROM couplet.field_mappings WHERE mapping = \(mapping) ORDER BY position
            """, name: "load field mappings")
        {
            let field = try fieldMapping(row)
            fields.append(field)
            if let priority = try row.decode(Int?.self, column: "match_priority") {
                matchFields.append(
                    MatchField(field: field, priority: priority, caseSensitive: try row.decode(Bool.self, column: "match_case_sensitive")))
            }
        }
        return (fields, matchFields.sorted { $0.priority < $1.priority })
    }

    private static func fieldMapping(_ row: PostgresRow) throws -> FieldMapping {
            let (local, integration, direction, toRule, fromRule, constant, notNull, clear, comparison) = try row.decode(
                (String, String, String, String?, String?, String?, Bool, Bool, String).self)
            return FieldMapping(
                local: local, integration: integration, direction: try MappingDirection(stored: direction),
                toIntegration: try toRule.map { try TransformationChain(parsing: $0) } ?? .identity,
                fromIntegration: try fromRule.map { try TransformationChain(parsing: $0) } ?? .identity,
                constant: constant, notNull: notNull, clearOnFailure: clear,
                comparison: comparison == "date_time" ? .dateTime : comparison == "numeric" ? .numeric : .text)
    }

    /// The enum case stored as `snake_case` text.
    static func stored<T: RawRepresentable & CaseIterable>(_ type: T.Type, _ text: String) throws -> T where T.RawValue == String {
        guard let value = T.allCases.first(where: { $0.rawValue.snakeCased == text }) else {
            throw SyncFailure(code: .configuration, message: "\"\(text)\" is not a valid \(T.self)")
        }
        return value
    }
}

extension MappingDirection {
    /// Reads `to_integration`, `from_integration` or `bidirectional`.
    init(stored text: String) throws {
        self = try MappingStore.stored(MappingDirection.self, text)
    }
}

extension SyncDirection {
    /// `to_integration` or `from_integration`, as stored in `couplet.sync_runs`.
    public var storedName: String { rawValue.snakeCased }

    /// The direction stored as `storedName`, if `text` is one.
    public init?(storedName text: String) {
        guard let direction = Self.allCases.first(where: { $0.storedName == text }) else { return nil }
        self = direction
    }
}

extension String {
    /// `toIntegration` → `to_integration`.
    var snakeCased: String {
        reduce(into: "") { text, character in
            if character.isUppercase { text += "_" + character.lowercased() } else { text.append(character) }
        }
    }
}
