import Foundation
import Postgres

/// What `MappingStore.apply` changed (or, from `plan`, would change).
public struct MappingApplyReport: Sendable, Equatable {
    /// Names sorted by what happens to them.
    public struct Changes: Sendable, Equatable {
        /// Not stored before, in file order.
        public var created: [String] = []
        /// Stored with another configuration, in file order.
        public var updated: [String] = []
        /// Stored exactly so, in file order.
        public var unchanged: [String] = []
        /// Stored but not in the file, deleted because of `prune`, by name.
        public var deleted: [String] = []
        /// Stored but not in the file, kept because `prune` was off, by name.
        public var retained: [String] = []

        /// Whether anything is (or would be) written.
        public var hasChanges: Bool { !(created.isEmpty && updated.isEmpty && deleted.isEmpty) }

        /// Whether it names nothing at all: there was nothing of this kind, in the file or stored.
        public var isEmpty: Bool { !hasChanges && unchanged.isEmpty && retained.isEmpty }
    }

    /// A side whose table, key, modified-on column or endpoint changed, so its watermark was set to NULL
    /// and the next delta reads every record on that side.
    public struct WatermarkReset: Sendable, Equatable {
        /// The mapping.
        public var mapping: String
        /// The side.
        public var side: SyncSide
        /// What changed, e.g. `table customer → client`.
        public var changes: [String]
        /// The watermark before the reset.
        public var previous: Date
    }

    /// The endpoints.
    public var endpoints = Changes()
    /// The table mappings.
    public var mappings = Changes()
    /// The value maps.
    public var valueMaps = Changes()
    /// The watermarks reset.
    public var watermarkResets: [WatermarkReset] = []
    /// How many couplings each deleted mapping, and each mapping with a side reset, has (had).
    public var couplings: [String: Int] = [:]

    /// Whether anything is (or would be) written.
    public var hasChanges: Bool { endpoints.hasChanges || mappings.hasChanges || valueMaps.hasChanges }
}

extension MappingStore {
    /// Makes the stored endpoints, value maps and mappings match `file` in one transaction: creates the new
    /// ones, updates the changed ones (`updated_at = now()`, field mappings replaced) and, with
    /// `prune`, deletes the stored ones that are not in the file (a mapping's couplings go with it).
    ///
    /// Watermarks of unchanged mappings are never touched; a changed mapping keeps its watermarks
    /// unless a side's endpoint, table, key or modified-on column changed, in which case that
    /// side's watermark becomes NULL (the report says so). Applies run one at a time (the tables
    /// are locked against other writers until commit), so the report says exactly what this call did.
    @discardableResult
    public static func apply(_ file: MappingFileDefinition, prune: Bool, on connection: PostgresConnection) async throws
        -> MappingApplyReport
    {
        try await connection.withTransaction { transaction in
            try await transaction.runScript(
                "LOCK TABLE couplet.endpoints, couplet.table_mappings, couplet.value_maps IN SHARE ROW EXCLUSIVE MODE", name: "lock mappings")
            let report = try await plan(file, prune: prune, on: transaction)
            try await write(file, report, on: transaction)
            return report
        }
    }

    /// What `apply` would do now, without writing anything (a dry run).
    public static func plan(_ file: MappingFileDefinition, prune: Bool, on connection: PostgresConnection) async throws
        -> MappingApplyReport
    {
        var report = MappingApplyReport()
        report.endpoints = try await compareEndpoints(file.endpoints, prune: prune, on: connection)
        report.valueMaps = try await compareValueMaps(file.valueMaps, prune: prune, on: connection)
        let stored = Dictionary(uniqueKeysWithValues: try await storedMappings(on: connection).map { ($0.row.name, $0) })
        for definition in file.mappings {
            let row = MappingRow(definition)
            guard let old = stored[row.name] else {
                report.mappings.created.append(row.name)
                continue
            }
            if old.row == row { report.mappings.unchanged.append(row.name) } else { report.mappings.updated.append(row.name) }
            report.watermarkResets += resets(from: old, to: row)
        }
        let absent = stored.keys.filter { name in !file.mappings.contains { $0.name == name } }.sorted()
        if prune { report.mappings.deleted = absent } else { report.mappings.retained = absent }
        let concerned = report.mappings.deleted + report.watermarkResets.map(\.mapping)
        report.couplings = try await couplingCounts(of: concerned, on: connection)
        return report
    }

    /// The names of the stored mappings, each with what it depends on: what `MappingFile.parse`
    /// takes as `otherMappings` when the stored mappings stay.
    public static func dependencies(on connection: PostgresConnection) async throws -> [String: [String]] {
        var dependencies: [String: [String]] = [:]
        for row in try await connection.query("SELECT name, depends_on FROM couplet.table_mappings", name: "mapping dependencies") {
            let (name, dependsOn) = try row.decode((String, [String]).self)
            dependencies[name] = dependsOn
        }
        return dependencies
    }

    // MARK: - Comparing

    private static func compareEndpoints(
        _ endpoints: [EndpointDefinition], prune: Bool, on connection: PostgresConnection
    ) async throws -> MappingApplyReport.Changes {
        var stored: [String: EndpointDefinition] = [:]
        for endpoint in try await EndpointDefinition.stored(on: connection) { stored[endpoint.name] = endpoint }
        var changes = MappingApplyReport.Changes()
        for endpoint in endpoints {
            guard let old = stored[endpoint.name] else {
                changes.created.append(endpoint.name)
                continue
            }
            if old.kind == endpoint.kind, old.description == endpoint.description, old.settings == endpoint.settings {
                changes.unchanged.append(endpoint.name)
            } else {
                changes.updated.append(endpoint.name)
            }
        }
        let absent = stored.keys.filter { name in !endpoints.contains { $0.name == name } }.sorted()
        if prune { changes.deleted = absent } else { changes.retained = absent }
        return changes
    }

    /// The sides of `old` whose watermark `row` makes meaningless, when there is a watermark to lose.
    private static func resets(from old: StoredMapping, to row: MappingRow) -> [MappingApplyReport.WatermarkReset] {
        SyncSide.allCases.compactMap { side in
            let changes = old.row.side(side).changes(to: row.side(side))
            guard !changes.isEmpty, let watermark = old.watermark(side) else { return nil }
            return MappingApplyReport.WatermarkReset(mapping: row.name, side: side, changes: changes, previous: watermark)
        }
    }

    private static func couplingCounts(of mappings: [String], on connection: PostgresConnection) async throws -> [String: Int] {
        guard !mappings.isEmpty else { return [:] }
        var counts: [String: Int] = [:]
        for row in try await connection.query(
            "SELECT mapping, count(*) FROM couplet.couplings WHERE mapping = ANY(\(mappings)::text[]) GROUP BY mapping",
            name: "count couplings")
        {
            let (mapping, count) = try row.decode((String, Int).self)
            counts[mapping] = count
        }
        return counts
    }
}
