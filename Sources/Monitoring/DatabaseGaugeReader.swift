import Logging
import Metrics
import Postgres
import Queue
import ServiceLifecycle
import Synchronization

/// Reads the gauges of the coordination database's state — queue depth, the oldest due job, mappings'
/// lag, open errors — and exports them, in one process at a time.
///
/// Every process serving `/metrics` runs one; each tries for a session advisory lock on its own
/// connection, and only the holder reads (every `interval`) and exports the gauges, so a fleet of
/// workers costs the database one reader. The others export none of them: a Prometheus query sums or
/// takes the max over processes without double counting. When the holder stops or loses its
/// connection the lock is released with it, and another process takes over within an interval.
/// Behind PgBouncer in transaction mode a session lock is not kept: run the reader on a direct connection there.
public final class DatabaseGaugeReader: Service, Sendable {
    private let database: PostgresConfiguration
    private let sources: [GaugeSource]
    private let interval: Duration
    private let logger: Logger
    /// The gauges exported at the last reading, by series.
    private let exported = Mutex<[[String]: Gauge]>([:])

    /// A reader of `sources` on `database`, every `interval`.
    public init(database: PostgresConfiguration, sources: [GaugeSource], interval: Duration, logger: Logger) {
        self.database = database
        self.sources = sources
        self.interval = interval
        self.logger = logger
    }

    /// Reads while it holds the lock, until graceful shutdown.
    public func run() async throws {
        let connection = await cancelWhenGracefulShutdown {
            var connection: PostgresConnection?
            while !Task.isCancelled {
                connection = await self.readIfHolding(on: connection)
                try? await Task.sleep(for: self.interval)
            }
            return connection
        }
        connection?.close()
        withdraw()
    }

    /// One round: connects when it has no connection (or reconnects a broken one), takes or keeps
    /// the lock, then reads and exports; without the lock (or the database) it exports nothing.
    /// Returns the connection for the next round.
    private func readIfHolding(on connection: PostgresConnection?) async -> PostgresConnection? {
        do {
            let open = try await connected(connection)
            try await read(on: open)
            return open
        } catch {
            withdraw()
            logger.warning("cannot read the database's gauges", metadata: ["error": "\(error)"])
            return connection
        }
    }

    /// `connection` (reconnected when it broke), or a new one.
    private func connected(_ connection: PostgresConnection?) async throws -> PostgresConnection {
        guard let connection else { return try await PostgresConnection.connect(database, applicationName: "couplet gauges") }
        if !connection.isConnected { try await connection.reconnect() }
        return connection
    }

    /// Reads and exports the gauges while this process holds the lock; withdraws them otherwise.
    private func read(on connection: PostgresConnection) async throws {
        let holds = try await connection.query("SELECT pg_try_advisory_lock(\(Self.lockKey))", name: "gauge reader lock")
            .single().decode(Bool.self, at: 0)
        guard holds else { return withdraw() }
        var readings: [GaugeReading] = []
        for source in sources { readings += try await source(connection) }
        export(readings)
    }

    /// Sets each reading's gauge and withdraws the series the reading no longer holds (a queue
    /// emptied of a state, a mapping removed).
    private func export(_ readings: [GaugeReading]) {
        let stale = exported.withLock { exported in
            var fresh: [[String]: Gauge] = [:]
            for reading in readings {
                let gauge = exported[reading.series]
                    ?? Gauge(label: reading.name, dimensions: reading.labels.map { ($0.name, $0.value) })
                gauge.record(reading.value)
                fresh[reading.series] = gauge
            }
            defer { exported = fresh }
            return exported.filter { fresh[$0.key] == nil }.map(\.value)
        }
        stale.forEach { $0.destroy() }
    }

    /// Stops exporting every gauge: another process reads them now, or nobody can.
    private func withdraw() {
        exported.withLock { exported in
            defer { exported = [:] }
            return Array(exported.values)
        }.forEach { $0.destroy() }
    }

    /// The advisory lock key ("coupgaug").
    private static let lockKey: Int64 = 0x636F_7570_6761_7567
}
