import Postgres

/// One gauge's value as read from the coordination database: a metric name, its labels and its value.
///
/// Gauges of the database's state (queue depth, the oldest waiting job, a mapping's lag) are the same
/// whichever process reads them, so one process at a time reads them (`DatabaseGaugeReader` in
/// Monitoring) and exports them; the modules that own the tables say what to read.
public struct GaugeReading: Sendable, Hashable {
    /// The metric's name, e.g. `couplet_queue_jobs`.
    public var name: String
    /// Its labels, in order.
    public var labels: [Label]
    /// Its value.
    public var value: Double

    /// One label: a name and a value.
    public struct Label: Sendable, Hashable {
        /// The label's name.
        public var name: String
        /// Its value.
        public var value: String
    }

    /// A reading of `name` with `labels` (name, value pairs).
    public init(_ name: String, _ labels: [(String, String)], _ value: Double) {
        self.name = name
        self.labels = labels.map { Label(name: $0.0, value: $0.1) }
        self.value = value
    }

    /// The metric's identity: its name and labels, without the value.
    public var series: [String] { [name] + labels.flatMap { [$0.name, $0.value] } }
}

/// Reads a set of gauges from the coordination database.
public typealias GaugeSource = @Sendable (PostgresConnection) async throws -> [GaugeReading]

extension JobQueue {
    /// The queue's gauges, for every queue with jobs not yet history, attempts in the last five
    /// minutes or a live worker naming it: `couplet_queue_jobs{queue, state}` — its jobs in each state that is not history
    /// (`JobState.counted`; 0 when none), through `couplet.queue_summary`'s partial indexes — and
    /// `couplet_queue_oldest_due_seconds{queue}`: how long its longest-waiting due job has been due (0
    /// when none waits); `couplet_queue_live_workers{queue}`: the live workers, not stopping, that claim from it.
    public static func gauges(on connection: PostgresConnection) async throws -> [GaugeReading] {
        var jobs: [String: [String: Int]] = [:]
        for row in try await connection.query("SELECT queue, state, jobs::int8 FROM couplet.queue_summary", name: "queue depth gauges") {
            let (queue, state, count) = try row.decode((String, String?, Int).self)
            jobs[queue, default: [:]][state ?? ""] = count
        }
        var oldest: [String: Double] = [:]
        for row in try await connection.query(
            """
            SELECT queue, extract(epoch FROM now() - min(run_at))::float8
            FROM couplet.jobs WHERE state IN ('available', 'scheduled', 'retryable') AND run_at <= now()
            GROUP BY queue
            """, name: "oldest due job gauges")
        {
            let (queue, age) = try row.decode((String, Double).self)
            oldest[queue] = max(0, age)
        }
        let workers = try await connection.query(
            "SELECT queues FROM couplet.workers_live WHERE NOT stopping", name: "live workers' queues"
        ).map { try $0.decode([String].self, at: 0) }
        return Set(jobs.keys).union(oldest.keys).union(workers.joined()).sorted().flatMap { queue in
            JobState.counted.map { state in
                GaugeReading("couplet_queue_jobs", [("queue", queue), ("state", state.rawValue)], Double(jobs[queue]?[state.rawValue] ?? 0))
            } + [
                GaugeReading("couplet_queue_oldest_due_seconds", [("queue", queue)], oldest[queue] ?? 0),
                GaugeReading("couplet_queue_live_workers", [("queue", queue)], Double(workers.count { $0.isEmpty || $0.contains(queue) })),
            ]
        }
    }
}
