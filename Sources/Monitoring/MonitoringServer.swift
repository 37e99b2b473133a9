import Hummingbird
import Logging
import Metrics
import NIOCore
import Prometheus
import ServiceLifecycle

/// The HTTP endpoints a `couplet worker` or `couplet scheduler` serves for monitoring:
///
/// - `/metrics`: every metric the process recorded through swift-metrics, in Prometheus' text format;
/// - `/livez`: 200 while the process's loops come round, 503 when they stopped (restart it);
/// - `/readyz`: 200 while the coordination database answers and its schema matches the binary,
///   503 with the reason otherwise (send it no work; it recovers by itself).
///
/// Nothing here names a job, a record or a credential.
public enum MonitoringServer {
    /// Makes the Prometheus registry swift-metrics records into, for the whole process; call once,
    /// before anything records a metric.
    public static func bootstrapMetrics() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = durationBuckets
        MetricsSystem.bootstrap(factory)
        return registry
    }

    /// The server, as a service to run in the process's service group.
    public static func service(
        address: MonitoringAddress, registry: PrometheusCollectorRegistry, readiness: ReadinessProbe,
        isAlive: @escaping @Sendable () -> Bool, logger: Logger
    ) -> some Service {
        let router = Router()
        router.get("metrics") { _, _ in
            ProcessMetrics.record()
            var text: [UInt8] = []
            registry.emit(into: &text)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: text)))
        }
        router.get("livez") { _, _ in
            isAlive() ? plain(.ok, "alive") : plain(.serviceUnavailable, "the process's loops stopped coming round")
        }
        router.get("readyz") { _, _ in
            if let problem = await readiness.problem() { return plain(.serviceUnavailable, problem) }
            return plain(.ok, "ready")
        }
        return Application(
            router: router, configuration: .init(address: .hostname(address.host, port: address.port), serverName: nil),
            onServerRunning: { channel in
                let bound = MonitoringAddress("\(address.host):\(channel.localAddress?.port ?? address.port)") ?? address
                logger.notice("monitoring endpoints listening", metadata: ["address": "\(bound)"])
            },
            logger: logger)
    }

    /// The buckets of every duration histogram: from a millisecond (a queue wait while idle) to an
    /// hour (a full sync of a large table).
    private static let durationBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .milliseconds(2500), .seconds(10), .seconds(30), .seconds(60), .seconds(300), .seconds(900), .seconds(3600),
    ]

    private static func plain(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(
            status: status, headers: [.contentType: "text/plain; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text + "\n")))
    }
}
