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
    }

    /// The last full run, if any.
    public var lastFull: LastRun?
    /// The last delta run, if any.
    public var lastDelta: LastRun?
    /// Records that failed in the last 24 hours.
    public var errorsLast24Hours: Int
    /// Records skipped after failing the same way twice.
    public var skippedRecords: Int
    /// Coupled record pairs.
    public var couplings: Int
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
    /// The health of every mapping (or of those named), by mapping name.
    public static func health(named names: [String]? = nil, on connection: PostgresConnection) async throws -> [String: MappingHealth] {
        var health: [String: MappingHealth] = [:]
        for row in try await connection.query(
            """
            SELECT mapping, last_full_at, last_full_state, last_delta_at, last_delta_state, errors_last_24h, skipped_records, couplings
            FROM couplet.sync_health WHERE \(names)::text[] IS NULL OR mapping = ANY(\(names)::text[])
            """, name: "mapping health")
        {
            let (name, fullAt, fullState, deltaAt, deltaState, errors, skipped, couplings) = try row.decode(
                (String, Date?, String?, Date?, String?, Int, Int, Int).self)
            health[name] = MappingHealth(
                lastFull: fullState.map { .init(finishedAt: fullAt, state: $0) },
                lastDelta: deltaState.map { .init(finishedAt: deltaAt, state: $0) },
                errorsLast24Hours: errors, skippedRecords: skipped, couplings: couplings)
        }
        return health
    }

    /// The latest `limit` passes of `mapping`, newest first.
    public static func recentRuns(of mapping: String, limit: Int = 10, on connection: PostgresConnection) async throws -> [SyncRunRecord] {
        try await connection.query(
            """
            SELECT id, kind, direction, state, started_at, finished_at, inserted, modified, deleted, unchanged, skipped, failed,
                   coupled, uncoupled, message
            FROM couplet.sync_runs WHERE mapping = \(mapping) ORDER BY started_at DESC, id DESC LIMIT \(limit)
            """, name: "recent runs"
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
