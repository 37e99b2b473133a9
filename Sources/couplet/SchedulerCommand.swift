import ArgumentParser
import CommandSupport
import Cron
import Foundation
import Logging
import ServiceLifecycle

/// `couplet scheduler`: turns cron schedules into jobs until SIGTERM or SIGINT.
struct SchedulerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scheduler",
        abstract: "Enqueue the jobs of the cron schedules in couplet.schedules, each tick exactly once.",
        discussion: """
            Run two or more for availability: one leads (it holds the lease row couplet.scheduler_leader) \
            and the others take over within --leader-lease when it dies, at once when it stops. A schedule \
            changed by SQL or by `couplet schedules apply` takes effect without a restart.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(
        help: "How long the leader's lease lasts without renewal. (default: 10s)",
        transform: Duration.positive(argument:))
    var leaderLease: Duration = .seconds(10)

    @Option(
        help: "A tick up to this late still fires; older ones follow each schedule's misfire policy. (default: 60s)",
        transform: Duration.positive(argument:))
    var misfireThreshold: Duration = .seconds(60)

    @Flag(help: "Do not LISTEN for schedule changes; see them at the next renewal (PgBouncer in transaction mode).")
    var pollOnly = false

    @OptionGroup var monitoring: MonitoringOptions

    @Option(help: ArgumentHelp("Rehearse with simulated time starting at this ISO 8601 instant.", visibility: .hidden))
    var simulateFrom: String?

    @Option(help: ArgumentHelp("The real Unix time at which simulated time reads --simulate-from.", visibility: .hidden))
    var simulateAnchor: Double?

    @Option(help: ArgumentHelp("Simulated seconds per real second.", visibility: .hidden))
    var simulateRate: Double = 1

    func validate() throws {
        guard misfireThreshold > leaderLease else {
            throw ValidationError("--misfire-threshold must exceed --leader-lease, or a leader change could skip ticks")
        }
        guard simulateRate > 0, simulateRate.isFinite else { throw ValidationError("--simulate-rate must be a number above 0") }
        guard simulateAnchor?.isFinite ?? true else { throw ValidationError("--simulate-anchor must be a Unix time") }
    }

    func run() async throws {
        let logger = try global.makeLogger("couplet.scheduler")
        let registry = monitoring.bootstrap()
        var configuration = SchedulerConfiguration()
        configuration.leaderLease = leaderLease
        configuration.misfireThreshold = misfireThreshold
        configuration.listensForNotifications = !pollOnly
        let database = try global.databaseConfiguration(logger)
        let scheduler = Scheduler(configuration: configuration, database: database, clock: try clock(), logger: logger)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: scheduler, successTerminationBehavior: .gracefullyShutdownGroup)]
                    + monitoring.services(registry: registry, database: database, isAlive: { scheduler.isAlive }, logger: logger),
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
    }

    private func clock() throws -> any SchedulerClock {
        guard let simulateFrom else { return SystemSchedulerClock() }
        guard let start = ISO8601DateFormatter().date(from: simulateFrom) else {
            throw ValidationError("--simulate-from \(simulateFrom) is not an ISO 8601 instant such as 2026-01-01T00:00:00Z")
        }
        let anchor = simulateAnchor.map { Date(timeIntervalSince1970: $0) } ?? Date()
        return SimulatedSchedulerClock(start: start, anchor: anchor, rate: simulateRate)
    }
}
