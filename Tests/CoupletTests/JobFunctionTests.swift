import Foundation
import Postgres
import PostgresTestSupport
import Testing

@Suite("couplet.retry_job, cancel_job, hold_job and resume_job")
struct JobFunctionTests {
    // MARK: retry_job

    @Test("retry_job makes a finished or pending job available now", arguments: ["failed", "cancelled", "completed", "retryable", "scheduled"])
    func retry(state: String) async throws {
        try await withMigratedDatabase { _, db in
            let id = try await db.insert(TestJob(state: state, runIn: 3600, expiresIn: -10, attempt: 5, maxAttempts: 5, cancelRequested: true))
            #expect(try await db.change("retry_job", id) == "available")
            let (newState, dueNow, finished, maxAttempts, cancelRequested, expires) = try await db.query("""
                SELECT state, run_at BETWEEN now() - interval '1 minute' AND now(), finished_at, max_attempts,
                       cancel_requested_at, expires_at
                FROM couplet.jobs WHERE id = \(id)
                """).single().decode((String, Bool, Date?, Int, Date?, Date?).self)
            #expect(newState == "available")
            #expect(dueNow)
            #expect(finished == nil)
            #expect(maxAttempts == 6, "a job that used all its attempts gets one more")
            #expect(cancelRequested == nil, "a retried job must not be cancelled by its next worker")
            #expect(expires == nil, "a passed expiry would drop the retried job at once")
        }
    }

    @Test("retry_job keeps max_attempts when attempts are left")
    func retryKeepsAttempts() async throws {
        try await withMigratedDatabase { _, db in
            let id = try await db.insert(TestJob(state: "failed", attempt: 2, maxAttempts: 5))
            _ = try await db.change("retry_job", id)
            #expect(try await db.query("SELECT max_attempts FROM couplet.jobs WHERE id = \(id)").single().decode(Int.self, at: 0) == 5)
        }
    }

    @Test("retry_job refuses a running or held job, and a missing one")
    func retryRefusals() async throws {
        try await withMigratedDatabase { _, db in
            let running = try await db.insert(TestJob(state: "running"))
            let held = try await db.insert(TestJob(state: "on_hold"))
            await expectRefusal("55000", "cannot retry job \(running): it is running") { _ = try await db.change("retry_job", running) }
            await expectRefusal("55000", "cannot retry job \(held): it is on_hold") { _ = try await db.change("retry_job", held) }
            await expectRefusal("P0002", "job 999999 does not exist") { _ = try await db.change("retry_job", 999_999) }
            #expect(try await db.state(of: running).state == "running")
            #expect(try await db.state(of: held).state == "on_hold")
        }
    }

    @Test("retry_job refuses a job whose unique key another pending job holds, naming that job")
    func retryUniqueKey() async throws {
        try await withMigratedDatabase { _, db in
            let old = try await db.insert(TestJob(state: "completed", uniqueKey: "delta:CUSTOMER"))
            let holder = try await db.insert(TestJob(state: "available", uniqueKey: "delta:CUSTOMER"))
            await expectRefusal(
                "23505", "cannot retry job \(old) (completed): job \(holder) (available) holds its unique key 'delta:CUSTOMER'"
            ) { _ = try await db.change("retry_job", old) }
            _ = try await db.change("cancel_job", holder)
            #expect(try await db.change("retry_job", old) == "available")
        }
    }

    // MARK: cancel_job

    @Test("cancel_job cancels a pending or held job at once", arguments: ["scheduled", "available", "retryable", "on_hold"])
    func cancelPending(state: String) async throws {
        try await withMigratedDatabase { _, db in
            let id = try await db.insert(TestJob(state: state))
            #expect(try await db.change("cancel_job", id) == "cancelled")
            let (newState, finished) = try await db.query("SELECT state, finished_at IS NOT NULL FROM couplet.jobs WHERE id = \(id)")
                .single().decode((String, Bool).self)
            #expect(newState == "cancelled")
            #expect(finished)
        }
    }

    @Test("cancel_job asks a running job's worker to stop it and notifies couplet_cancel")
    func cancelRunning() async throws {
        try await withMigratedDatabase { database, db in
            let id = try await db.insert(TestJob(state: "running"))
            let listener = try await database.connect()
            defer { listener.close() }
            try await listener.listen(PostgresIdentifier("couplet_cancel"))
            #expect(try await db.change("cancel_job", id) == "cancelling")
            let notifications = try await listener.notifications(timeout: .seconds(5))
            #expect(notifications.map(\.payload) == [String(id)])
            let (state, status, requested) = try await db.query(
                "SELECT state, status, cancel_requested_at IS NOT NULL FROM couplet.job_status WHERE id = \(id)"
            ).single().decode((String, String, Bool).self)
            #expect(state == "running")
            #expect(status == "cancelling")
            #expect(requested)
        }
    }

    @Test("cancel_job refuses a finished job", arguments: ["completed", "failed", "cancelled"])
    func cancelFinished(state: String) async throws {
        try await withMigratedDatabase { _, db in
            let id = try await db.insert(TestJob(state: state))
            await expectRefusal("55000", "cannot cancel job \(id): it is \(state)") { _ = try await db.change("cancel_job", id) }
            await expectRefusal("P0002", "job \(id + 1) does not exist") { _ = try await db.change("cancel_job", id + 1) }
        }
    }

    // MARK: hold_job and resume_job

    @Test("hold_job holds a pending job; resume_job makes it available again and wakes its queue")
    func holdAndResume() async throws {
        try await withMigratedDatabase { database, db in
            let id = try await db.insert(TestJob(state: "retryable", queue: "sync"))
            #expect(try await db.change("hold_job", id) == "on_hold")
            #expect(try await db.state(of: id).state == "on_hold")
            let listener = try await database.connect()
            defer { listener.close() }
            try await listener.listen(PostgresIdentifier("couplet_jobs"))
            #expect(try await db.change("resume_job", id) == "available")
            #expect(try await listener.notifications(timeout: .seconds(5)).map(\.payload) == ["sync"])
        }
    }

    @Test("resume_job makes a held job that is not due yet scheduled, without waking anyone")
    func resumeNotDue() async throws {
        try await withMigratedDatabase { database, db in
            let id = try await db.insert(TestJob(state: "on_hold", runIn: 3600))
            let listener = try await database.connect()
            defer { listener.close() }
            try await listener.listen(PostgresIdentifier("couplet_jobs"))
            #expect(try await db.change("resume_job", id) == "scheduled")
            #expect(try await db.state(of: id).status == "scheduled")
            #expect(try await listener.notifications(timeout: .milliseconds(200)).isEmpty)
        }
    }

    @Test("hold_job refuses a job that is not pending", arguments: ["running", "on_hold", "completed", "failed", "cancelled"])
    func holdRefusals(state: String) async throws {
        try await withMigratedDatabase { _, db in
            let id = try await db.insert(TestJob(state: state))
            await expectRefusal("55000", "cannot hold job \(id): it is \(state)") { _ = try await db.change("hold_job", id) }
            #expect(try await db.state(of: id).state == state)
        }
    }

    @Test("resume_job refuses a job that is not on hold", arguments: ["available", "running", "failed"])
    func resumeRefusals(state: String) async throws {
        try await withMigratedDatabase { _, db in
            let id = try await db.insert(TestJob(state: state))
            await expectRefusal("55000", "cannot resume job \(id): it is \(state)") { _ = try await db.change("resume_job", id) }
            await expectRefusal("P0002", "job \(id + 1) does not exist") { _ = try await db.change("resume_job", id + 1) }
        }
    }

    // MARK: notifications and the caller's transaction

    @Test("retry_job notifies couplet_jobs with the queue when the caller commits, and not when it rolls back")
    func retryNotifiesOnCommit() async throws {
        try await withMigratedDatabase { database, db in
            let id = try await db.insert(TestJob(state: "failed", queue: "crm"))
            let listener = try await database.connect()
            defer { listener.close() }
            try await listener.listen(PostgresIdentifier("couplet_jobs"))

            struct Undo: Error {}
            await #expect(throws: Undo.self) {
                try await db.withTransaction { transaction in
                    #expect(try await transaction.change("retry_job", id) == "available")
                    throw Undo()
                }
            }
            #expect(try await listener.notifications(timeout: .milliseconds(200)).isEmpty)
            #expect(try await db.state(of: id).state == "failed")

            try await db.withTransaction { transaction in _ = try await transaction.change("retry_job", id) }
            let notifications = try await listener.notifications(timeout: .seconds(5))
            #expect(notifications.map(\.channel) == ["couplet_jobs"])
            #expect(notifications.map(\.payload) == ["crm"])
        }
    }

    @Test("a job locked by another transaction is changed only after that transaction ends, and sees its outcome")
    func waitsForRowLock() async throws {
        try await withMigratedDatabase { database, db in
            let id = try await db.insert(TestJob(state: "available"))
            let other = try await database.connect()
            defer { other.close() }
            // A worker claims the job in a transaction that is still open while the DBA tries to hold it.
            try await other.runScript("BEGIN", name: "begin")
            try await other.query("UPDATE couplet.jobs SET state = 'running' WHERE id = \(id)")
            let watcher = try await database.connect()
            defer { watcher.close() }
            let pid = db.backendPID  // before the call: the property waits while the connection runs a statement
            async let held = db.change("hold_job", id)
            try await waitUntilBlocked(pid, watcher: watcher)
            try await other.runScript("COMMIT", name: "commit")
            do {
                _ = try await held
                Issue.record("hold_job held a job that its claimer had made running")
            } catch let error as PostgresError {
                #expect(error.sqlState == "55000")
                #expect(error.message == "cannot hold job \(id): it is running")
            }
        }
    }

    /// Waits until the session `pid` waits for a lock; `watcher` must not be in a transaction, which
    /// would keep showing it the same snapshot of pg_stat_activity.
    private func waitUntilBlocked(_ pid: Int32, watcher: PostgresConnection) async throws {
        for _ in 0..<500 {
            let waiting = try await watcher.query(
                "SELECT wait_event_type IS NOT DISTINCT FROM 'Lock' FROM pg_stat_activity WHERE pid = \(pid)"
            ).single().decode(Bool.self, at: 0)
            if waiting { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("session \(pid) never waited for the row lock")
    }
}
