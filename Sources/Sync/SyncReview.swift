import Foundation
import Postgres
import Queue

/// What the full synchronization review recommends for one mapping.
public enum ReviewRecommendation: String, Sendable {
    /// Run a full sync.
    case fullSync = "full sync"
    /// Both sides hold records, none is coupled and the mapping has no match fields: a full sync
    /// would duplicate them, so couple them first (`couplet match`, `couplet couple`).
    case coupleFirst = "couple records first"
    /// Neither side holds a record.
    case noRecords = "no records"

    /// The recommendation for a mapping with `couplings`, whose sides hold `local` and
    /// `integration` records (nil: not known, the endpoint is not reachable from here).
    public init(couplings: Int, local: Int?, integration: Int?, matches: Bool) {
        if local == 0 && integration == 0 {
            self = .noRecords
        } else if couplings == 0, let local, let integration, local > 0, integration > 0, !matches {
            self = .coupleFirst
        } else {
            self = .fullSync
        }
    }
}

/// Business Central's full synchronization review, kept in `couplet.sync_review`: every enabled
/// mapping's full sync runs once, and each starts only when every mapping it depends on has
/// finished. The full sync jobs themselves move the review on (see `finish`), so it needs no
/// process watching it.
public enum SyncReview {
    /// Starts a review of every enabled mapping and enqueues the full syncs that depend on nothing;
    /// refuses while another review still has mappings waiting or running, unless `restart`.
    /// Returns the mappings enqueued.
    public static func start(restart: Bool = false, on db: PostgresConnection) async throws -> [String] {
        try await db.withTransaction { tx in
            try await lockRows(tx)
            let busy = try await tx.query(
                """
                SELECT count(*) FROM couplet.sync_review r
                WHERE r.state = 'waiting' OR (r.state = 'enqueued' AND EXISTS (
                    SELECT FROM couplet.jobs j WHERE j.id = r.job_id AND j.state IN ('available', 'scheduled', 'running', 'retryable')))
                """, name: "review in progress"
            ).single().decode(Int.self, at: 0)
            guard busy == 0 || restart else {
                throw SyncFailure(
                    code: .configuration,
                    message: "a review is in progress (\(busy) mappings waiting or running): couplet review shows it; --restart starts over")
            }
            try await tx.runScript("DELETE FROM couplet.sync_review", name: "clear review")
            try await tx.query(
                """
                INSERT INTO couplet.sync_review (mapping, depends_on)
                SELECT m.name, array(SELECT d FROM unnest(m.depends_on) AS d
                                     WHERE d IN (SELECT name FROM couplet.table_mappings WHERE enabled))
                FROM couplet.table_mappings m WHERE m.enabled
                """, name: "plan review")
            return try await release(tx)
        }
    }

    /// Records that review mapping `mapping`'s full sync job `job` ended — with `failure`, its
    /// dependents are blocked — and enqueues the mappings whose dependencies have now all finished.
    public static func finish(mapping: String, job: Int64, failure: String?, on db: PostgresConnection) async throws {
        try await db.withTransaction { tx in
            try await lockRows(tx)
            try await tx.query(
                """
                UPDATE couplet.sync_review SET state = CASE WHEN \(failure)::text IS NULL THEN 'finished' ELSE 'failed' END,
                    finished_at = now(), message = \(failure)
                WHERE mapping = \(mapping) AND job_id = \(job) AND state = 'enqueued'
                """, name: "finish review mapping")
            if failure != nil {
                try await tx.query(
                    """
                    WITH RECURSIVE blocked (mapping) AS (
                        SELECT r.mapping FROM couplet.sync_review r WHERE \(mapping) = ANY(r.depends_on)
                        UNION
                        SELECT r.mapping FROM couplet.sync_review r JOIN blocked b ON b.mapping = ANY(r.depends_on))
                    UPDATE couplet.sync_review SET state = 'blocked', message = 'waits for ' || \(mapping) || ', whose full sync failed'
                    WHERE mapping IN (SELECT mapping FROM blocked) AND state = 'waiting'
                    """, name: "block review dependents")
            }
            _ = try await release(tx)
        }
    }

    /// The mappings in an order that puts each after the mappings it depends on (by name among
    /// equals); mappings caught in a cycle come last, by name.
    public static func dependencyOrder(_ dependsOn: [String: [String]]) -> [String] {
        var placed: [String] = []
        var left = Set(dependsOn.keys)
        while let next = left.sorted().first(where: { name in dependsOn[name, default: []].allSatisfy { !left.contains($0) } }) {
            placed.append(next)
            left.remove(next)
        }
        return placed + left.sorted()
    }

    /// Serializes the transactions that move the review on, so a mapping is enqueued once.
    private static func lockRows(_ tx: PostgresConnection) async throws {
        try await tx.query("SELECT mapping FROM couplet.sync_review ORDER BY mapping FOR UPDATE", name: "lock review")
    }

    /// Enqueues the waiting mappings whose dependencies have all finished; returns them.
    private static func release(_ tx: PostgresConnection) async throws -> [String] {
        let ready = try await tx.query(
            """
            SELECT r.mapping FROM couplet.sync_review r
            WHERE r.state = 'waiting' AND NOT EXISTS (
                SELECT FROM couplet.sync_review d WHERE d.mapping = ANY(r.depends_on) AND d.state <> 'finished')
            ORDER BY r.mapping
            """, name: "ready review mappings"
        ).map { try $0.decode(String.self, at: 0) }
        guard !ready.isEmpty else { return [] }
        let jobs = try await JobQueue.enqueue(try ready.map { try SyncJobs.job(for: $0, kind: .full, review: true) }, on: tx)
        try await tx.query(
            """
            UPDATE couplet.sync_review r SET state = 'enqueued', job_id = e.job
            FROM unnest(\(ready)::text[], \(jobs)::int8[]) AS e(mapping, job) WHERE r.mapping = e.mapping
            """, name: "enqueued review mappings")
        return ready
    }
}
