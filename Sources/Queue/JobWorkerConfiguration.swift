/// How a worker process claims and runs jobs.
public struct JobWorkerConfiguration: Sendable {
    /// The queues to claim from, in this order; empty claims from every queue that holds pending jobs.
    public var queues: [String] = []
    /// How many jobs run at once in this process.
    public var concurrency: Int = 10
    /// How long this worker's claimed jobs stay its own without a heartbeat (one lease for the
    /// worker, in `couplet.workers`); heartbeats come every third of it, and once it runs out
    /// another process rescues the worker's running jobs.
    public var lease: Duration = .seconds(30)
    /// How often an idle worker looks for due jobs when no notification arrives (and always for
    /// jobs scheduled for later or retried after a delay).
    public var pollInterval: Duration = .seconds(1)
    /// Wake on LISTEN/NOTIFY; false polls only (for PgBouncer in transaction mode).
    public var listensForNotifications = true
    /// On SIGTERM, how long running jobs may take to finish before they are cancelled and released.
    public var shutdownGracePeriod: Duration = .seconds(25)
    /// Finished jobs and their attempts older than this are deleted.
    public var retention: Duration = .seconds(7 * 24 * 3600)
    /// The most outcomes one finish statement writes. While more than this many finished jobs'
    /// outcomes are unwritten the worker claims nothing, so a slow write holds claims back rather
    /// than growing the next write.
    public var outcomeBatchLimit: Int = 256
    /// Whether connections prepare statements (false behind PgBouncer in transaction mode before 1.21).
    public var usesPreparedStatements = true

    /// The default configuration.
    public init() {}

    /// Whether this worker claims jobs of `queue`.
    public func claims(queue: String) -> Bool { queues.isEmpty || queues.contains(queue) }

    /// How often the worker heartbeats: under half the lease, as leases require.
    var heartbeatInterval: Duration { lease / 3 }
    /// How often rescue and expiry run (by one process at a time).
    var maintenanceInterval: Duration { max(lease / 4, .milliseconds(500)) }
}
