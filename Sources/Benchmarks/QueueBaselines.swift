import ArgumentParser
import Foundation
import Postgres

/// The two baselines `couplet bench queue` measures beside Couplet on the same server, neither built
/// from Couplet's own code:
///
/// - **the minimal queue**: the canonical Postgres queue in plain SQL, driven by pgbench. A table with
///   a partial index on its available jobs; each client claims 100 with `FOR UPDATE SKIP LOCKED` in one
///   transaction and marks them completed in a second (two commits per batch, like a worker that
///   records a claim before running the jobs); completed jobs stay in the table, as Couplet's do.
///   Enqueueing is one `INSERT` of 100 rows per statement.
/// - **PgQueuer** (Python, asyncpg), installed from PyPI by `deploy/bench/pgqueuer-drain`, which runs
///   its documented drain benchmark: enqueue the jobs, time how long its consumers take to empty the queue.
struct QueueBaselines {
    /// The scratch database the baselines use (their own tables, beside Couplet's).
    let database: PostgresConfiguration
    /// Jobs per measurement.
    let jobs: Int
    /// Concurrent clients: pgbench connections, PgQueuer processes.
    let clients: Int
    /// Jobs per claim (and per INSERT).
    let batch: Int
    /// The pgbench executable.
    let pgbench: String
    /// `deploy/bench/pgqueuer-drain`, or nil to leave PgQueuer out.
    let pgQueuerScript: String?

    /// The minimal queue's table, in a schema of its own.
    static let schema = """
        CREATE SCHEMA minimal_queue;
        CREATE TABLE minimal_queue.jobs (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            kind text NOT NULL,
            args jsonb NOT NULL DEFAULT '{}',
            state text NOT NULL DEFAULT 'available',
            created_at timestamptz NOT NULL DEFAULT now(),
            finished_at timestamptz
        );
        CREATE INDEX jobs_available ON minimal_queue.jobs (id) WHERE state = 'available';
        """

    /// One pgbench transaction of the drain: claim a batch, commit, complete it, commit.
    var drainScript: String {
        """
        BEGIN;
        WITH claimed AS (
            UPDATE minimal_queue.jobs j SET state = 'running'
            FROM (SELECT id FROM minimal_queue.jobs WHERE state = 'available' ORDER BY id LIMIT \(batch) FOR UPDATE SKIP LOCKED) c
            WHERE j.id = c.id
            RETURNING j.id, j.kind, j.args)
        SELECT coalesce(array_agg(id), '{}') AS claimed FROM claimed \\gset
        COMMIT;
        BEGIN;
        UPDATE minimal_queue.jobs SET state = 'completed', finished_at = now() WHERE id = ANY (:claimed::bigint[]);
        COMMIT;

        """
    }

    /// One pgbench transaction of the enqueue: a single INSERT of `batch` rows sent by the client.
    var enqueueScript: String {
        "INSERT INTO minimal_queue.jobs (kind, args) VALUES "
            + Array(repeating: "('noop', '{}')", count: batch).joined(separator: ", ") + ";\n"
    }

    /// Creates the minimal queue's table in `db` (the scratch database).
    func prepare(on db: PostgresConnection) async throws {
        try await db.runScript(Self.schema, name: "minimal queue schema")
    }

    /// Jobs per second the minimal queue enqueues on one connection, 100-row INSERT after INSERT.
    func minimalQueueEnqueue(on db: PostgresConnection) async throws -> Double {
        let (_, seconds) = try await BenchSupport.pgbench(
            pgbench, script: enqueueScript, clients: 1, transactionsPerClient: jobs / batch, database: database)
        let inserted = try await db.query("SELECT count(*) FROM minimal_queue.jobs").single().decode(Int.self, at: 0)
        guard inserted == jobs / batch * batch else { throw ValidationError("the minimal queue's enqueue inserted \(inserted) jobs") }
        try await db.runScript("TRUNCATE minimal_queue.jobs", name: "reset minimal queue")
        return Double(inserted) / seconds
    }

    /// Jobs per second the minimal queue drains: `jobs` enqueued, then `clients` pgbench connections
    /// claiming and completing until every job is completed.
    func minimalQueueDrain(on db: PostgresConnection) async throws -> Double {
        try await db.runScript("INSERT INTO minimal_queue.jobs (kind) SELECT 'noop' FROM generate_series(1, \(jobs))", name: "fill minimal queue")
        // Without statistics the planner sorts every available job on each claim until autovacuum's
        // ANALYZE happens to run mid-drain (rates of 15k or 80k jobs/s from one run to the next);
        // analysed, each claim walks the partial index as a tuned installation's would.
        try await db.runScript("ANALYZE minimal_queue.jobs", name: "analyze minimal queue")
        // Each client runs enough batches for an even share, and one more for the leftovers.
        let perClient = (jobs + batch * clients - 1) / (batch * clients) + 1
        let (_, seconds) = try await BenchSupport.pgbench(
            pgbench, script: drainScript, clients: clients, transactionsPerClient: perClient, database: database)
        let left = try await db.query("SELECT count(*) FROM minimal_queue.jobs WHERE state <> 'completed'").single().decode(Int.self, at: 0)
        guard left == 0 else { throw ValidationError("the minimal queue left \(left) of \(jobs) jobs") }
        try await db.runScript("TRUNCATE minimal_queue.jobs", name: "reset minimal queue")
        return Double(jobs) / seconds
    }

    /// Jobs per second PgQueuer drains with `clients` processes dequeuing batches of `batch`; nil
    /// when PgQueuer is left out.
    func pgQueuerDrain() async throws -> Double? {
        guard let pgQueuerScript else { return nil }
        let (output, _) = try await BenchSupport.runTool(
            pgQueuerScript, ["--jobs", "\(jobs)", "--processes", "\(clients)", "--batch-size", "\(batch)"],
            environment: try database.libpqEnvironment())
        struct Result: Decodable { let jobs_per_s: Double }
        guard let line = output.split(separator: "\n").last,
            let result = try? JSONDecoder().decode(Result.self, from: Data(line.utf8))
        else { throw ValidationError("\(pgQueuerScript) printed no result: \(output.suffix(500))") }
        return result.jobs_per_s
    }
}
