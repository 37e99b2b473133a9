import Foundation
import Logging
import Postgres
import PostgresTestSupport
import Testing

@testable import Cron
@testable import Queue
@testable import Sync

/// Business Central's `CRMJobQueueEntryInactivity` (codeunit 139189, "CRM Job Queue Entry
/// Inactivity"), ported to DEBTOR (`debtor` ↔ `client`): a recurring delta whose run changed nothing
/// goes on hold with its inactivity timeout, and a change to one of its records wakes it.
///
/// The schedules fire through the scheduler's own statement (`couplet.fire_schedule_ticks`), and
/// their jobs run as a worker runs them: claimed, executed by the registered handler, finished.
@Suite("Business Central's CRMJobQueueEntryInactivity")
struct BusinessCentralInactivityScenarioTests {
    /// Half-hourly ticks two days ago, so that every job is due when it is claimed.
    let start = Date(timeIntervalSinceNow: -2 * 24 * 3600)
    func tick(_ n: Int) -> Date { start.addingTimeInterval(Double(n) * 1800) }

    @Test("CRMJobQueueEntryInactivity.T105_ActiveJobStateOnHoldWithInactivityTimeoutNonzeroPeriodIfNoRecordChangedBySync: a delta that changed nothing puts its schedule on hold until the timeout")
    func idleDeltaHoldsUntilTimeout() async throws {
        try await ScheduledSync.with { s in
            try await s.coupledUnchangedDebtor()
            try await s.schedule("debtor-delta", mapping: "DEBTOR", inactivityTimeout: .seconds(3600))
            #expect(try await s.fire("debtor-delta", at: tick(0)) == "enqueued")
            #expect(try await s.lastJobResult("debtor-delta") == #"{"idle": true}"#)
            #expect(try await s.fire("debtor-delta", at: tick(1)) == "held", "on hold with inactivity timeout")
            let heldUntil = try #require(try await s.heldUntil("debtor-delta"))
            #expect(abs(heldUntil.timeIntervalSince(tick(2))) < 0.001, "held until the idle job's tick plus the timeout")
            #expect(try await s.fire("debtor-delta", at: tick(2)) == "enqueued", "the timeout has passed: the job runs again")
            #expect(try await s.fire("debtor-delta", at: tick(3)) == "held")
        }
    }

    @Test("CRMJobQueueEntryInactivity.T105b_ActiveJobStateOnHoldWithInactivityTimeoutZeroPeriodIfNoRecordChangedBySync: with a zero timeout the schedule holds until woken")
    func zeroTimeoutHoldsUntilWoken() async throws {
        try await ScheduledSync.with { s in
            try await s.coupledUnchangedDebtor()
            try await s.schedule("debtor-delta", mapping: "DEBTOR", inactivityTimeout: .zero)
            #expect(try await s.fire("debtor-delta", at: tick(0)) == "enqueued")
            for n in 1...48 { #expect(try await s.fire("debtor-delta", at: tick(n)) == "held") }
            #expect(try await s.heldUntil("debtor-delta") == .distantFuture)
            #expect(try await s.fire("debtor-delta", at: Date()) == "held", "still held a day later")
        }
    }

    @Test("CRMJobQueueEntryInactivity.T106_ActiveJobsStaysActiveIfRecordIsChangedBySync: a delta that synchronized a change keeps its schedule active")
    func busyDeltaStaysActive() async throws {
        try await ScheduledSync.with { s in
            try await s.coupledUnchangedDebtor()
            try await s.schedule("debtor-delta", mapping: "DEBTOR", inactivityTimeout: .seconds(3600))
            try await s.f.erp.query("UPDATE debtor SET name = 'Renamed' WHERE name = 'Coupled'")
            #expect(try await s.fire("debtor-delta", at: tick(0)) == "enqueued")
            #expect(try await s.f.value(s.f.crm, "SELECT name FROM client", as: String.self) == "Renamed")
            #expect(try await s.lastJobResult("debtor-delta") == nil)
            #expect(try await s.fire("debtor-delta", at: tick(1)) == "enqueued", "the schedule is not on hold")
        }
    }

    @Test("CRMJobQueueEntryInactivity.T111_InactiveJobsBecomesActiveIfRecIsChangedManually: a change to a record wakes its mapping's schedule at once and leaves another mapping's on hold")
    func changeWakesOnlyItsSchedule() async throws {
        try await ScheduledSync.with { s in
            try await s.coupledUnchangedDebtor()
            try await s.f.coordination.query(
                """
                INSERT INTO couplet.table_mappings (name, local_endpoint, local_table, local_key, local_modified, local_filter,
                    integration_endpoint, integration_table, integration_key, integration_modified, direction)
                SELECT 'BLOCKED', local_endpoint, local_table, local_key, local_modified, 'blocked',
                       integration_endpoint, integration_table, integration_key, integration_modified, 'to_integration'
                FROM couplet.table_mappings WHERE name = 'DEBTOR'
                """)
            try await s.f.coordination.query(
                """
                INSERT INTO couplet.field_mappings (mapping, position, local_field, integration_field, direction, comparison)
                VALUES ('BLOCKED', 1, 'name', 'name', 'to_integration', 'text')
                """)
            try await s.schedule("debtor-delta", mapping: "DEBTOR", inactivityTimeout: .seconds(300))
            try await s.schedule("blocked-delta", mapping: "BLOCKED", inactivityTimeout: .seconds(300))
            let now = Date()
            #expect(try await s.fire("debtor-delta", at: now) == "enqueued")
            #expect(try await s.fire("blocked-delta", at: now) == "enqueued")
            #expect(try await s.waker.round().isEmpty, "nothing changed: both stay on hold")
            try await s.f.erp.query("UPDATE debtor SET manager = 'xyz' WHERE name = 'Coupled'")
            let woken = Date()
            #expect(try await s.waker.round() == ["debtor-delta"])
            let (outcome, runAt) = try await s.f.coordination.query(
                """
                SELECT t.outcome, j.run_at FROM couplet.schedule_ticks t JOIN couplet.jobs j ON j.id = t.job_id
                WHERE t.schedule_name = 'debtor-delta' ORDER BY t.fire_time DESC LIMIT 1
                """
            ).single().decode((String, Date).self)
            #expect(outcome == "woken")
            #expect(abs(runAt.timeIntervalSince(woken)) < 5, "the woken job is due at once")
            #expect(try await s.heldUntil("debtor-delta") == nil)
            #expect(try await s.heldUntil("blocked-delta") != nil, "the other mapping's schedule stays on hold")
            try await s.runDueJobs()
            #expect(try await s.f.value(s.f.crm, "SELECT manager FROM client", as: String?.self) == "xyz")
            #expect(try await s.heldUntil("debtor-delta") == nil, "the woken run synchronized a change: the schedule is active")
            #expect(try await s.fire("debtor-delta", at: Date()) == "enqueued")
            #expect(try await s.heldUntil("debtor-delta") != nil, "the next run found nothing: on hold again")
        }
    }

    @Test("a CRM change, a pair coupled by hand and a person's wake each end the hold; a run that failed a record does not hold")
    func otherWakeUps() async throws {
        try await ScheduledSync.with { s in
            try await s.coupledUnchangedDebtor()
            try await s.f.setMapping("sync_only_coupled = true")
            try await s.f.erp.query("INSERT INTO debtor (name, blocked) VALUES ('Second', false)")
            try await s.f.crm.query("INSERT INTO client (name) VALUES ('Second')")
            try await s.schedule("debtor-delta", mapping: "DEBTOR", inactivityTimeout: .zero)
            #expect(try await s.fire("debtor-delta", at: tick(0)) == "enqueued")
            #expect(try await s.heldUntil("debtor-delta") == .distantFuture, "uncoupled records a delta leaves alone are nothing to do")

            try await s.f.crm.query("UPDATE client SET manager = 'from the CRM' WHERE name = 'Coupled'")
            #expect(try await s.waker.round() == ["debtor-delta"], "a change on the CRM side wakes it too")
            try await s.runDueJobs()
            #expect(try await s.f.value(s.f.erp, "SELECT manager FROM debtor WHERE name = 'Coupled'", as: String?.self) == "from the CRM")
            #expect(try await s.fire("debtor-delta", at: Date()) == "enqueued", "that run wrote a change: active")
            #expect(try await s.waker.round().isEmpty, "the next found nothing: on hold, and nothing to wake it")

            try await RecordActions.couple(
                mapping: "DEBTOR", localID: try await s.f.debtorID("Second"), integrationID: try await s.f.clientID("Second"),
                on: s.f.coordination)
            #expect(try await s.waker.round() == ["debtor-delta"], "a pair coupled by hand waits for its first sync")
            try await s.runDueJobs()
            #expect(try await s.f.value(s.f.coordination, "SELECT count(*) FROM couplet.couplings", as: Int.self) == 2)
            _ = try await s.fire("debtor-delta", at: Date())
            #expect(try await s.heldUntil("debtor-delta") == .distantFuture)

            #expect(try await ScheduleStore.wake("debtor-delta", on: s.f.coordination) != nil, "a person wakes it")
            #expect(try await ScheduleStore.wake("debtor-delta", on: s.f.coordination) == nil, "no longer on hold")
            try await s.runDueJobs()
            #expect(try await s.heldUntil("debtor-delta") == .distantFuture, "the woken run found nothing")

            try await s.f.crm.query("ALTER TABLE client ADD CONSTRAINT no_x CHECK (name <> 'X')")
            try await s.f.erp.query("UPDATE debtor SET name = 'X' WHERE name = 'Second'")
            #expect(try await s.waker.round() == ["debtor-delta"])
            try await s.runDueJobs()
            #expect(try await s.lastJobResult("debtor-delta") == nil, "a run that failed a record found something to do")
            #expect(try await s.heldUntil("debtor-delta") == nil)
        }
    }

    @Test("without an inactivity timeout an idle delta never holds its schedule")
    func noTimeoutNoHold() async throws {
        try await ScheduledSync.with { s in
            try await s.coupledUnchangedDebtor()
            try await s.schedule("debtor-delta", mapping: "DEBTOR", inactivityTimeout: nil)
            #expect(try await s.fire("debtor-delta", at: tick(0)) == "enqueued")
            #expect(try await s.lastJobResult("debtor-delta") == #"{"idle": true}"#, "the job still says it found nothing")
            #expect(try await s.fire("debtor-delta", at: tick(1)) == "enqueued")
        }
    }
}

/// The DEBTOR fixture with schedules, a worker's registry and a schedule waker.
struct ScheduledSync {
    let f: OwnSchemaFixture
    let pool: PostgresConnectionPool
    let registry: JobRegistry
    let waker: ScheduleWaker

    static func with(isolation: isolated (any Actor)? = #isolation, _ body: (ScheduledSync) async throws -> Void) async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping()
            let pool = PostgresConnectionPool(f.database.configuration, maximumConnections: 2)
            defer { pool.close() }
            var registry = JobRegistry()
            SyncJobs.register(in: &registry, endpoints: f.endpoints)
            let waker = ScheduleWaker(
                registry: registry, database: f.database.configuration, interval: .seconds(60), waker: UUID(),
                logger: Logger(label: "test"))
            try await body(ScheduledSync(f: f, pool: pool, registry: registry, waker: waker))
        }
    }

    /// A debtor and its client, coupled by a full sync and in step since.
    func coupledUnchangedDebtor() async throws {
        try await f.erp.query("INSERT INTO debtor (name, blocked) VALUES ('Coupled', false)")
        try await f.sync(.full)
        try await f.sync()
    }

    /// A schedule of `mapping`'s delta every half hour.
    func schedule(_ name: String, mapping: String, inactivityTimeout: Duration?) async throws {
        let definition = try ScheduleDefinition(
            name: name, expression: "0,30 * * * *", jobKind: "sync.delta", arguments: #"{"mapping": "\#(mapping)"}"#, queue: "sync",
            inactivityTimeout: inactivityTimeout)
        try await ScheduleStore.apply([definition], prune: false, on: f.coordination)
    }

    /// Fires the schedule's tick at `time` as the scheduler does, runs the job it enqueued as a
    /// worker does, and returns the tick's outcome.
    func fire(_ schedule: String, at time: Date) async throws -> String {
        let fired = try await SchedulerStatements.fire([(schedule, time)], by: UUID(), on: f.coordination)
        try await runDueJobs()
        return try #require(fired.first?.outcome)
    }

    /// Claims and runs every due sync job, one at a time, as a worker does.
    func runDueJobs() async throws {
        let worker = UUID()
        while let job = try await JobQueue.claim(limit: 1, queue: "sync", workerID: worker, on: f.coordination).first {
            let context = JobContext(job: job, workerID: worker, logger: Logger(label: "test"), database: pool)
            let outcome = await JobExecution(job: job, registry: registry, stopRequest: WakeUp()).run(context: context)
            try await JobQueue.finish([outcome], on: f.coordination)
        }
    }

    /// The `result` of the schedule's latest job, as text.
    func lastJobResult(_ schedule: String) async throws -> String? {
        try await f.value(
            f.coordination, "SELECT result::text FROM couplet.jobs WHERE schedule_name = \(schedule) ORDER BY id DESC LIMIT 1")
    }

    /// Until when the schedule's latest job holds it (nil: it does not), whether or not that time has passed.
    func heldUntil(_ schedule: String) async throws -> Date? {
        try await f.coordination.query("SELECT held_until FROM couplet.schedule_holds WHERE name = \(schedule)").first?.decode(Date.self, at: 0)
    }
}
