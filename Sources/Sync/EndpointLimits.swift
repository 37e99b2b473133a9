import Foundation
import Postgres

/// How one Web API endpoint's requests stand against its service protection limits in this
/// process: the requests waiting for a permit now, and the waits so far.
public struct EndpointLimitStatistics: Sendable, Equatable {
    /// The endpoint's name, as the mappings file names it.
    public var endpoint: String
    /// Requests waiting for a permit now (request budget, concurrency cap or a pause).
    public var waiting: Int
    /// Requests sent and not yet answered.
    public var inFlight: Int
    /// The service answered `429 Too Many Requests` and its `Retry-After` has not passed.
    public var isPaused: Bool
    /// Time requests spent waiting for a permit since the process started, summed over requests.
    public var waited: Duration
    /// `429 Too Many Requests` answers since the process started.
    public var throttled: Int

    /// Statistics of `endpoint`.
    public init(endpoint: String, waiting: Int, inFlight: Int, isPaused: Bool, waited: Duration, throttled: Int) {
        self.endpoint = endpoint
        self.waiting = waiting
        self.inFlight = inFlight
        self.isPaused = isPaused
        self.waited = waited
        self.throttled = throttled
    }

    /// `waited` in seconds.
    public var waitedSeconds: Double {
        Double(waited.components.seconds) + Double(waited.components.attoseconds) / 1e18
    }

    /// Whether requests are held back right now.
    public var isWaiting: Bool { waiting > 0 || isPaused }
}

/// A worker's endpoint limit statistics as `couplet.endpoint_limits` keeps them, with the worker's
/// host and process, for `couplet status` and for DBAs.
public struct StoredEndpointLimits: Sendable, Equatable {
    /// The worker process.
    public var workerID: UUID
    /// Its host.
    public var hostname: String
    /// Its process id.
    public var pid: Int
    /// The statistics it last wrote.
    public var statistics: EndpointLimitStatistics
}

/// Owns `couplet.endpoint_limits`: each worker writes how its requests wait for the Web APIs'
/// service protection limits, so that a sync that is slow because the service holds it back says
/// so in `couplet status` and in SQL.
public enum EndpointLimitLog {
    /// Writes `statistics` as worker `workerID`'s rows (only those that differ from what is stored).
    public static func record(_ statistics: [EndpointLimitStatistics], worker workerID: UUID, on connection: PostgresConnection) async throws {
        for endpoint in statistics {
            let waited = endpoint.waitedSeconds
            try await connection.query(
                """
                INSERT INTO couplet.endpoint_limits AS l (worker_id, endpoint, waiting, in_flight, paused, waited, throttled)
                VALUES (\(workerID), \(endpoint.endpoint), \(endpoint.waiting), \(endpoint.inFlight), \(endpoint.isPaused),
                        make_interval(secs => \(waited)), \(endpoint.throttled))
                ON CONFLICT (worker_id, endpoint) DO UPDATE
                SET waiting = EXCLUDED.waiting, in_flight = EXCLUDED.in_flight, paused = EXCLUDED.paused, waited = EXCLUDED.waited,
                    throttled = EXCLUDED.throttled, updated_at = now()
                WHERE (l.waiting, l.in_flight, l.paused, l.waited, l.throttled)
                    IS DISTINCT FROM (EXCLUDED.waiting, EXCLUDED.in_flight, EXCLUDED.paused, EXCLUDED.waited, EXCLUDED.throttled)
                """, name: "record endpoint limits")
        }
    }

    /// The rows of the live workers, by endpoint and then host and process.
    public static func live(on connection: PostgresConnection) async throws -> [StoredEndpointLimits] {
        try await connection.query(
            """
            SELECT l.worker_id, w.hostname, w.pid::int8, l.endpoint, l.waiting::int8, l.in_flight::int8, l.paused,
                   extract(epoch FROM l.waited)::float8, l.throttled
            FROM couplet.endpoint_limits l
            JOIN couplet.workers w ON w.id = l.worker_id AND w.heartbeat_at > now() - w.lease
            ORDER BY l.endpoint, w.hostname, w.pid
            """, name: "endpoint limits"
        ).map { row in
            let (worker, hostname, pid, endpoint, waiting, inFlight, paused, waited, throttled) = try row.decode(
                (UUID, String, Int, String, Int, Int, Bool, Double, Int).self)
            let statistics = EndpointLimitStatistics(
                endpoint: endpoint, waiting: waiting, inFlight: inFlight, isPaused: paused,
                waited: duration(seconds: waited), throttled: throttled)
            return StoredEndpointLimits(workerID: worker, hostname: hostname, pid: pid, statistics: statistics)
        }
    }

    /// `seconds` as a duration, to the millisecond; zero for what no wait can be (negative, not finite).
    private static func duration(seconds: Double) -> Duration {
        guard seconds.isFinite, seconds > 0 else { return .zero }
        return .milliseconds(Int64(min(seconds, 1e12) * 1000))
    }
}
