import Foundation
import Logging
import Metrics
import Postgres
import ServiceLifecycle
import Synchronization

/// A worker process's job runner: claims due jobs in batches and runs up to `concurrency` of them
/// at once, as child tasks of one task group (the shape of swift-jobs' `JobQueueProcessor`).
///
/// Beside the jobs run a heartbeat (renews the worker's lease, which covers all its running jobs,
/// at a third of its length), maintenance (rescues the jobs of workers whose lease ran out, cancels
/// expired ones, prunes old ones — one process at a time), a listener (LISTEN/NOTIFY wake-ups and
/// cancel requests), and a finisher that writes outcomes in bounded batches, fenced on the attempt
/// so a rescued job is never overwritten by its old owner. While more than a batch of outcomes is
/// unwritten, the claim loop waits.
///
/// On graceful shutdown (SIGTERM, SIGINT) it stops claiming, lets running jobs finish within the
/// grace period, cancels and releases the rest back to available, writes every outcome and
/// deregisters. Delivery is at least once.
///
/// Through swift-metrics, each claimed attempt records how long its job had been due in
/// `couplet_job_queue_wait_seconds`, each finished attempt counts in `couplet_jobs_finished_total`
/// (by kind, queue and outcome: an attempt that will be retried is `retryable`) and its run time in
/// `couplet_job_run_duration_seconds`; a kind no handler is registered for counts as `unregistered`,
/// so job rows cannot grow the labels. Jobs rescued from dead workers count in `couplet_jobs_rescued_total`.
public final class JobWorker: Service, Sendable {
    /// This process's id in `couplet.workers`, fresh for every start.
    public let id = UUID()
    private let configuration: JobWorkerConfiguration
    private let registry: JobRegistry
    private let database: PostgresConfiguration
    private let logger: Logger
    private let pool: PostgresConnectionPool
    private let state: WorkerState
    /// When the heartbeat loop last came round (whether or not the database answered it).
    private let lastBeat = Mutex(ContinuousClock.now)
    private let metrics = JobMetrics()

    /// A worker for `registry`'s kinds on the coordination database `database`.
    public init(
        configuration: JobWorkerConfiguration, registry: JobRegistry, database: PostgresConfiguration, logger: Logger
    ) {
        self.configuration = configuration
        self.registry = registry
        self.database = database
        self.state = WorkerState(outcomeBatchLimit: configuration.outcomeBatchLimit)
        var logger = logger
        logger[metadataKey: "worker"] = "\(id)"
        self.logger = logger
        self.pool = PostgresConnectionPool(
            database, maximumConnections: max(2, configuration.concurrency), applicationName: "couplet worker",
            usesPreparedStatements: configuration.usesPreparedStatements)
    }

    /// Runs until graceful shutdown, then finishes or releases what is in flight and returns.
    public func run() async throws {
        let control = try await connect("couplet worker")
        let registration = WorkerRegistration(
            id: id, hostname: ProcessInfo.processInfo.hostName, pid: getpid(), queues: configuration.queues,
            concurrency: configuration.concurrency, lease: configuration.lease)
        try await JobQueue.register(registration, on: control)
        logger.info(
            "worker started",
            metadata: ["queues": "\(configuration.queues.isEmpty ? "all" : configuration.queues.joined(separator: ","))", "concurrency": "\(configuration.concurrency)"])
        try await withGracefulShutdownHandler {
            try await runLoops(control: control, registration: registration)
        } onGracefulShutdown: {
            self.state.beginStopping()
        }
        try? await JobQueue.deregister(id, on: control)
        pool.close()
        logger.info("worker stopped")
    }

    private func runLoops(control: PostgresConnection, registration: WorkerRegistration) async throws {
        let finisher = try await connect("couplet worker finisher")
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.heartbeats(registration) }
            group.addTask { try await self.maintenance() }
            if configuration.listensForNotifications { group.addTask { try await self.listen() } }
            async let finished: Void = writeOutcomes(on: finisher)
            try await processJobs(on: control)
            try? await JobQueue.markStopping(id, on: control)
            state.outcomes.close()
            try await finished
            group.cancelAll()
        }
    }

    // MARK: Claiming and running

    /// The claim loop: fills free slots with due jobs, then waits for a wake-up, a free slot or the poll interval.
    ///
    /// While a backlog remains (the last claim filled every free slot), it claims again once half
    /// the slots are free or a few milliseconds have passed, so that short jobs are claimed in
    /// batches rather than one round trip per freed slot. While more than a batch of outcomes is
    /// unwritten it claims nothing until the finisher has written one (backpressure).
    private func processJobs(on connection: PostgresConnection) async throws {
        let cooldown = Duration.milliseconds(5)
        await withDiscardingTaskGroup { jobs in
            var backlog = false
            var lastClaim = ContinuousClock.now
            var pendingQueues = PendingQueueList()
            while !state.isStopping {
                let free = configuration.concurrency - state.running
                let batchReady = !backlog || free * 2 >= configuration.concurrency || lastClaim.duration(to: .now) >= cooldown
                let backedUp = state.outcomes.isBackedUp
                if free > 0, batchReady, !backedUp {
                    let claimed = await claim(free, from: &pendingQueues, on: connection)
                    lastClaim = .now
                    for job in claimed {
                        state.started()
                        metrics.claimed(labels(of: job), after: job.queueWait)
                        jobs.addTask { await self.execute(job) }
                    }
                    backlog = !claimed.isEmpty && claimed.count == free
                    if backlog && claimed.count < configuration.concurrency { continue }
                }
                await state.wakeUp.wait(upTo: backlog && !backedUp ? cooldown : configuration.pollInterval)
            }
            await drain(jobs: &jobs)
        }
    }

    /// After a stop request: waits up to the grace period for running jobs, then cancels the rest,
    /// which release their jobs back to available.
    private func drain(jobs: inout DiscardingTaskGroup) async {
        let deadline = ContinuousClock.now + configuration.shutdownGracePeriod
        if state.running > 0 { logger.info("stopping: waiting for running jobs", metadata: ["running": "\(state.running)"]) }
        while state.running > 0, ContinuousClock.now < deadline {
            await state.wakeUp.wait(upTo: ContinuousClock.now.duration(to: deadline))
        }
        if state.running > 0 {
            logger.warning("grace period over: releasing running jobs", metadata: ["running": "\(state.running)"])
            jobs.cancelAll()
        }
    }

    /// Claims up to `limit` jobs from the queues in the order configured (without queues configured,
    /// from each queue holding pending jobs); a database failure is logged and retried after the poll interval.
    private func claim(_ limit: Int, from pendingQueues: inout PendingQueueList, on connection: PostgresConnection) async -> [ClaimedJob] {
        do {
            var claimed: [ClaimedJob] = []
            let queues = configuration.queues.isEmpty ? try await pendingQueues.current(on: connection) : configuration.queues
            for queue in queues where claimed.count < limit {
                claimed += try await JobQueue.claim(
                    limit: limit - claimed.count, queue: queue, workerID: id, on: connection)
            }
            if claimed.count < limit { pendingQueues.forget() }
            return claimed
        } catch let error as PostgresError where error.sqlState == "23505" {
            // Two workers claimed jobs with the same concurrency key at once; the index refused one. Try again.
            logger.debug("claim raced on a concurrency key; claiming again")
            return []
        } catch {
            await recover(connection, after: error, doing: "claim jobs")
            return []
        }
    }

    /// Runs one attempt and hands its outcome to the finisher.
    private func execute(_ job: ClaimedJob) async {
        var logger = logger
        logger[metadataKey: "job"] = "\(job.id)"
        logger[metadataKey: "kind"] = "\(job.kind)"
        logger[metadataKey: "attempt"] = "\(job.attempt)"
        let attempt = JobAttemptID(job: job.id, attempt: job.attempt)
        let started = ContinuousClock.now
        let outcome = await JobExecution(job: job, registry: registry, stopRequest: state.stopRequest(for: attempt))
            .run(context: JobContext(job: job, workerID: id, logger: logger, database: pool))
        state.finished(attempt)
        record(outcome, of: job, ranFor: started.duration(to: .now))
        if let error = outcome.error {
            logger.warning("job attempt failed", metadata: ["outcome": "\(outcome.state.rawValue)", "error": "\(error)"])
        } else {
            logger.debug("job completed")
        }
        state.outcomes.append(outcome)
    }

    /// Counts a finished attempt and its run time.
    private func record(_ outcome: JobOutcome, of job: ClaimedJob, ranFor duration: Duration) {
        metrics.finished(labels(of: job), outcome: outcome.state, ranFor: duration)
    }

    /// A job's metric labels: its kind (`unregistered` when no handler knows it) and queue.
    private func labels(of job: ClaimedJob) -> JobMetrics.Labels {
        JobMetrics.Labels(kind: registry.handles(job.kind) ? job.kind : "unregistered", queue: job.queue)
    }

    /// Whether the worker's loops are alive: the heartbeat loop came round within three of its
    /// intervals (a stuck process stops it; an unreachable database does not — that is readiness).
    public var isAlive: Bool {
        lastBeat.withLock { $0 }.duration(to: .now) < configuration.heartbeatInterval * 3
    }

    // MARK: Finishing

    /// Writes outcomes in bounded batches as they come, until the buffer is closed and empty, on the
    /// finisher connection's own thread (it talks to no other connection).
    private func writeOutcomes(on connection: PostgresConnection) async throws {
        await connection.withBoundExecutor {
            while let batch = await state.outcomes.next() {
                await write(batch, on: connection)
                state.outcomes.written(batch)
            }
        }
    }

    /// Writes one batch of outcomes. A failed write is retried; once the worker is stopping it gives
    /// up after the grace period (the database is unreachable), and the jobs concerned are rescued
    /// when the worker's lease runs out.
    private func write(_ batch: [JobOutcome], on connection: PostgresConnection) async {
        let firstTry = ContinuousClock.now
        while true {
            do {
                let accepted = try await JobQueue.finish(batch, on: connection)
                for refused in batch where !accepted.contains(refused.jobID) {
                    logger.warning(
                        "outcome refused: the job was rescued from this worker",
                        metadata: ["job": "\(refused.jobID)", "attempt": "\(refused.attempt)"])
                }
                return
            } catch {
                if state.isStopping, firstTry.duration(to: .now) > configuration.shutdownGracePeriod {
                    logger.error(
                        "giving up writing outcomes; their jobs will be rescued when this worker's lease runs out",
                        metadata: ["jobs": "\(batch.map(\.jobID))", "error": "\(error)"])
                    return
                }
                await recover(connection, after: error, doing: "write job outcomes")
            }
        }
    }

    // MARK: Heartbeat, maintenance, notifications

    private func heartbeats(_ registration: WorkerRegistration) async throws {
        let connection = try await connect("couplet worker heartbeat")
        while !Task.isCancelled {
            try await Task.sleep(for: configuration.heartbeatInterval)
            lastBeat.withLock { $0 = .now }
            do {
                let beat = try await JobQueue.heartbeat(id, on: connection)
                if !beat.registered { try await JobQueue.register(registration, on: connection) }
                for job in beat.cancelRequested { state.requestStop(job) }
            } catch {
                await recover(connection, after: error, doing: "heartbeat")
            }
        }
    }

    private func maintenance() async throws {
        let connection = try await connect("couplet worker maintenance")
        var lastPrune = ContinuousClock.now - .seconds(3600)
        while !Task.isCancelled {
            try await Task.sleep(for: configuration.maintenanceInterval)
            let pruneNow = lastPrune.duration(to: .now) > .seconds(60)
            do {
                let report = try await JobQueue.asMaintenanceLeader(on: connection) { leader in
                    (rescued: try await JobQueue.rescueExpiredLeases(on: leader),
                     expired: try await JobQueue.cancelExpired(on: leader),
                     pruned: pruneNow ? try await JobQueue.prune(olderThan: configuration.retention, on: leader) : 0)
                }
                if pruneNow && report != nil { lastPrune = .now }
                if let report { Counter(label: "couplet_jobs_rescued_total").increment(by: Int64(report.rescued)) }
                if let report, report.rescued + report.expired + report.pruned > 0 {
                    logger.info(
                        "maintenance",
                        metadata: ["rescued": "\(report.rescued)", "expired": "\(report.expired)", "pruned": "\(report.pruned)"])
                }
            } catch {
                await recover(connection, after: error, doing: "maintenance")
            }
        }
    }

    /// Wakes the claim loop when jobs arrive in one of its queues, and stops jobs a person cancelled.
    ///
    /// A cancel notification is a wake-up, not a command: anyone who may connect can send one, so
    /// a job stops only when the database says it was cancelled (`couplet.cancel_job` set its
    /// `cancel_requested_at`).
    private func listen() async throws {
        let connection = try await connect("couplet worker listener")
        var listening = false
        while !Task.isCancelled {
            do {
                if !listening {
                    try await connection.listen(JobQueue.wakeChannel)
                    try await connection.listen(JobQueue.cancelChannel)
                    listening = true
                    // Catch up on anything sent while not listening: new jobs, and cancels of jobs running here.
                    state.wakeUp.signal()
                    try await stopCancelledJobs(on: connection)
                }
                let notifications = try await connection.notifications(timeout: .seconds(30))
                if notifications.contains(where: { $0.channel == JobQueue.cancelChannel.parts[0] }) {
                    try await stopCancelledJobs(on: connection)
                }
                if notifications.contains(where: { $0.channel == JobQueue.wakeChannel.parts[0] && configuration.claims(queue: $0.payload) }) {
                    state.wakeUp.signal()
                }
            } catch let error as PostgresError where error.code == .cancelled {
                return
            } catch {
                listening = false
                await recover(connection, after: error, doing: "listen for notifications")
            }
        }
    }

    /// Asks the jobs running here whose cancel a person requested in the database to stop.
    private func stopCancelledJobs(on connection: PostgresConnection) async throws {
        for job in try await JobQueue.cancelRequested(id, on: connection) { state.requestStop(job) }
    }

    // MARK: Connections

    /// Session settings for the queue's own statements: no JIT (their plans are estimated expensive
    /// but run in a millisecond), and commits that do not wait for the WAL flush (see `connect`).
    public static let queueSessionSettings = "SET jit TO off; SET synchronous_commit TO off"

    /// A connection for the queue's own statements. They commit without waiting for the WAL flush
    /// (`synchronous_commit = off`): a crash can lose only the last few milliseconds of claims and
    /// outcomes, and a lost claim leaves its job available while a lost outcome gets its job rescued
    /// and run again — both within at-least-once delivery. Handlers' own connections stay durable.
    private func connect(_ applicationName: String) async throws -> PostgresConnection {
        let connection = try await PostgresConnection.connect(
            database, applicationName: applicationName, usesPreparedStatements: configuration.usesPreparedStatements)
        try await connection.runScript(Self.queueSessionSettings, name: "queue session settings")
        return connection
    }

    /// Logs a failed database step; reconnects when the connection broke; waits a little before the retry.
    private func recover(_ connection: PostgresConnection, after error: Error, doing what: String) async {
        guard !Task.isCancelled else { return }
        logger.error("cannot \(what)", metadata: ["error": "\(error)"])
        try? await Task.sleep(for: min(configuration.pollInterval, .seconds(1)))
        if !connection.isConnected {
            do {
                try await connection.reconnect()
                logger.info("reconnected", metadata: ["after": "\(what)"])
            } catch {
                logger.error("cannot reconnect", metadata: ["error": "\(error)"])
            }
        }
    }
}

/// The queues a worker without configured queues claims from: those holding pending jobs. The list
/// is read again when a claim from it came back short (a backlog ran dry, or work may wait in another
/// queue) and at least every second, not before every claim: while a backlog lasts, every read walks
/// the claim index past the entries of jobs just claimed, which vacuum has not removed yet.
struct PendingQueueList {
    /// How long a list read during a backlog is used before it is read again.
    static let maximumAge = Duration.seconds(1)

    private var queues: [String] = []
    private var readAt: ContinuousClock.Instant?

    /// The list, read again when it is missing or older than `maximumAge`.
    mutating func current(on connection: PostgresConnection) async throws -> [String] {
        if let readAt, readAt.duration(to: .now) < Self.maximumAge { return queues }
        queues = try await JobQueue.pendingQueues(on: connection)
        readAt = .now
        return queues
    }

    /// Drops the list, so that the next claim reads it again.
    mutating func forget() { readAt = nil }
}
