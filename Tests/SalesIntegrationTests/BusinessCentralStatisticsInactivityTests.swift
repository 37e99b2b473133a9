import Foundation
import Logging
import Postgres
import PostgresTestSupport
import SalesIntegration
import Sync
import Testing

@testable import Queue

/// Business Central's `CRMJobQueueEntryInactivity` scenarios of the statistics job (codeunit 139189):
/// a run that updated no statistics says it found nothing to do, which holds its schedule
/// (`inactivity_timeout`), and a new ledger entry is work its probe finds, which wakes it.
@Suite("Business Central's CRMJobQueueEntryInactivity: the statistics job")
struct BusinessCentralStatisticsInactivityTests {
    /// Customer C1, coupled to a new account, with an open invoice of 50.00.
    private func coupledCustomerWithInvoice(_ f: SalesFixture) async throws {
        try await f.erp.runScript(
            """
            INSERT INTO customer (no, name) VALUES ('C1', 'Adatum');
            INSERT INTO sales_header (document_type, no, sell_to_customer_no) VALUES ('invoice', 'SI1', 'C1');
            INSERT INTO sales_line (document_type, document_no, line_no, type, no, quantity, outstanding_quantity, qty_shipped_not_invoiced,
                                    unit_price, outstanding_amount, shipped_not_invoiced_amount)
            VALUES ('invoice', 'SI1', 10000, 'item', 'I1', 2, 2, 0, 25, 50, 0);
            """, name: "invoice")
        _ = try await f.coupleNew("CUSTOMER", "C1", table: "account", key: "accountid")
    }

    @Test("CRMJobQueueEntryInactivity.T122_ActiveCRMStatsJobBecomesInactiveIfNoChangesToStats: a statistics run that updated nothing reports itself idle")
    func idleStatisticsRun() async throws {
        try await SalesFixture.with { f in
            try await coupledCustomerWithInvoice(f)
            let jobs = try StatisticsJobs(f)
            defer { jobs.pool.close() }
            #expect(try await jobs.run().isIdle == false, "the first run writes the account's statistics")
            #expect(try await jobs.run().isIdle, "nothing changed since: no statistics updated")
        }
    }

    @Test("CRMJobQueueEntryInactivity.T121_InactiveCRMStatsJobBecomesActiveOnCompanyOpen: new customer ledger entries are work the statistics job's probe finds")
    func newLedgerEntryIsWork() async throws {
        try await SalesFixture.with { f in
            try await coupledCustomerWithInvoice(f)
            let jobs = try StatisticsJobs(f)
            defer { jobs.pool.close() }
            #expect(try await jobs.hasWork() == true, "before the first run")
            _ = try await jobs.run()
            #expect(try await jobs.hasWork() == false)
            try await f.erp.query(
                """
                INSERT INTO cust_ledger_entry (customer_no, posting_date, due_date, document_type, document_no, amount, remaining_amount, open)
                VALUES ('C1', current_date, current_date + 30, 'invoice', 'PSI1', 50, 50, true)
                """)
            #expect(try await jobs.hasWork() == true, "a new ledger entry")
            #expect(try await jobs.run().isIdle == false)
            #expect(try await jobs.hasWork() == false)
        }
    }
}

/// `statistics.customers` for CUSTOMER as a worker runs and probes it.
private struct StatisticsJobs {
    let registry: JobRegistry
    let pool: PostgresConnectionPool
    let arguments = #"{"mapping": "CUSTOMER"}"#

    init(_ f: SalesFixture) throws {
        var registry = JobRegistry()
        SalesIntegrationJobs.register(in: &registry, endpoints: EndpointDirectory(environment: f.sales.environment))
        self.registry = registry
        let database = try #require(try PostgresConfiguration.fromEnvironment("COUPLET_DATABASE_URL", in: f.sales.environment))
        pool = PostgresConnectionPool(database, maximumConnections: 2)
    }

    /// Runs one attempt as a worker does; its outcome.
    func run() async throws -> JobOutcome {
        let job = ClaimedJob(
            id: 1, kind: "statistics.customers", queue: "sync", arguments: arguments, attempt: 1, maxAttempts: 2, timeout: nil,
            createdAt: Date(), concurrencyKey: nil)
        let context = JobContext(job: job, workerID: UUID(), logger: Logger(label: "test"), database: pool)
        let outcome = await JobExecution(job: job, registry: registry, stopRequest: WakeUp()).run(context: context)
        #expect(outcome.state == .completed, "\(String(describing: outcome.error))")
        return outcome
    }

    /// What the job's probe says.
    func hasWork() async throws -> Bool? {
        try await registry.hasWork(
            kind: "statistics.customers", arguments: arguments, context: ProbeContext(logger: Logger(label: "test"), database: pool))
    }
}
