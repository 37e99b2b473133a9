import Foundation
import Logging
import Postgres
import Queue
import Sync

/// The Business Central ↔ Sales reference integration's own jobs, registered with the queue:
/// `statistics.customers` (`{"mapping": "CUSTOMER", "full": false}`), `availability.items`
/// (`{"mapping": "ITEM-PRODUCT", "full": false}`) and `orders.status`
/// (`{"mapping": "SALESORDER-ORDER", "full": false}`).
///
/// Each pushes what it computes on the mapping's ERP endpoint for its coupled records to its CRM
/// endpoint, writing only what differs; a delta looks only at records changed since the last run,
/// `full` (and the first run) at all. All are idempotent.
public enum SalesIntegrationJobs {
    /// The arguments of both jobs.
    public struct Arguments: Codable, Sendable {
        /// The mapping whose couplings say which records are pushed.
        public var mapping: String
        /// Every coupled record rather than those changed since the last run.
        public var full: Bool?

        /// Arguments for `mapping`.
        public init(mapping: String, full: Bool? = nil) {
            self.mapping = mapping
            self.full = full
        }
    }

    /// ERP records per batch.
    public static let batchSize = 1000

    /// Registers the three kinds, reading endpoints' connection strings from `endpoints`.
    public static func register(in registry: inout JobRegistry, endpoints: EndpointDirectory = EndpointDirectory()) {
        registry.register(CoupledRefreshHandler(refresh: CustomerStatisticsRefresh(), endpoints: endpoints))
        registry.register(CoupledRefreshHandler(refresh: ItemAvailabilityRefresh(), endpoints: endpoints))
        registry.register(CoupledRefreshHandler(refresh: OrderStatusRefresh(), endpoints: endpoints))
    }

    /// Runs `statistics.customers`: coupled customers' statistics into the CRM's `account_statistics`.
    public static func pushCustomerStatistics(
        _ arguments: Arguments, coordination: PostgresConnection, endpoints: EndpointDirectory, batchSize: Int = batchSize
    ) async throws -> IntegrationCounts {
        try await IntegrationPass(CustomerStatisticsRefresh(), arguments, endpoints: endpoints, coordination: coordination, batchSize: batchSize)
            .run()
    }

    /// Runs `availability.items`: coupled items' availability into the CRM's `product.quantityonhand` and `couplet.item_availability`.
    public static func pushItemAvailability(
        _ arguments: Arguments, coordination: PostgresConnection, endpoints: EndpointDirectory, batchSize: Int = batchSize
    ) async throws -> IntegrationCounts {
        try await IntegrationPass(ItemAvailabilityRefresh(), arguments, endpoints: endpoints, coordination: coordination, batchSize: batchSize)
            .run()
    }

    /// Runs `orders.status`: coupled sales orders' status posted on their CRM orders, those invoiced in full marked invoiced.
    public static func postOrderStatus(
        _ arguments: Arguments, coordination: PostgresConnection, endpoints: EndpointDirectory, batchSize: Int = batchSize
    ) async throws -> IntegrationCounts {
        try await IntegrationPass(OrderStatusRefresh(), arguments, endpoints: endpoints, coordination: coordination, batchSize: batchSize)
            .run()
    }
}

/// Runs one refresh as a job, with a coordination connection from the worker's pool, and logs its
/// counts. A run that wrote nothing and found no counterpart missing reports itself idle; the probe
/// asks whether anything was coupled or changed since the last run.
struct CoupledRefreshHandler<Refresh: CoupledRefresh>: WorkProbingJobHandler {
    /// The refresh's job kind.
    static var kind: String { Refresh.jobKind }
    /// What the job computes and writes.
    let refresh: Refresh
    /// Where the mappings' endpoints are.
    let endpoints: EndpointDirectory

    /// A failed run is tried again after 30 s (Business Central's rerun delay).
    var retryPolicy: RetryPolicy { RetryPolicy(backoff: .fixed(.seconds(30))) }

    /// Runs one attempt and logs what it did.
    func run(_ arguments: SalesIntegrationJobs.Arguments, context: JobContext) async throws {
        let counts = try await context.database.withConnection { db in
            try await IntegrationPass(refresh, arguments, endpoints: endpoints, coordination: db, batchSize: SalesIntegrationJobs.batchSize).run()
        }
        if counts.refreshed + counts.counterpartMissing == 0 { context.reportIdle() }
        context.logger.info(
            "\(Self.kind) finished",
            metadata: [
                "mapping": "\(arguments.mapping)", "refreshed": "\(counts.refreshed)", "unchanged": "\(counts.unchanged)",
                "uncoupled": "\(counts.uncoupled)", "counterpart_missing": "\(counts.counterpartMissing)",
            ])
    }

    func hasWork(_ arguments: SalesIntegrationJobs.Arguments, context: ProbeContext) async throws -> Bool {
        try await context.database.withConnection { db in
            try await IntegrationPass(refresh, arguments, endpoints: endpoints, coordination: db, batchSize: SalesIntegrationJobs.batchSize)
                .hasWork()
        }
    }
}
