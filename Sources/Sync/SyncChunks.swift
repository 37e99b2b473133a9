import Foundation
import Postgres

/// The job attempt that runs part of a sync, so a chunk held by a job that stopped running can be taken back.
public struct JobAttempt: Sendable, Hashable {
    /// The job's id.
    public var id: Int64
    /// Which attempt of it.
    public var attempt: Int

    /// Names one attempt of one job.
    public init(id: Int64, attempt: Int) {
        self.id = id
        self.attempt = attempt
    }
}

/// How a full run shares its work: the size of its key-range chunks, how many helper jobs it may
/// enqueue to sync chunks beside it, and the job attempt running it.
public struct FullSyncSharing: Sendable {
    /// Records per chunk, about.
    public var chunkRows: Int
    /// Helper jobs to enqueue at most (0: the run syncs every chunk itself).
    public var helpers: Int
    /// The job attempt running the run, if a job runs it.
    public var job: JobAttempt?

    /// A run on its own: chunks of 50,000 records, no helpers.
    public static let alone = FullSyncSharing(chunkRows: 50_000, helpers: 0, job: nil)

    /// Shares a full run in chunks of `chunkRows` with up to `helpers` helper jobs.
    public init(chunkRows: Int, helpers: Int, job: JobAttempt?) {
        self.chunkRows = chunkRows
        self.helpers = helpers
        self.job = job
    }
}

/// One key range of a full run.
struct SyncChunk {
    let number: Int
    let range: KeyRange
}

/// What the chunks of a run saw: the newest modified-on read, and the oldest of a record left for the next run.
struct RecordsSeen {
    var newest: Date?
    var oldestLeft: Date?
}

/// The key-range chunks of one full run's pass in `couplet.sync_chunks` (Schema/0008), claimed by
/// the run's own job and its helpers with `FOR UPDATE SKIP LOCKED`.
struct SyncChunks {
    let runID: Int64
    let coordination: PostgresConnection

    /// Stores the chunks that `boundaries` (ascending keys) cut the key space into: up to the first,
    /// between each two, after the last.
    func plan(boundaries: [String]) async throws {
        let lower: [String?] = [nil] + boundaries
        let upper: [String?] = boundaries + [nil]
        try await coordination.query(
            """
            INSERT INTO couplet.sync_chunks (run_id, chunk, after_key, up_to_key)
            SELECT \(runID), n::int, a, u FROM unnest(\(lower)::text[], \(upper)::text[]) WITH ORDINALITY AS c(a, u, n)
            """, name: "plan sync chunks")
    }

    /// Takes the next pending chunk for `job`, if the run still runs and a chunk is pending.
    func claim(by job: JobAttempt?) async throws -> SyncChunk? {
        try await coordination.query(
            """
            UPDATE couplet.sync_chunks c SET state = 'running', job_id = \(job?.id), attempt = \(job?.attempt), started_at = now()
            FROM (SELECT run_id, chunk FROM couplet.sync_chunks
                  WHERE run_id = \(runID) AND state = 'pending'
                    AND EXISTS (SELECT FROM couplet.sync_runs WHERE id = \(runID) AND state = 'running')
                  ORDER BY chunk LIMIT 1 FOR UPDATE SKIP LOCKED) AS next
            WHERE (c.run_id, c.chunk) = (next.run_id, next.chunk)
            RETURNING c.chunk, c.after_key, c.up_to_key
            """, name: "claim sync chunk"
        ).map { row in
            let (number, after, upTo) = try row.decode((Int, String?, String?).self)
            return SyncChunk(number: number, range: KeyRange(after: after, upTo: upTo))
        }.first
    }

    /// Marks a chunk done with what it saw.
    func finish(_ chunk: SyncChunk, records: Int, seen: RecordsSeen) async throws {
        try await coordination.query(
            """
            UPDATE couplet.sync_chunks SET state = 'done', finished_at = now(), records = \(records),
                newest_modified = \(seen.newest), oldest_left = \(seen.oldestLeft)
            WHERE run_id = \(runID) AND chunk = \(chunk.number)
            """, name: "finish sync chunk")
    }

    /// Puts back to pending the chunks whose job attempt no longer runs (its worker died, it failed);
    /// returns how many chunks are not done and how many of those are pending.
    func reclaimAbandoned() async throws -> (notDone: Int, pending: Int) {
        try await coordination.query(
            """
            UPDATE couplet.sync_chunks c SET state = 'pending', job_id = NULL, attempt = NULL
            WHERE run_id = \(runID) AND state = 'running' AND job_id IS NOT NULL
              AND NOT EXISTS (SELECT FROM couplet.jobs j WHERE j.id = c.job_id AND j.state = 'running' AND j.attempt = c.attempt)
            """, name: "reclaim sync chunks")
        return try await coordination.query(
            """
            SELECT count(*) FILTER (WHERE state <> 'done'), count(*) FILTER (WHERE state = 'pending')
            FROM couplet.sync_chunks WHERE run_id = \(runID)
            """, name: "sync chunks left"
        ).single().decode((Int, Int).self)
    }

    /// What every chunk of the run saw, together.
    func seen() async throws -> RecordsSeen {
        let (newest, oldestLeft) = try await coordination.query(
            "SELECT max(newest_modified), min(oldest_left) FROM couplet.sync_chunks WHERE run_id = \(runID)", name: "sync chunks seen"
        ).single().decode((Date?, Date?).self)
        return RecordsSeen(newest: newest, oldestLeft: oldestLeft)
    }
}
