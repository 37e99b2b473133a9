import ArgumentParser
import Logging
import Monitoring
import Postgres
import Prometheus
import Queue
import ServiceLifecycle
import Sync

/// `--http-address`, shared by `couplet worker` and `couplet scheduler`: where the process serves
/// /metrics, /livez and /readyz (`MonitoringServer`), off unless given; with it, the process also
/// takes its turn reading the database's gauges (`DatabaseGaugeReader`) every `--gauge-interval`.
struct MonitoringOptions: ParsableArguments {
    @Option(help: "Serve /metrics (Prometheus), /livez and /readyz on this host:port, e.g. 127.0.0.1:9464; port 0 takes a free one and logs it. (default: off)")
    var httpAddress: MonitoringAddress?

    @Option(
        help: "With --http-address: how often the gauges of the database's state (queue depth, mappings' lag and errors) are read, by one process of all those serving /metrics at a time. (default: 15s)",
        transform: Duration.positive(argument:))
    var gaugeInterval: Duration = .seconds(15)

    /// Starts recording metrics for /metrics when it is served; call before anything records one.
    func bootstrap() -> PrometheusCollectorRegistry? {
        httpAddress.map { _ in MonitoringServer.bootstrapMetrics() }
    }

    /// The monitoring server to run beside the process's own services, when it is asked for.
    func services(
        registry: PrometheusCollectorRegistry?, database: PostgresConfiguration, isAlive: @escaping @Sendable () -> Bool, logger: Logger
    ) -> [ServiceGroupConfiguration.ServiceConfiguration] {
        guard let httpAddress, let registry else { return [] }
        let server = MonitoringServer.service(
            address: httpAddress, registry: registry, readiness: ReadinessProbe(database: database), isAlive: isAlive, logger: logger)
        let gauges = DatabaseGaugeReader(
            database: database, sources: [QueueStatus.gauges, MappingStore.gauges], interval: gaugeInterval, logger: logger)
        return [.init(service: server, successTerminationBehavior: .ignore), .init(service: gauges, successTerminationBehavior: .ignore)]
    }
}

extension MonitoringAddress: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}
