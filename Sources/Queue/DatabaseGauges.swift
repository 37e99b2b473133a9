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

extension QueueStatus {
    /// The queue's gauges, from the same read as `couplet status`, for every queue with pending,
    /// running, held or failed jobs, attempts in the last five minutes, or a live worker naming it:
    /// `couplet_queue_jobs{queue, state}` — its jobs `waiting` (due, not running), `scheduled` (not
    /// due yet), `running`, `on_hold` and `failed`; `couplet_queue_oldest_due_seconds{queue}` — how long
    /// its longest-waiting due job has been due (0 when none waits); `couplet_queue_live_workers{queue}`
    /// — the live workers, not stopping, that claim from it.
    public static func gauges(on connection: PostgresConnection) async throws -> [GaugeReading] {
        let lines = Dictionary(try await queues(on: connection).map { ($0.queue, $0) }) { first, _ in first }
        let claiming = try await workers(on: connection).filter { $0.isLive && !$0.isStopping }.map(\.queues)
        return Set(lines.keys).union(claiming.joined()).sorted().flatMap { queue in
            let line = lines[queue] ?? QueueLine(queue: queue, waiting: 0, scheduled: 0, running: 0, onHold: 0, failed: 0, oldestWaiting: nil, completedRecently: 0)
            let states = [("waiting", line.waiting), ("scheduled", line.scheduled), ("running", line.running), ("on_hold", line.onHold), ("failed", line.failed)]
            return states.map { GaugeReading("couplet_queue_jobs", [("queue", queue), ("state", $0.0)], Double($0.1)) } + [
                GaugeReading("couplet_queue_oldest_due_seconds", [("queue", queue)], max(0, line.oldestWaiting ?? 0)),
                GaugeReading("couplet_queue_live_workers", [("queue", queue)], Double(claiming.count { $0.isEmpty || $0.contains(queue) })),
            ]
        }
    }
}
