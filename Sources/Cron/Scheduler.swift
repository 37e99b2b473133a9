import Foundation
import Logging
import Metrics
import Postgres
import Queue
import ServiceLifecycle
import Synchronization

/// How a scheduler process leads, plans and wakes.
public struct SchedulerConfiguration: Sendable {
    /// How long the leader's lease lasts without renewal; standbys take over after it expires,
    /// and the leader renews it every third of it.
    public var leaderLease: Duration = .seconds(10)
    /// A tick this late is still on time; older ones are misfires, handled by each schedule's
    /// policy. Keep it above the leader lease so that a leader change loses no tick.
    public var misfireThreshold: Duration = .seconds(60)
    /// Wake on `LISTEN couplet_schedules` when schedules change; false polls only (PgBouncer in transaction mode).
    public var listensForNotifications = true
    /// Whether connections prepare statements.
    public var usesPreparedStatements = true

    /// The defaults.
    public init() {}
}

/// The scheduler process: turns cron schedules into jobs, each tick exactly once.
///
/// Several may run; the one holding the lease row `couplet.scheduler_leader` leads, the others
/// stand by and take over within a lease when it dies (or at once when it resigns on shutdown).
/// A lease row, unlike a session-level advisory lock, holds behind PgBouncer in transaction mode.
/// The leader reloads the schedules from the database on every round — when a tick is due, when
/// the lease is renewed, or when a schedule changes (NOTIFY) — plans each with `TickPlan`, and
/// fires the due ticks with `couplet.fire_schedule_ticks`, which records each `(schedule,
/// fire_time)` and enqueues its job in one transaction: even two processes that both believe they
/// lead cannot enqueue a tick twice.
public final class Scheduler: Service, Sendable {
    /// This process's id, fresh for every start.
    public let id = UUID()
    private let configuration: SchedulerConfiguration
    private let database: PostgresConfiguration
    private let clock: any SchedulerClock
    private let logger: Logger
    private let wakeUp = WakeUp()
    private let firstSeen = FirstSeen()
    /// When the last round ended (whether or not the database answered it).
    private let lastRound = Mutex(ContinuousClock.now)
    /// 1 while this process leads, else 0 (`couplet_scheduler_leader`).
    private let leaderGauge = Gauge(label: "couplet_scheduler_leader")

    /// A scheduler on the coordination database, planning by `clock`.
    public init(
        configuration: SchedulerConfiguration, database: PostgresConfiguration, clock: any SchedulerClock = SystemSchedulerClock(),
        logger: Logger
    ) {
        self.configuration = configuration
        self.database = database
        self.clock = clock
        var logger = logger
        logger[metadataKey: "scheduler"] = "\(id)"
        self.logger = logger
    }

    /// Leads or stands by until graceful shutdown, then resigns the lease if it holds it.
    public func run() async throws {
        let connection = try await PostgresConnection.connect(
            database, applicationName: "couplet scheduler", usesPreparedStatements: configuration.usesPreparedStatements)
        let stopping = StopFlag()
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                if configuration.listensForNotifications { group.addTask { await self.listen() } }
                await self.rounds(on: connection, until: stopping)
                group.cancelAll()
            }
        } onGracefulShutdown: {
            stopping.set()
            self.wakeUp.signal()
        }
        try? await SchedulerStatements.resign(id, on: connection)
        logger.info("scheduler stopped")
    }

    /// Whether the scheduler's loop is alive: a round ended within three leader leases (rounds
    /// come every third of one; an unreachable database does not stop them — that is readiness).
    public var isAlive: Bool {
        lastRound.withLock { $0 }.duration(to: .now) < configuration.leaderLease * 3
    }

    /// One round per wake-up: renew or take the lease, and while leading fire what is due.
    private func rounds(on connection: PostgresConnection, until stopping: StopFlag) async {
        var leading: Bool?
        while !stopping.isSet {
            var nextFire: Date?
            do {
                let leads = try await SchedulerStatements.lead(
                    id, hostname: ProcessInfo.processInfo.hostName, pid: getpid(), lease: configuration.leaderLease, on: connection)
                if leads != leading {
                    logger.info(leads ? "leading: this scheduler enqueues the ticks" : "standing by: another scheduler leads")
                    leading = leads
                }
                leaderGauge.record(leads ? 1 : 0)
                if leads { nextFire = try await fireDueTicks(on: connection) }
            } catch {
                logger.error("scheduler round failed", metadata: ["error": "\(error)"])
                leaderGauge.record(0)  // a lease it cannot renew is one it will not hold
                if !connection.isConnected { try? await connection.reconnect() }
            }
            lastRound.withLock { $0 = .now }
            await sleep(untilFire: nextFire, upTo: configuration.leaderLease / 3)
        }
    }

    /// Plans every enabled schedule, fires the due ticks, records next fire times; returns the earliest next one.
    private func fireDueTicks(on connection: PostgresConnection) async throws -> Date? {
        let now = clock.now
        let threshold = configuration.misfireThreshold
        var due: [(schedule: String, fireTime: Date)] = []
        var next: [(schedule: String, fireTime: Date?, error: String?)] = []
        for stored in try await SchedulerStatements.enabledSchedules(on: connection) {
            let schedule: PlannedSchedule
            do {
                schedule = try stored.planned()
            } catch {
                next.append((stored.name, nil, "\(error)"))
                continue
            }
            let plan = TickPlan.plan(
                schedule, lastTick: stored.lastTick, firstSeen: firstSeen.date(for: stored.name, default: now), now: now,
                threshold: Double(threshold.components.seconds))
            if plan.droppedMissedTicks {
                logger.notice("missed ticks skipped by the misfire policy", metadata: ["schedule": "\(stored.name)"])
            }
            due += plan.due.map { (stored.name, $0) }
            next.append((stored.name, plan.next, nil))
        }
        let fired = try await SchedulerStatements.fire(due, by: id, on: connection)
        for tick in fired {
            Counter(label: "couplet_scheduler_ticks_total", dimensions: [("outcome", tick.outcome)]).increment()
            logger.debug(
                "tick", metadata: ["schedule": "\(tick.schedule)", "fire_time": "\(tick.fireTime)", "outcome": "\(tick.outcome)"])
        }
        if !fired.isEmpty { logger.info("ticks handled", metadata: ["count": "\(fired.count)"]) }
        try await SchedulerStatements.record(next: next, on: connection)
        return next.compactMap(\.fireTime).min()
    }

    /// Sleeps until the next fire time (by the scheduler's clock), a notification, or the lease renewal.
    private func sleep(untilFire nextFire: Date?, upTo renewal: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            if let nextFire { group.addTask { try? await self.clock.sleep(until: nextFire) } }
            group.addTask { await self.wakeUp.wait(upTo: renewal) }
            await group.next()
            group.cancelAll()
        }
    }

    /// Wakes the scheduler when schedules change.
    private func listen() async {
        var connection: PostgresConnection?
        var listening = false
        while !Task.isCancelled {
            do {
                if connection == nil {
                    connection = try await PostgresConnection.connect(database, applicationName: "couplet scheduler listener")
                }
                guard let connection else { continue }
                if !listening {
                    try await connection.listen(Self.changeChannel)
                    listening = true
                }
                if try await !connection.notifications(timeout: .seconds(30)).isEmpty { wakeUp.signal() }
            } catch let error as PostgresError where error.code == .cancelled {
                return
            } catch {
                listening = false
                logger.error("cannot listen for schedule changes", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
                if connection?.isConnected == false { try? await connection?.reconnect() }
            }
        }
    }

    private static let changeChannel = try! PostgresIdentifier("couplet_schedules")
}

/// When this process first saw each schedule: where a schedule without ticks starts.
private final class FirstSeen: Sendable {
    private let dates = Mutex<[String: Date]>([:])

    func date(for schedule: String, default now: Date) -> Date {
        dates.withLock { dates in
            if let seen = dates[schedule] { return seen }
            dates[schedule] = now
            return now
        }
    }
}

/// Set once when graceful shutdown begins.
private final class StopFlag: Sendable {
    private let flag = Mutex(false)
    var isSet: Bool { flag.withLock { $0 } }
    func set() { flag.withLock { $0 = true } }
}

extension SchedulerStatements.StoredSchedule {
    /// The schedule ready to plan, or an error a person can fix (shown in `schedule_status.last_error`).
    func planned() throws -> PlannedSchedule {
        let expression = try CronExpression(self.expression)
        let zone = try expression.scheduleZone(named: timeZone).zone
        return PlannedSchedule(
            name: name, expression: expression, timeZone: zone,
            misfirePolicy: MisfirePolicy(rawValue: misfirePolicy) ?? .skip, catchUpWindow: catchUpWindow)
    }
}
