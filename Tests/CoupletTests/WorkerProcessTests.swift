import CoupletSchema
import Foundation
import Postgres
import PostgresTestSupport
import Testing

@testable import Queue

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
func eventually(
    within timeout: Duration, every interval: Duration = .milliseconds(100), _ condition: () async throws -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: interval)
    }
    return try await condition()
}

/// A migrated database with a `runs` table for `diagnostic.record`, and a way to start workers on it.
struct WorkerFixture {
    let database: TestDatabase
    let db: PostgresConnection

    static func with<T>(isolation: isolated (any Actor)? = #isolation, _ body: (WorkerFixture) async throws -> T) async throws -> T {
        try await TestDatabase.with { database in
            let db = try await database.connect()
            defer { db.close() }
            try await CoupletSchema.migrator.migrate(on: db)
            try await db.query("CREATE TABLE runs (job_id int8, attempt int, worker_id uuid, exclusive bool, at timestamptz DEFAULT clock_timestamp())")
            return try await body(WorkerFixture(database: database, db: db))
        }
    }

    var environment: [String: String] { ["COUPLET_DATABASE_URL": database.configuration.connectionString] }

    /// Starts `couplet worker` with `arguments`.
    func startWorker(_ arguments: [String]) throws -> CoupletProcess.Running {
        try CoupletProcess.start(["worker"] + arguments, environment: environment)
    }

    func count(_ sql: PostgresQuery) async throws -> Int {
        try await db.query(sql).single().decode(Int.self, at: 0)
    }

    func record(_ count: Int, milliseconds: Int? = nil, configure: (inout NewJob, Int) -> Void = { _, _ in }) async throws -> [Int64] {
        let arguments = milliseconds.map { #"{"table": "runs", "milliseconds": \#($0)}"# } ?? #"{"table": "runs"}"#
        let jobs = (0..<count).map { index in
            var job = NewJob(kind: "diagnostic.record", argumentsJSON: arguments)
            configure(&job, index)
            return job
        }
        var ids: [Int64] = []
        for start in stride(from: 0, to: jobs.count, by: 5000) {
            ids += try await JobQueue.enqueue(Array(jobs[start..<min(start + 5000, jobs.count)]), on: db)
        }
        return ids
    }
}

@Suite("Worker processes", .serialized)
struct WorkerProcessTests {
    @Test("three workers with eight slots each drain 20,000 jobs, each run exactly once")
    func drain() async throws {
        try await WorkerFixture.with { fixture in
            _ = try await fixture.record(20_000)
            let workers = try (0..<3).map { _ in try fixture.startWorker(["--concurrency", "8"]) }
            let drained = try await eventually(within: .seconds(120), every: .milliseconds(500)) {
                try await fixture.count("SELECT count(*) FROM couplet.jobs WHERE state <> 'completed'") == 0
            }
            #expect(drained)
            for worker in workers { worker.terminate() }
            for worker in workers { #expect(try await worker.waitForExit().status == 0) }
            #expect(try await fixture.count("SELECT count(*) FROM runs") == 20_000)
            #expect(try await fixture.count("SELECT count(DISTINCT job_id) FROM runs") == 20_000)
            #expect(try await fixture.count("SELECT count(DISTINCT worker_id) FROM runs") == 3, "all three workers took part")
            #expect(try await fixture.count("SELECT count(*) FROM couplet.job_attempts WHERE outcome = 'completed'") == 20_000)
            #expect(try await fixture.count("SELECT count(*) FROM couplet.workers") == 0, "workers deregister on exit")
        }
    }

    @Test("a worker killed mid-job: others rescue and complete its jobs within the lease; its late outcome is refused")
    func sigkillRescue() async throws {
        try await WorkerFixture.with { fixture in
            let victim = try fixture.startWorker(["--concurrency", "4", "--lease", "3s"])
            let ids = try await fixture.record(4, milliseconds: 1500)
            #expect(try await eventually(within: .seconds(10)) {
                try await fixture.count("SELECT count(*) FROM couplet.jobs WHERE state = 'running'") == 4
            })
            let held = try await fixture.db.query("SELECT id, attempt FROM couplet.jobs WHERE state = 'running'")
                .map { try $0.decode((Int64, Int).self) }
            victim.kill()
            let killedAt = ContinuousClock.now
            let rescuers = try (0..<2).map { _ in try fixture.startWorker(["--concurrency", "4", "--lease", "3s"]) }
            #expect(try await eventually(within: .seconds(20)) {
                try await fixture.count("SELECT count(*) FROM couplet.jobs WHERE state = 'completed'") == 4
            })
            #expect(killedAt.duration(to: .now) < .seconds(10), "rescued and completed within a few seconds of the lease")
            #expect(try await fixture.count("SELECT count(*) FROM couplet.job_attempts WHERE outcome = 'rescued'") == 4)
            // The killed worker's completion arrives late: the fence refuses it.
            let late = held.map { JobOutcome(jobID: $0.0, attempt: $0.1, state: .failed, error: JobError(.handlerFailed, "late", isRetryable: false)) }
            #expect(try await JobQueue.finish(late, on: fixture.db).isEmpty)
            #expect(try await fixture.count("SELECT count(*) FROM couplet.jobs WHERE state = 'completed' AND attempt = 2") == ids.count)
            for rescuer in rescuers { rescuer.terminate() }
            for rescuer in rescuers { _ = try await rescuer.waitForExit() }
        }
    }

    @Test("a finisher that cannot write holds claims back: at most a batch of outcomes waits, and no batch is larger")
    func outcomeBackpressure() async throws {
        try await WorkerFixture.with { fixture in
            let bound = JobWorkerConfiguration().outcomeBatchLimit
            let concurrency = 4
            try await JobQueue.enqueue((0..<1000).map { _ in NewJob(kind: "diagnostic.noop") }, on: fixture.db)
            // Holding SHARE on the attempt log blocks every finish (it inserts there); claims never touch it.
            let locker = try await fixture.database.connect()
            defer { locker.close() }
            try await locker.runScript("BEGIN; LOCK TABLE couplet.job_attempts IN SHARE MODE", name: "block finishes")
            let worker = try fixture.startWorker(["--concurrency", "\(concurrency)", "--poll-interval", "100ms"])
            let running: PostgresQuery = "SELECT count(*) FROM couplet.jobs WHERE state = 'running'"
            #expect(try await eventually(within: .seconds(20)) { try await fixture.count(running) >= bound })
            try await Task.sleep(for: .seconds(2))
            #expect(try await fixture.count(running) <= bound + concurrency, "claims wait while a batch of outcomes is unwritten")
            try await locker.runScript("ROLLBACK", name: "unblock finishes")
            #expect(try await eventually(within: .seconds(60)) {
                try await fixture.count("SELECT count(*) FROM couplet.jobs WHERE state <> 'completed'") == 0
            })
            // One finish statement is one transaction: its attempts share finished_at (the transaction's now()).
            let largestBatch = try await fixture.count(
                "SELECT max(n) FROM (SELECT count(*) AS n FROM couplet.job_attempts GROUP BY finished_at) batches")
            #expect(largestBatch <= bound)
            worker.terminate()
            #expect(try await worker.waitForExit().status == 0)
        }
    }

    @Test("SIGTERM: running jobs finish within the grace period, the worker exits 0, nothing is left running")
    func gracefulShutdown() async throws {
        try await WorkerFixture.with { fixture in
            let worker = try fixture.startWorker(["--concurrency", "4", "--grace", "10s"])
            _ = try await fixture.record(4, milliseconds: 1000)
            #expect(try await eventually(within: .seconds(10)) {
                try await fixture.count("SELECT count(*) FROM couplet.jobs WHERE state = 'running'") == 4
            })
            let stoppedAt = ContinuousClock.now
            worker.terminate()
            let outcome = try await worker.waitForExit()
            #expect(outcome.status == 0, "\(outcome.standardError)")
            #expect(stoppedAt.duration(to: .now) < .seconds(10))
            #expect(try await fixture.count("SELECT count(*) FROM couplet.jobs WHERE state = 'completed'") == 4)
            #expect(try await fixture.count("SELECT count(*) FROM couplet.jobs WHERE state = 'running'") == 0)
        }
    }

    @Test("SIGTERM: jobs still running after the grace period are released back to available")
    func releaseAfterGrace() async throws {
        try await WorkerFixture.with { fixture in
            let worker = try fixture.startWorker(["--concurrency", "2", "--grace", "500ms"])
            _ = try await fixture.record(2, milliseconds: 30_000)
            #expect(try await eventually(within: .seconds(10)) {
                try await fixture.count("SELECT count(*) FROM couplet.jobs WHERE state = 'running'") == 2
            })
            worker.terminate()
            #expect(try await worker.waitForExit().status == 0)
            #expect(try await fixture.count("SELECT count(*) FROM couplet.jobs WHERE state = 'available' AND attempt = 0") == 2)
            #expect(try await fixture.count("SELECT count(*) FROM couplet.job_attempts WHERE outcome = 'released'") == 2)
        }
    }

    @Test("undecodable arguments, an unknown kind, a throwing handler and a timeout each end right; the worker goes on")
    func failureModes() async throws {
        try await WorkerFixture.with { fixture in
            let db = fixture.db
            let undecodable = try await JobQueue.enqueue(NewJob(kind: "diagnostic.sleep", argumentsJSON: #"{"millis": 5}"#), on: db)
            let unknown = try await JobQueue.enqueue(NewJob(kind: "no.such.kind"), on: db)
            var throwing = NewJob(kind: "diagnostic.sleep", argumentsJSON: #"{"milliseconds": 10, "fail": true}"#)
            throwing.maxAttempts = 2
            let thrower = try await JobQueue.enqueue(throwing, on: db)
            var slow = NewJob(kind: "diagnostic.sleep", argumentsJSON: #"{"milliseconds": 60000}"#)
            slow.timeout = .milliseconds(500)
            slow.maxAttempts = 1
            let timedOut = try await JobQueue.enqueue(slow, on: db)
            let worker = try fixture.startWorker(["--concurrency", "4", "--poll-interval", "100ms"])
            #expect(try await eventually(within: .seconds(15)) {
                try await fixture.count("SELECT count(*) FROM couplet.jobs WHERE state IN ('failed')") == 4
            })
            _ = try await fixture.record(1)
            #expect(try await eventually(within: .seconds(10)) { try await fixture.count("SELECT count(*) FROM runs") == 1 },
                    "the worker still runs jobs after the failures")
            func lastError(_ id: Int64) async throws -> (String, Int, String, String) {
                try await db.query("SELECT state, attempt, errors->-1->>'kind', errors->-1->>'error' FROM couplet.jobs WHERE id = \(id)")
                    .single().decode((String, Int, String, String).self)
            }
            let decode = try await lastError(undecodable)
            #expect(decode.2 == "undecodable_arguments" && decode.1 == 1)
            #expect(decode.3.contains("missing \"milliseconds\""))
            let kind = try await lastError(unknown)
            #expect(kind.2 == "unknown_kind" && kind.3.contains("no handler for kind \"no.such.kind\""))
            let thrown = try await lastError(thrower)
            #expect(thrown.2 == "handler_failed" && thrown.1 == 2, "retried once, then failed")
            let timeout = try await lastError(timedOut)
            #expect(timeout.2 == "timeout" && timeout.3.contains("timeout of 0.5 s"))
            worker.terminate()
            #expect(try await worker.waitForExit().status == 0)
        }
    }

    @Test("a running job cancelled by a DBA stops promptly and ends cancelled")
    func cancelRunning() async throws {
        try await WorkerFixture.with { fixture in
            let worker = try fixture.startWorker(["--concurrency", "2"])
            let id = try await JobQueue.enqueue(NewJob(kind: "diagnostic.sleep", argumentsJSON: #"{"milliseconds": 60000}"#), on: fixture.db)
            #expect(try await eventually(within: .seconds(10)) {
                try await fixture.count("SELECT count(*) FROM couplet.jobs WHERE state = 'running'") == 1
            })
            let answer = try await fixture.db.query("SELECT couplet.cancel_job(\(id))").single().decode(String.self, at: 0)
            #expect(answer == "cancelling")
            let cancelledAt = ContinuousClock.now
            #expect(try await eventually(within: .seconds(10)) {
                try await fixture.count("SELECT count(*) FROM couplet.jobs WHERE state = 'cancelled'") == 1
            })
            #expect(cancelledAt.duration(to: .now) < .seconds(6), "the worker heard the cancel (NOTIFY), not the 10 s heartbeat")
            let kind = try await fixture.db.query("SELECT errors->-1->>'kind' FROM couplet.jobs WHERE id = \(id)").single()
                .decode(String.self, at: 0)
            #expect(kind == "cancelled")
            worker.terminate()
            #expect(try await worker.waitForExit().status == 0)
        }
    }

    @Test("two workers never run two jobs with the same concurrency key at once")
    func concurrencyKeys() async throws {
        try await WorkerFixture.with { fixture in
            _ = try await fixture.record(60, milliseconds: 30) { job, index in job.concurrencyKey = "mapping-\(index % 3)" }
            let workers = try (0..<2).map { _ in try fixture.startWorker(["--concurrency", "8", "--poll-interval", "100ms"]) }
            #expect(try await eventually(within: .seconds(60)) {
                try await fixture.count("SELECT count(*) FROM runs") == 60
            })
            #expect(try await fixture.count("SELECT count(*) FROM runs WHERE NOT exclusive") == 0)
            for worker in workers { worker.terminate() }
            for worker in workers { _ = try await worker.waitForExit() }
        }
    }

    @Test("an idle worker wakes on NOTIFY at once; a poll-only worker finds jobs by polling")
    func wakeUps() async throws {
        try await WorkerFixture.with { fixture in
            let listening = try fixture.startWorker(["--poll-interval", "60s"])
            #expect(try await eventually(within: .seconds(10)) { try await fixture.count("SELECT count(*) FROM couplet.workers") == 1 })
            try await Task.sleep(for: .milliseconds(300))
            let enqueued = ContinuousClock.now
            _ = try await fixture.record(1)
            #expect(try await eventually(within: .seconds(5), every: .milliseconds(20)) {
                try await fixture.count("SELECT count(*) FROM runs") == 1
            })
            #expect(enqueued.duration(to: .now) < .seconds(5), "woken by NOTIFY, not by the 60 s poll")
            listening.terminate()
            _ = try await listening.waitForExit()

            let polling = try fixture.startWorker(["--poll-only", "--poll-interval", "200ms"])
            _ = try await fixture.record(1)
            #expect(try await eventually(within: .seconds(10)) { try await fixture.count("SELECT count(*) FROM runs") == 2 })
            polling.terminate()
            #expect(try await polling.waitForExit().status == 0)
        }
    }
}
