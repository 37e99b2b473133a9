import Foundation
import Postgres
import PostgresTestSupport
import SalesIntegration
import Sync

/// The sales databases, with the jobs run directly (no worker) against them.
struct SalesFixture {
    let sales: SalesEndpoints

    var coordination: PostgresConnection { sales.coordination }
    var erp: PostgresConnection { sales.endpoints.erp }
    var crm: PostgresConnection { sales.endpoints.crm }

    /// Runs `body` with fresh coordination, ERP and CRM databases.
    static func with(_ body: (SalesFixture) async throws -> Void) async throws {
        try await SalesEndpoints.with { try await body(SalesFixture(sales: $0)) }
    }

    /// Runs `statistics.customers` for CUSTOMER, in batches of two so that batching is exercised.
    func pushStatistics(full: Bool = false) async throws -> IntegrationCounts {
        try await SalesIntegrationJobs.pushCustomerStatistics(
            .init(mapping: "CUSTOMER", full: full), coordination: coordination,
            endpoints: EndpointDirectory(environment: sales.environment), batchSize: 2)
    }

    /// Runs `availability.items` for ITEM-PRODUCT, in batches of two.
    func pushAvailability(full: Bool = false) async throws -> IntegrationCounts {
        try await SalesIntegrationJobs.pushItemAvailability(
            .init(mapping: "ITEM-PRODUCT", full: full), coordination: coordination,
            endpoints: EndpointDirectory(environment: sales.environment), batchSize: 2)
    }

    /// Creates a CRM record in `table` keyed by `column` and couples ERP record `local` to it in `mapping`.
    func coupleNew(_ mapping: String, _ local: String, table: String, key: String) async throws -> String {
        let id = UUID().uuidString.lowercased()
        let table = try PostgresIdentifier(table)
        let key = try PostgresIdentifier(key)
        try await crm.query("INSERT INTO \(table) (\(key), name) VALUES (\(id)::uuid, \(local))")
        try await sales.couple(mapping, local, id)
        return id
    }

    /// The counts of a run, for comparing with the expected ones.
    static func counts(refreshed: Int = 0, unchanged: Int = 0, uncoupled: Int = 0, missing: Int = 0) -> IntegrationCounts {
        var counts = IntegrationCounts()
        counts.refreshed = refreshed
        counts.unchanged = unchanged
        counts.uncoupled = uncoupled
        counts.counterpartMissing = missing
        return counts
    }
}
