import Foundation
import Postgres

/// How a mapping is doing, from `couplet.sync_health`.
public struct MappingHealth: Sendable, Equatable {
    /// How the latest run of one kind went.
    public struct LastRun: Sendable, Equatable {
        /// When it finished (nil while it runs).
        public var finishedAt: Date?
        /// `running`, `succeeded` or `failed`.
        public var state: String
        /// What its pass to the integration did (so far, while it runs); nil when it had none.
        public var toIntegration: SyncCounts?
        /// What its pass from the integration did; nil when it had none.
        public var fromIntegration: SyncCounts?

        /// The passes it ran, the one to the integration first, with their counts.
        public var passes: [(direction: SyncDirection, counts: SyncCounts)] {
            [(SyncDirection.toIntegration, toIntegration), (.fromIntegration, fromIntegration)]
                .compactMap { direction, counts in counts.map { (direction, $0) } }
        }
    }

    /// The last full run, if any.
    public var lastFull: LastRun?
    /// The last delta run, if any.
    public var lastDelta: LastRun?
    /// Errors seen in the last 24 hours, one per record and failure class however often it repeated.
    public var errorsLast24Hours: Int
    /// Errors still open: records failing now, one per record and failure class (`couplet errors`).
    public var openErrors: Int
    /// Records skipped after failing the same way twice.
    public var skippedRecords: Int
    /// Coupled record pairs.
    public var couplings: Int
    /// How far behind now the local side's watermark is, in seconds (nil before a run set it).
    public var localWatermarkLag: Double?
    /// How far behind now the integration side's watermark is, in seconds (nil before a run set it).
    public var integrationWatermarkLag: Double?
}

/// One logged pass of a mapping, from `couplet.sync_runs`.
public struct SyncRunRecord: Sendable, Equatable {
    /// The run's id.
    public var id: Int64
    /// `full` or `delta`.
    public var kind: String
    /// `to_integration` or `from_integration`.
    public var direction: String
    /// `running`, `succeeded` or `failed`.
    public var state: String
    /// When it started.
    public var startedAt: Date
    /// When it finished, if it has.
    public var finishedAt: Date?
    /// What it did.
    public var counts: SyncCounts
    /// Why it failed, or a note.
    public var message: String?
}

extension MappingStore {
    /// The health of every mapping (or of those named), by mapping name: `couplet.sync_health` with
    /// the counts of each pass of the last full and delta run (the job of the run the view picks, through the runs' index).
    public static func health(named names: [String]? = nil, on connection: PostgresConnection) async throws -> [String: MappingHealth] {
        var health: [String: MappingHealth] = [:]
        for row in try await connection.query(
            """
            SELECT h.mapping, h.last_full_at, h.last_full_state, h.last_delta_at, h.last_delta_state, h.errors_last_24h, h.open_errors,
                   h.skipped_records, h.couplings, extract(epoch FROM h.local_watermark_lag)::float8 AS local_lag,
                   extract(epoch FROM h.integration_watermark_lag)::float8 AS integration_lag,
                   full_run.to_counts AS full_to_counts, full_run.from_counts AS full_from_counts,
                   delta_run.to_counts AS delta_to_counts, delta_run.from_counts AS delta_from_counts
            FROM couplet.sync_health h
            LEFT JOIN LATERAL (\(Self.lastRunCounts(kind: "full"))) full_run ON true
            LEFT JOIN LATERAL (\(Self.lastRunCounts(kind: "delta"))) delta_run ON true
            WHERE \(names)::text[] IS NULL OR h.mapping = ANY(\(names)::text[])
            """, name: "mapping health")
        {
            health[try row.decode(String.self, column: "mapping")] = try MappingHealth(row: row)
        }
        return health
    }

    /// The counts of each pass (`to_counts`, `from_counts`) of the job of the mapping's latest run of
    /// `kind`, each as one int array in `SyncCounts` order (NULL for a pass the job did not run).
    private static func lastRunCounts(kind: String) -> PostgresQuery {
        """
        SELECT (\(passCounts(kind: kind, direction: "to_integration"))) AS to_counts,
               (\(passCounts(kind: kind, direction: "from_integration"))) AS from_counts
        FROM (SELECT r.job_id FROM couplet.sync_runs r WHERE r.mapping = h.mapping AND r.kind = \(kind)
              ORDER BY r.started_at DESC LIMIT 1) latest
        """
    }

    /// The counts of the latest pass in `direction` of `latest.job_id`'s run of `kind`.
    private static func passCounts(kind: String, direction: String) -> PostgresQuery {
        """
        SELECT ARRAY[r.inserted, r.modified, r.deleted, r.unchanged, r.skipped, r.failed, r.coupled, r.uncoupled]
        FROM couplet.sync_runs r
        WHERE r.mapping = h.mapping AND r.kind = \(kind) AND r.direction = \(direction) AND r.job_id IS NOT DISTINCT FROM latest.job_id
        ORDER BY r.started_at DESC LIMIT 1
        """
    }

    /// The latest `limit` passes of `mapping`, newest first.
    public static func recentRuns(of mapping: String, limit: Int = 10, on connection: PostgresConnection) async throws -> [SyncRunRecord] {
        try await runs(where: "mapping = \(mapping)", limit: limit, on: connection)
    }

    /// The passes the job `id` logged (a sync, match or records job), newest first.
    public static func runs(ofJob id: Int64, on connection: PostgresConnection) async throws -> [SyncRunRecord] {
        try await runs(where: "job_id = \(id)", limit: 100, on: connection)
    }

    /// The latest `limit` passes that meet `condition`, newest first.
    private static func runs(where condition: PostgresQuery, limit: Int, on connection: PostgresConnection) async throws -> [SyncRunRecord] {
        try await connection.query(
            """
            SELECT id, kind, direction, state, started_at, finished_at, inserted, modified, deleted, unchanged, skipped, failed,
                   coupled, uncoupled, message
            FROM couplet.sync_runs WHERE \(condition) ORDER BY started_at DESC, id DESC LIMIT \(limit)
            """, name: "sync runs"
        ).map { row in
            var counts = SyncCounts()
            (counts.inserted, counts.modified, counts.deleted, counts.unchanged) = try (
                row.decode(column: "inserted"), row.decode(column: "modified"), row.decode(column: "deleted"), row.decode(column: "unchanged"))
            (counts.skipped, counts.failed, counts.coupled, counts.uncoupled) = try (
                row.decode(column: "skipped"), row.decode(column: "failed"), row.decode(column: "coupled"), row.decode(column: "uncoupled"))
            return SyncRunRecord(
                id: try row.decode(column: "id"), kind: try row.decode(column: "kind"), direction: try row.decode(column: "direction"),
                state: try row.decode(column: "state"), startedAt: try row.decode(column: "started_at"),
                finishedAt: try row.decode(column: "finished_at"), counts: counts, message: try row.decode(column: "message"))
        }
    }
}

extension MappingHealth {
    /// Reads a row of `MappingStore.health`'s statement.
    init(row: PostgresRow) throws {
        func lastRun(_ prefix: String) throws -> LastRun? {
            guard let state = try row.decode(String?.self, column: "last_\(prefix)_state") else { return nil }
            let toIntegration = try row.decode([Int]?.self, column: "\(prefix)_to_counts").map(SyncCounts.init)
            let fromIntegration = try row.decode([Int]?.self, column: "\(prefix)_from_counts").map(SyncCounts.init)
            return LastRun(
                finishedAt: try row.decode(column: "last_\(prefix)_at"), state: state, toIntegration: toIntegration,
                fromIntegration: fromIntegration)
        }
        self.init(
            lastFull: try lastRun("full"), lastDelta: try lastRun("delta"), errorsLast24Hours: try row.decode(column: "errors_last_24h"),
            openErrors: try row.decode(column: "open_errors"),
            skippedRecords: try row.decode(column: "skipped_records"), couplings: try row.decode(column: "couplings"),
            localWatermarkLag: try row.decode(column: "local_lag"), integrationWatermarkLag: try row.decode(column: "integration_lag"))
    }
}

extension SyncCounts {
    /// Counts from an array in declaration order (inserted … uncoupled); missing ones are zero.
    init(_ values: [Int]) {
        let value = { (index: Int) in index < values.count ? values[index] : 0 }
        self.init()
        (inserted, modified, deleted, unchanged) = (value(0), value(1), value(2), value(3))
        (skipped, failed, coupled, uncoupled) = (value(4), value(5), value(6), value(7))
    }
}
