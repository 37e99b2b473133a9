import CoupletSchema
import Foundation
import Postgres
import PostgresTestSupport
import Testing

@testable import Queue

func jobStates(_ db: PostgresConnection) async throws -> [Int64: String] {
    var states: [Int64: String] = [:]
    for row in try await db.query("SELECT id, state FROM couplet.jobs") {
        let (id, state) = try row.decode((Int64, String).self)
        states[id] = state
    }
    return states
}

@Suite("Enqueueing")
struct EnqueueTests {
    @Test("a job is available now, or scheduled for later")
    func states() async throws {
        try await withMigratedDatabase { _, db in
            let now = try await JobQueue.enqueue(NewJob(kind: "k"), on: db)
            var later = NewJob(kind: "k")
            later.runAt = Date().addingTimeInterval(3600)
            let scheduled = try await JobQueue.enqueue(later, on: db)
            let states = try await jobStates(db)
            #expect(states[now] == "available")
            #expect(states[scheduled] == "scheduled")
        }
    }

    @Test("arguments beyond the limits are refused before they are sent, naming the limit, and nothing is enqueued")
    func argumentLimits() async throws {
        try await withMigratedDatabase { _, db in
            let tooDeep = NewJob(kind: "k", argumentsJSON: #"{"a": "# + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + "}")
            await #expect(throws: JobArgumentsRefusal(message: "job args nest arrays and objects deeper than 64 levels")) {
                try await JobQueue.enqueue(tooDeep, on: db)
            }
            let brackets = NewJob(kind: "k", argumentsJSON: #"{"a": "[[[[ \" {{{{"}"#)
            let tooLong = NewJob(kind: "k", argumentsJSON: #"{"a": ""# + String(repeating: "x", count: 100) + #""}"#)
            await #expect(throws: JobArgumentsRefusal(message: "job args are 109 bytes, more than the 100 that couplet.max_job_args_bytes allows")) {
                try await JobQueue.enqueue([brackets, tooLong], limits: JobArgumentLimits(maximumBytes: 100), on: db)
            }
            #expect(try await jobStates(db).isEmpty)
            #expect(try await JobArgumentLimits.enforced(on: db) == JobArgumentLimits(maximumBytes: 1_048_576))
            try await JobQueue.enqueue(brackets, on: db)
            #expect(try await jobStates(db).count == 1, "brackets inside strings are text, not nesting")
        }
    }

    @Test("eight concurrent enqueuers of the same unique keys make one job per key")
    func uniqueKeysUnderConcurrency() async throws {
        try await withMigratedDatabase { database, db in
            let idsPerEnqueuer = try await withThrowingTaskGroup(of: [String: Int64].self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        let connection = try await database.connect()
                        defer { connection.close() }
                        var ids: [String: Int64] = [:]
                        for key in (0..<25).map({ "key-\($0)" }).shuffled() {
                            var job = NewJob(kind: "sync.delta", argumentsJSON: #"{"mapping": "CUSTOMER"}"#)
                            job.uniqueKey = key
                            ids[key] = try await JobQueue.enqueue(job, on: connection)
                        }
                        return ids
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(try await db.query("SELECT count(*) FROM couplet.jobs").single().decode(Int.self, at: 0) == 25)
            for key in idsPerEnqueuer[0].keys {
                #expect(Set(idsPerEnqueuer.map { $0[key] }).count == 1, "every enqueuer got the same job for \(key)")
            }
            // Once the holder finished, the key is free again.
            try await db.query("UPDATE couplet.jobs SET state = 'completed' WHERE unique_key = 'key-0'")
            var again = NewJob(kind: "sync.delta")
            again.uniqueKey = "key-0"
            let fresh = try await JobQueue.enqueue(again, on: db)
            #expect(fresh != idsPerEnqueuer[0]["key-0"])
        }
    }

    @Test("a batch of thousands goes in one statement, skipping held unique keys")
    func batch() async throws {
        try await withMigratedDatabase { _, db in
            var held = NewJob(kind: "k")
            held.uniqueKey = "held"
            try await JobQueue.enqueue(held, on: db)
            var jobs = (0..<5000).map { NewJob(kind: "diagnostic.noop", argumentsJSON: #"{"n": \#($0)}"#) }
            jobs[10].uniqueKey = "held"
            jobs[11].uniqueKey = "fresh"
            jobs[12].runAt = Date().addingTimeInterval(60)
            let inserted = try await JobQueue.enqueue(jobs, on: db)
            #expect(inserted.count == 4999)
            #expect(try await db.query("SELECT count(*) FROM couplet.jobs WHERE state = 'scheduled'").single().decode(Int.self, at: 0) == 1)
            #expect(try await db.query("SELECT count(*) FROM couplet.jobs WHERE args->>'n' = '4999'").single().decode(Int.self, at: 0) == 1)
        }
    }

    @Test("an enqueue inside the caller's transaction exists exactly when it commits")
    func transactional() async throws {
        struct Abort: Error {}
        try await withMigratedDatabase { _, db in
            try await db.query("CREATE TABLE customer (no text)")
            try? await db.withTransaction { tx in
                try await tx.query("INSERT INTO customer VALUES ('10000')")
                try await JobQueue.enqueue(NewJob(kind: "sync.records"), on: tx)
                throw Abort()
            }
            #expect(try await db.query("SELECT count(*) FROM couplet.jobs").single().decode(Int.self, at: 0) == 0)
            try await db.withTransaction { tx in
                try await tx.query("INSERT INTO customer VALUES ('10000')")
                try await JobQueue.enqueue(NewJob(kind: "sync.records"), on: tx)
            }
            #expect(try await db.query("SELECT count(*) FROM couplet.jobs").single().decode(Int.self, at: 0) == 1)
        }
    }

    @Test("one notification per transaction and queue, however many jobs")
    func debouncedNotify() async throws {
        try await withMigratedDatabase { database, db in
            let listener = try await database.connect()
            try await listener.listen(JobQueue.wakeChannel)
            try await db.withTransaction { tx in
                var jobs = (0..<300).map { NewJob(kind: "k", argumentsJSON: #"{"n": \#($0)}"#) }
                for index in jobs.indices where index % 3 == 0 { jobs[index].queue = "sync" }
                try await JobQueue.enqueue(Array(jobs[0..<150]), on: tx)
                try await JobQueue.enqueue(Array(jobs[150...]), on: tx)
                try await JobQueue.enqueue(NewJob(kind: "single"), on: tx)
            }
            var received: [PostgresNotification] = []
            while true {
                let batch = try await listener.notifications(timeout: .milliseconds(500))
                if batch.isEmpty { break }
                received += batch
            }
            #expect(received.map(\.payload).sorted() == ["default", "sync"])
        }
    }
}

@Suite("Claiming and finishing")
struct ClaimTests {
    let worker = UUID()

    @Test("claims follow priority, skip future, expired and other queues' jobs; pendingQueues names the queues where jobs wait")
    func claimOrder() async throws {
        try await withMigratedDatabase { _, db in
            func job(_ name: String, priority: Int = 5, queue: String = "default", runAt: Date? = nil, expiresAt: Date? = nil) -> NewJob {
                var job = NewJob(kind: name)
                job.priority = priority
                job.queue = queue
                job.runAt = runAt
                job.expiresAt = expiresAt
                return job
            }
            try await JobQueue.enqueue(
                [
                    job("low", priority: 9), job("high", priority: 0), job("normal"), job("other", queue: "sync"),
                    job("future", runAt: Date().addingTimeInterval(600)), job("expired", expiresAt: Date().addingTimeInterval(-1)),
                ], on: db)
            let claimed = try await JobQueue.claim(limit: 10, queue: "default", workerID: worker, on: db)
            #expect(claimed.map(\.kind) == ["high", "normal", "low"])
            #expect(claimed.allSatisfy { $0.attempt == 1 })
            #expect(try await JobQueue.claim(limit: 10, queue: "default", workerID: worker, on: db).isEmpty)
            #expect(try await JobQueue.pendingQueues(on: db) == ["default", "sync"], "default still holds the future and the expired job")
            _ = try await JobQueue.claim(limit: 10, queue: "sync", workerID: worker, on: db)
            #expect(try await JobQueue.pendingQueues(on: db) == ["default"], "a worker of every queue looks only where jobs wait")
        }
    }

    @Test("at most one job per concurrency key runs, and none while its key runs")
    func concurrencyKeys() async throws {
        try await withMigratedDatabase { _, db in
            var jobs: [NewJob] = []
            for key in ["CUSTOMER", "CUSTOMER", "CUSTOMER", "ITEM", "ITEM"] {
                var job = NewJob(kind: "sync.delta")
                job.concurrencyKey = key
                jobs.append(job)
            }
            jobs.append(NewJob(kind: "free"))
            try await JobQueue.enqueue(jobs, on: db)
            let first = try await JobQueue.claim(limit: 10, queue: "default", workerID: worker, on: db)
            #expect(first.compactMap(\.concurrencyKey).sorted() == ["CUSTOMER", "ITEM"])
            #expect(first.count == 3)
            #expect(try await JobQueue.claim(limit: 10, queue: "default", workerID: worker, on: db).isEmpty)
            let customer = try #require(first.first { $0.concurrencyKey == "CUSTOMER" })
            try await JobQueue.finish([JobOutcome(jobID: customer.id, attempt: 1, state: .completed)], on: db)
            let next = try await JobQueue.claim(limit: 10, queue: "default", workerID: worker, on: db)
            #expect(next.map(\.concurrencyKey) == ["CUSTOMER"])
        }
    }

    @Test("an old owner's outcome is refused once the job was rescued and claimed again")
    func fence() async throws {
        try await withMigratedDatabase { _, db in
            let id = try await JobQueue.enqueue(NewJob(kind: "k"), on: db)
            let firstOwner = try await registerWorker(on: db)
            let firstClaim = try await JobQueue.claim(limit: 1, queue: "default", workerID: firstOwner, on: db)
            #expect(firstClaim.first?.attempt == 1)
            try await expireLease(of: firstOwner, on: db)
            #expect(try await JobQueue.rescueExpiredLeases(on: db) == 1)
            let secondOwner = try await registerWorker(on: db)
            let secondClaim = try await JobQueue.claim(limit: 1, queue: "default", workerID: secondOwner, on: db)
            #expect(secondClaim.first?.attempt == 2)
            let late = JobOutcome(jobID: id, attempt: 1, state: .completed)
            #expect(try await JobQueue.finish([late], on: db).isEmpty)
            #expect(try await jobStates(db)[id] == "running")
            #expect(try await JobQueue.finish([JobOutcome(jobID: id, attempt: 2, state: .completed)], on: db) == [id])
            let log = try await db.query("SELECT attempt, outcome FROM couplet.job_attempts WHERE job_id = \(id) ORDER BY attempt")
                .map { try $0.decode((Int, String).self) }
            #expect(log.map(\.0) == [1, 2])
            #expect(log.map(\.1) == ["rescued", "completed"])
        }
    }

    @Test("a rescued job whose attempts are used up fails with a readable error")
    func rescueExhausted() async throws {
        try await withMigratedDatabase { _, db in
            var job = NewJob(kind: "k")
            job.maxAttempts = 1
            let id = try await JobQueue.enqueue(job, on: db)
            _ = try await JobQueue.claim(limit: 1, queue: "default", workerID: worker, on: db)
            #expect(try await JobQueue.rescueExpiredLeases(on: db) == 1, "its worker never registered: it has no lease")
            let (state, error) = try await db.query("SELECT state, errors->0->>'error' FROM couplet.jobs WHERE id = \(id)")
                .single().decode((String, String).self)
            #expect(state == "failed")
            #expect(error.contains("stopped heartbeating"))
        }
    }

    @Test("retries, failures, releases and cancellations land in the right state, logged")
    func outcomes() async throws {
        try await withMigratedDatabase { _, db in
            let ids = try await JobQueue.enqueue((0..<4).map { _ in NewJob(kind: "k") }, on: db)
            _ = try await JobQueue.claim(limit: 4, queue: "default", workerID: worker, on: db)
            let retryAt = Date().addingTimeInterval(120)
            let oops = JobError(.handlerFailed, "oops", isRetryable: true)
            let accepted = try await JobQueue.finish(
                [
                    JobOutcome(jobID: ids[0], attempt: 1, state: .retryable, runAt: retryAt, error: oops),
                    JobOutcome(jobID: ids[1], attempt: 1, state: .failed, error: oops),
                    JobOutcome(jobID: ids[2], attempt: 1, state: .available, error: JobError(.released, "stopping", isRetryable: true)),
                    JobOutcome(jobID: ids[3], attempt: 1, state: .cancelled, error: JobError(.cancelled, "by a person", isRetryable: false)),
                ], on: db)
            #expect(accepted == Set(ids))
            let rows = try await db.query("SELECT id, state, attempt, errors->-1->>'error', run_at, finished_at IS NOT NULL FROM couplet.jobs ORDER BY id")
                .map { try $0.decode((Int64, String, Int, String, Date, Bool).self) }
            #expect(rows.map(\.1) == ["retryable", "failed", "available", "cancelled"])
            #expect(rows.map(\.2) == [1, 1, 0, 1], "a released attempt does not count")
            #expect(abs(rows[0].4.timeIntervalSince(retryAt)) < 0.001)
            #expect(rows.map(\.5) == [false, true, false, true])
            let outcomes = try await db.query("SELECT outcome FROM couplet.job_attempts ORDER BY job_id").map { try $0.decode(String.self, at: 0) }
            #expect(outcomes == ["retry", "failed", "released", "cancelled"])
        }
    }

    @Test("maintenance cancels expired jobs and prunes old finished ones with their attempts")
    func maintenance() async throws {
        try await withMigratedDatabase { _, db in
            var expiring = NewJob(kind: "k")
            expiring.expiresAt = Date().addingTimeInterval(-5)
            let expired = try await JobQueue.enqueue(expiring, on: db)
            let done = try await JobQueue.enqueue(NewJob(kind: "k"), on: db)
            _ = try await JobQueue.claim(limit: 1, queue: "default", workerID: worker, on: db)
            try await JobQueue.finish([JobOutcome(jobID: done, attempt: 1, state: .completed)], on: db)
            #expect(try await JobQueue.cancelExpired(on: db) == 1)
            #expect(try await jobStates(db)[expired] == "cancelled")
            #expect(try await JobQueue.prune(olderThan: .seconds(3600), on: db) == 0)
            try await db.query("UPDATE couplet.jobs SET finished_at = now() - interval '2 hours'")
            #expect(try await JobQueue.prune(olderThan: .seconds(3600), on: db) == 2)
            #expect(try await db.query("SELECT count(*) FROM couplet.job_attempts").single().decode(Int.self, at: 0) == 0)
        }
    }

    @Test("only one process at a time runs maintenance")
    func maintenanceLeader() async throws {
        try await withMigratedDatabase { database, db in
            let other = try await database.connect()
            let inner = try await JobQueue.asMaintenanceLeader(on: db) { _ in
                try await JobQueue.asMaintenanceLeader(on: other) { _ in "second" }
            }
            #expect(inner == .some(nil), "the second process skipped while the first held the lock")
            #expect(try await JobQueue.asMaintenanceLeader(on: other) { _ in "now" } == "now")
        }
    }
}

/// Registers a worker with a 30 s lease, as a starting worker process does, and returns its id.
func registerWorker(on db: PostgresConnection) async throws -> UUID {
    let worker = WorkerRegistration(id: UUID(), hostname: "test", pid: 1, queues: ["default"], concurrency: 4, lease: .seconds(30))
    try await JobQueue.register(worker, on: db)
    return worker.id
}

/// Makes `worker`'s last heartbeat older than its lease, as if it had died.
func expireLease(of worker: UUID, on db: PostgresConnection) async throws {
    try await db.query("UPDATE couplet.workers SET heartbeat_at = now() - lease - interval '1 second' WHERE id = \(worker)")
}

@Suite("Heartbeats and rescue")
struct HeartbeatTests {
    @Test("rescue follows the worker's lease: a live worker's jobs stay, a dead or vanished worker's jobs are rescued")
    func rescueByWorkerLease() async throws {
        try await withMigratedDatabase { _, db in
            let ids = try await JobQueue.enqueue((0..<3).map { _ in NewJob(kind: "k") }, on: db)
            let live = try await registerWorker(on: db)
            let dead = try await registerWorker(on: db)
            _ = try await JobQueue.claim(limit: 1, queue: "default", workerID: live, on: db)
            _ = try await JobQueue.claim(limit: 1, queue: "default", workerID: dead, on: db)
            _ = try await JobQueue.claim(limit: 1, queue: "default", workerID: UUID(), on: db)
            #expect(try await JobQueue.rescueExpiredLeases(on: db) == 1, "only the job of the worker that never registered")
            try await expireLease(of: dead, on: db)
            #expect(try await JobQueue.heartbeat(live, on: db).registered)
            #expect(try await JobQueue.rescueExpiredLeases(on: db) == 1, "the job of the worker whose lease ran out")
            #expect(try await jobStates(db) == [ids[0]: "running", ids[1]: "available", ids[2]: "available"])
            let (leaseLeft, workersLease) = try await db.query(
                """
                SELECT extract(epoch FROM s.lease_expires_at - now())::float8, s.lease_expires_at = w.heartbeat_at + w.lease
                FROM couplet.job_status s JOIN couplet.workers w ON w.id = s.worker_id WHERE s.id = \(ids[0])
                """
            ).single().decode((Double, Bool).self)
            #expect(workersLease && abs(leaseLeft - 30) < 1, "job_status shows the worker's lease as the job's")
            #expect(try await db.query("SELECT count(*) FROM couplet.job_status WHERE lease_expires_at IS NOT NULL")
                .single().decode(Int.self, at: 0) == 1, "only running jobs have a lease")
        }
    }

    @Test("a heartbeat never waits on a finish: it completes while another transaction holds the worker's running jobs")
    func heartbeatBesideFinish() async throws {
        try await withMigratedDatabase { database, db in
            let worker = try await registerWorker(on: db)
            try await JobQueue.enqueue((0..<4).map { _ in NewJob(kind: "k") }, on: db)
            let claimed = try await JobQueue.claim(limit: 4, queue: "default", workerID: worker, on: db)
            #expect(try await db.query("SELECT couplet.cancel_job(\(claimed[3].id))").single().decode(String.self, at: 0) == "cancelling")
            let beater = try await database.connect()
            defer { beater.close() }
            try await beater.query("SET lock_timeout = '5s'")  // a heartbeat that waits fails, rather than hanging the test
            let finisher = try await database.connect()
            defer { finisher.close() }
            try await finisher.withTransaction { finish in
                // A finish whose transaction is still open, and every other running job of the worker locked.
                try await JobQueue.finish(claimed[0..<2].map { JobOutcome(jobID: $0.id, attempt: 1, state: .completed) }, on: finish)
                try await finish.query("SELECT id FROM couplet.jobs WHERE worker_id = \(worker) AND state = 'running' FOR UPDATE")
                let clock = ContinuousClock()
                var beat: (registered: Bool, cancelRequested: [JobAttemptID]) = (false, [])
                let waited = try await clock.measure { beat = try await JobQueue.heartbeat(worker, on: beater) }
                #expect(waited < .seconds(1), "the heartbeat did not wait for the finish's locks")
                #expect(beat.registered)
                #expect(beat.cancelRequested == [JobAttemptID(job: claimed[3].id, attempt: 1)])
            }
        }
    }
}

@Suite("Retry policy")
struct RetryPolicyTests {
    @Test("exponential backoff doubles, caps, and jitters within bounds")
    func exponential() {
        var random = SystemRandomNumberGenerator()
        let policy = RetryPolicy(backoff: .exponential(base: .seconds(2), maximum: .seconds(60)), jitter: 0)
        #expect((1...7).map { policy.delay(after: $0, random: &random) } == [2, 4, 8, 16, 32, 60, 60].map { .seconds($0) })
        let jittered = RetryPolicy(backoff: .fixed(.seconds(10)), jitter: 0.1)
        for _ in 0..<200 {
            let delay = jittered.delay(after: 3, random: &random)
            #expect(delay >= .seconds(9) && delay <= .seconds(11))
        }
    }
}
