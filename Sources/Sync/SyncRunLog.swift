import Foundation
import Postgres

/// One pass of a job's sync so far, for following its progress.
public struct SyncPassProgress: Sendable, Equatable {
    public var mapping: String
    /// `to_integration` or `from_integration`.
    public var direction: String
    public var inserted: Int
    public var modified: Int
    public var unchanged: Int
    public var skipped: Int
    public var failed: Int
    public var uncoupled: Int
}

/// The progress of sync jobs, from `couplet.sync_runs` (the runs each pass logs and updates as it goes).
public enum SyncRunLog {
    /// The passes job `id` logged so far, oldest first; passes an interrupted attempt left behind are
    /// not counted (the next attempt runs them again).
    public static func passes(ofJob id: Int64, on connection: PostgresConnection) async throws -> [SyncPassProgress] {
        try await connection.query(
            """
            SELECT mapping, direction, inserted, modified, unchanged, skipped, failed, uncoupled
            FROM couplet.sync_runs WHERE job_id = \(id) AND coalesce(message, '') NOT LIKE 'interrupted:%' ORDER BY id
            """, name: "sync progress"
        ).map { row in
            let (mapping, direction, inserted, modified, unchanged, skipped, failed, uncoupled) = try row.decode(
                (String, String, Int, Int, Int, Int, Int, Int).self)
            return SyncPassProgress(
                mapping: mapping, direction: direction, inserted: inserted, modified: modified, unchanged: unchanged, skipped: skipped,
                failed: failed, uncoupled: uncoupled)
        }
    }
}
