import ArgumentParser
import Logging
import Monitoring
import Postgres
import Prometheus
import ServiceLifecycle

/// `--http-address`, shared by `couplet worker` and `couplet scheduler`: where the process serves
/// /metrics, /livez and /readyz (`MonitoringServer`), off unless given.
struct MonitoringOptions: ParsableArguments {
    @Option(help: "Serve /metrics (Prometheus), /livez and /readyz on this host:port, e.g. 127.0.0.1:9464; port 0 takes a free one and logs it. (default: off)")
    var httpAddress: MonitoringAddress?

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
        return [.init(service: server, successTerminationBehavior: .ignore)]
    }
}

extension MonitoringAddress: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}
