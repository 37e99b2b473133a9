import ArgumentParser
import CommandSupport
import Cron
import Foundation
import Logging
import Queue
import SalesIntegration
import ServiceLifecycle
import Sync

/// `couplet worker`: a worker process that claims and runs jobs until SIGTERM or SIGINT.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Claim and run jobs from the queue until stopped.",
        discussion: """
            Run as many workers as you like, on as many servers: each claims due jobs with row locks \
            (FOR NO KEY UPDATE SKIP LOCKED), heartbeats its lease and writes results back. On SIGTERM \
            or SIGINT it stops claiming, lets running jobs finish within the grace period, releases the \
            rest back to the queue and exits 0. Durations read like 500ms, 30s, 5m, 1h30m, 7d.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: "Comma-separated queues to claim from, in this order. (default: every queue)")
    var queues: String?

    @Option(help: "How many jobs run at once in this process.")
    var concurrency: Int = 10

    @Option(
        help: "How long the worker's lease lasts without a heartbeat; once it runs out, another worker rescues its running jobs. (default: 30s)",
        transform: Duration.positive(argument:))
    var lease: Duration = .seconds(30)

    @Option(
        help: "How often an idle worker looks for due jobs without a notification. (default: 1s)",
        transform: Duration.positive(argument:))
    var pollInterval: Duration = .seconds(1)

    @Flag(help: "Poll only, without LISTEN/NOTIFY (behind PgBouncer in transaction mode).")
    var pollOnly = false

    @Flag(help: "Do not prepare statements (PgBouncer in transaction mode before 1.21).")
    var noPreparedStatements = false

    @Option(
        help: "On SIGTERM, how long running jobs may take to finish before they are released. (default: 25s)",
        transform: Duration.positive(argument:))
    var grace: Duration = .seconds(25)

    @Option(
        help: "Delete finished jobs and their attempts after this long. (default: 7d)",
        transform: Duration.positive(argument:))
    var retention: Duration = .seconds(7 * 24 * 3600)

    @Option(
        help: "How often one worker asks whether the jobs of schedules on hold (inactivity_timeout) have work, and wakes them. (default: 30s)",
        transform: Duration.positive(argument:))
    var wakeProbeInterval: Duration = .seconds(30)

    @OptionGroup var monitoring: MonitoringOptions

    func validate() throws {
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        guard queues == nil || !queueNames.isEmpty else { throw ValidationError("--queues must name at least one queue") }
        guard lease >= .seconds(1) else { throw ValidationError("--lease must be at least 1s") }
    }

    /// The queues of `--queues`; empty without the option (every queue).
    private var queueNames: [String] {
        (queues ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    func run() async throws {
        let logger = try global.makeLogger("couplet.worker")
        let registry = monitoring.bootstrap()
        var configuration = JobWorkerConfiguration()
        configuration.queues = queueNames
        configuration.concurrency = concurrency
        configuration.lease = lease
        configuration.pollInterval = pollInterval
        configuration.listensForNotifications = !pollOnly
        configuration.usesPreparedStatements = !noPreparedStatements
        configuration.shutdownGracePeriod = grace
        configuration.retention = retention
        var jobs = JobRegistry()
        DiagnosticHandlers.register(in: &jobs)
        let endpoints = EndpointDirectory.couplet(logger: logger)
        SyncJobs.register(in: &jobs, endpoints: endpoints)
        SalesIntegrationJobs.register(in: &jobs, endpoints: endpoints)
        let database = try global.databaseConfiguration(logger)
        let worker = JobWorker(configuration: configuration, registry: jobs, database: database, logger: logger)
        let waker = ScheduleWaker(registry: jobs, database: database, interval: wakeProbeInterval, waker: worker.id, logger: logger)
        let limits = EndpointLimitReporter(endpoints: endpoints, database: database, worker: worker.id, logger: logger)
        let services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: worker, successTerminationBehavior: .gracefullyShutdownGroup),
            .init(service: waker, successTerminationBehavior: .ignore),
            .init(service: limits, successTerminationBehavior: .ignore),
        ]
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services + monitoring.services(registry: registry, database: database, isAlive: { worker.isAlive }, logger: logger),
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
    }
}
