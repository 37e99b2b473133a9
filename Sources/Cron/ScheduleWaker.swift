import Foundation
import Logging
import Postgres
import Queue
import ServiceLifecycle

/// Wakes schedules on hold as soon as their job would find work: Business Central wakes a job queue
/// entry on hold with an inactivity timeout when a record of its table changes.
///
/// Every `interval` one `couplet worker` at a time (a transaction-level advisory lock, so it holds
/// behind PgBouncer in transaction mode) lists the enabled schedules on hold whose job kind the
/// worker can probe (`WorkProbingJobHandler`), asks each probe, and wakes those with work
/// (`couplet.wake_schedule`): their job is enqueued at once. A probe reads at most a record per
/// question, so a held delta costs a few index lookups per interval instead of a job per tick; and
/// unlike Business Central, whose trigger sees only its own tables, it sees changes on both sides.
/// A probe that fails is logged and asked again next time; the hold still ends at its timeout.
public final class ScheduleWaker: Service, Sendable {
    private let registry: JobRegistry
    private let interval: Duration
    private let waker: UUID
    private let logger: Logger
    private let pool: PostgresConnectionPool

    /// A waker probing with `registry`'s handlers every `interval`, on the coordination database;
    /// `waker` (the worker's id) is recorded on the ticks it enqueues.
    public init(registry: JobRegistry, database: PostgresConfiguration, interval: Duration, waker: UUID, logger: Logger) {
        self.registry = registry
        self.interval = interval
        self.waker = waker
        self.logger = logger
        // One connection holds the lock and lists the schedules, one probes and wakes.
        self.pool = PostgresConnectionPool(database, maximumConnections: 2, applicationName: "couplet worker waker")
    }

    /// Probes every `interval` until graceful shutdown.
    public func run() async throws {
        guard !registry.probingKinds.isEmpty else { return }
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: self.interval)
                await self.round()
            }
        }
        pool.close()
    }

    /// One round: when no other process is probing, wakes each held schedule whose probe finds work.
    /// Returns the schedules woken.
    @discardableResult
    public func round() async -> [String] {
        do {
            return try await pool.withConnection { connection in
                try await connection.withTransaction { transaction in
                    guard try await Self.lead(on: transaction) else { return [] }
                    var woken: [String] = []
                    for schedule in try await ScheduleStore.held(kinds: registry.probingKinds, on: transaction)
                    where await wakeIfBusy(schedule) {
                        woken.append(schedule.name)
                    }
                    return woken
                }
            }
        } catch {
            if !Task.isCancelled { logger.error("cannot probe the schedules on hold", metadata: ["error": "\(error)"]) }
            return []
        }
    }

    /// Asks the schedule's probe; wakes the schedule when it finds work. Whether it was woken.
    private func wakeIfBusy(_ schedule: HeldSchedule) async -> Bool {
        do {
            let context = ProbeContext(logger: logger, database: pool)
            guard try await registry.hasWork(kind: schedule.jobKind, arguments: schedule.arguments, context: context) == true
            else { return false }
            let job = try await pool.withConnection { try await ScheduleStore.wake(schedule.name, by: waker, on: $0) }
            guard let job else { return false }
            logger.info("woke schedule on hold: its job has work", metadata: ["schedule": "\(schedule.name)", "job": "\(job)"])
            return true
        } catch {
            logger.warning("cannot probe schedule on hold", metadata: ["schedule": "\(schedule.name)", "error": "\(error)"])
            return false
        }
    }

    /// Takes the waker's transaction-level advisory lock if no other process holds it.
    private static func lead(on connection: PostgresConnection) async throws -> Bool {
        try await connection.query("SELECT pg_try_advisory_xact_lock(\(lockKey))", name: "lock schedule waker")
            .single().decode(Bool.self, at: 0)
    }

    private static let lockKey = 0x636F_7570_6C65_7402
}
