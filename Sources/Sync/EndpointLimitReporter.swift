import Foundation
import Logging
import Postgres
import ServiceLifecycle

/// Writes, every `interval`, how a worker's requests stand against the service protection limits
/// of the Web API endpoints it talks to (`EndpointLimitLog`), so that `couplet status` and SQL show
/// a sync that waits for the service as waiting, not as stuck. Writes nothing before the first
/// request, and only the rows that changed; a failed write is logged and tried again next time.
public final class EndpointLimitReporter: Service, Sendable {
    private let endpoints: EndpointDirectory
    private let worker: UUID
    private let interval: Duration
    private let logger: Logger
    private let pool: PostgresConnectionPool

    /// A reporter for worker `worker` (its row in `couplet.workers`), reading `endpoints`' statistics.
    public init(endpoints: EndpointDirectory, database: PostgresConfiguration, worker: UUID, interval: Duration = .seconds(5), logger: Logger) {
        self.endpoints = endpoints
        self.worker = worker
        self.interval = interval
        self.logger = logger
        self.pool = PostgresConnectionPool(database, maximumConnections: 1, applicationName: "couplet worker limits")
    }

    /// Reports every `interval` until graceful shutdown.
    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: self.interval)
                await self.report()
            }
        }
        pool.close()
    }

    /// Writes the statistics now.
    public func report() async {
        let statistics = await endpoints.limitStatistics()
        guard !statistics.isEmpty else { return }
        do {
            try await pool.withConnection { try await EndpointLimitLog.record(statistics, worker: self.worker, on: $0) }
        } catch {
            if !Task.isCancelled { logger.warning("cannot record the endpoints' limit waits", metadata: ["error": "\(error)"]) }
        }
    }
}
