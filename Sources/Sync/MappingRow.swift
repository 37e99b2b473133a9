import Foundation
import Postgres

/// A table mapping's configuration as `couplet.table_mappings` and `couplet.field_mappings` store
/// it: names as written, choices in snake_case, rules in their text form. Two equal rows configure
/// the same mapping, so an apply writes only mappings whose row differs.
public struct MappingRow: Sendable, Equatable {
    /// One side's columns (`local_*` or `integration_*`).
    public struct Side: Sendable, Equatable {
        /// The endpoint's name.
        public var endpoint: String
        /// The table, `name` or `schema.name`.
        public var table: String
        /// The key column.
        public var key: String
        /// The modified-on column.
        public var modified: String
        /// The filter predicate, if any.
        public var filter: String?
        /// Default values for records created on this side.
        public var template: [String: String?] = [:]
        /// The modified-by column, if any.
        public var modifiedBy: String? = nil

        /// Whether `other` reads other records or another clock: a different endpoint, table, key or
        /// modified-on column, so that this side's watermark means nothing there.
        public func changes(to other: Side) -> [String] {
            [("endpoint", endpoint, other.endpoint), ("table", table, other.table), ("key", key, other.key),
             ("modified", modified, other.modified)]
                .filter { $0.1 != $0.2 }.map { "\($0.0) \($0.1) → \($0.2)" }
        }
    }

    /// One row of `couplet.field_mappings`.
    public struct Field: Sendable, Equatable {
        /// The local column.
        public var local: String
        /// The integration column.
        public var integration: String
        /// `to_integration`, `from_integration` or `bidirectional`.
        public var direction: String
        /// The rules local → integration (`trim | uppercase`), if any.
        public var toIntegration: String?
        /// The rules integration → local, if any.
        public var fromIntegration: String?
        /// The constant copied instead of the source column, if any.
        public var constant: String?
        /// Whether an empty value fails the record.
        public var notNull: Bool
        /// Whether a value the rules cannot handle is written as NULL.
        public var clearOnFailure: Bool
        /// `text`, `numeric` or `date_time`.
        public var comparison: String
        /// The match priority, when the field is used for match-based coupling.
        public var matchPriority: Int? = nil
        /// Whether matching on the field tells `ABC` from `abc`.
        public var matchCaseSensitive: Bool = false
    }

    /// The mapping's name.
    public var name: String
    /// The local (ERP) side.
    public var local: Side
    /// The integration (CRM) side.
    public var integration: Side
    /// `to_integration`, `from_integration` or `bidirectional`.
    public var direction: String
    /// Whether only coupled records are synchronized.
    public var syncOnlyCoupled: Bool
    /// Whether new target records may be inserted.
    public var allowInsert: Bool
    /// `fail`, `send_to_integration` or `get_from_integration`.
    public var updateConflict: String
    /// `fail`, `restore` or `remove_coupling`.
    public var deletionConflict: String
    /// The mappings that run first.
    public var dependsOn: [String]
    /// Records per batch.
    public var batchSize: Int
    /// Whether its jobs run.
    public var isEnabled: Bool
    /// The field mappings in position order.
    public var fields: [Field]

    /// One side by name.
    public func side(_ side: SyncSide) -> Side { side == .local ? local : integration }
}

extension MappingRow {
    /// The row that stores `definition`.
    public init(_ definition: TableMappingDefinition) {
        let mapping = definition.mapping
        let settings = mapping.settings
        self.init(
            name: definition.name, local: Side(mapping.local), integration: Side(mapping.integration),
            direction: settings.direction.snakeCaseName, syncOnlyCoupled: settings.syncOnlyCoupled,
            allowInsert: settings.allowInsert, updateConflict: settings.updateConflictPolicy.snakeCaseName,
            deletionConflict: settings.deletionConflictPolicy.snakeCaseName, dependsOn: definition.dependsOn,
            batchSize: mapping.batchSize, isEnabled: definition.isEnabled,
            fields: mapping.fields.map { field in Field(field, match: mapping.matchFields.first { $0.field == field }) })
    }
}

extension MappingRow.Side {
    init(_ side: MappingSide) {
        self.init(endpoint: side.endpoint, table: side.table.description, key: side.key.description,
                  modified: side.modified.description, filter: side.filter?.text, template: side.template,
                  modifiedBy: side.modifiedBy?.description)
    }
}

extension MappingRow.Field {
    init(_ field: FieldMapping, match: MatchField?) {
        func text(_ chain: TransformationChain) -> String? { chain.rules.isEmpty ? nil : chain.description }
        self.init(
            local: field.localField, integration: field.integrationField, direction: field.direction.snakeCaseName,
            toIntegration: text(field.toIntegration), fromIntegration: text(field.fromIntegration), constant: field.constant,
            notNull: field.notNull, clearOnFailure: field.clearOnFailure, comparison: field.comparison.snakeCaseName,
            matchPriority: match?.priority, matchCaseSensitive: match?.caseSensitive ?? false)
    }
}

/// A mapping as stored: its configuration, its watermarks and when it last changed.
public struct StoredMapping: Sendable, Equatable {
    /// The configuration.
    public var row: MappingRow
    /// The newest modified-on fully handled on the local side.
    public var localWatermark: Date?
    /// The newest modified-on fully handled on the integration side.
    public var integrationWatermark: Date?
    /// When an apply (or SQL) last changed it.
    public var updatedAt: Date

    /// One side's watermark.
    public func watermark(_ side: SyncSide) -> Date? { side == .local ? localWatermark : integrationWatermark }
}
