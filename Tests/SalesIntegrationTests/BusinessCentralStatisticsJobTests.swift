import Foundation
import Logging
import Postgres
import PostgresTestSupport
import SalesIntegration
import Sync
import Testing

/// Business Central's `CRMStatisticsJobTest` (codeunit 139179, "CRM Statistics Job Test"), ported to
/// `statistics.customers`: figures computed and refreshed, the account's synchronization state left
/// alone, deleted counterparts, an unreachable CRM. Its invoice-status updates are not Couplet's yet
/// (docs/business-central-scenarios.md).
@Suite("Business Central's CRMStatisticsJobTest")
struct BusinessCentralStatisticsJobTests {
    /// Customer C1 with an open invoice document SI1 whose line has 50.00 outstanding.
    private let openInvoice = """
        INSERT INTO customer (no, name) VALUES ('C1', 'Adatum');
        INSERT INTO sales_header (document_type, no, sell_to_customer_no) VALUES ('invoice', 'SI1', 'C1');
        INSERT INTO sales_line (document_type, document_no, line_no, type, no, quantity, outstanding_quantity, qty_shipped_not_invoiced,
                                unit_price, outstanding_amount, shipped_not_invoiced_amount)
        VALUES ('invoice', 'SI1', 10000, 'item', 'I1', 2, 2, 0, 25, 50, 0);
        """

    private func outstandingInvoices(_ f: SalesFixture, _ account: String) async throws -> String? {
        try await f.crm.query("SELECT outstanding_invoices::text FROM account_statistics WHERE accountid = \(account)::uuid")
            .first?.decode(String.self, at: 0)
    }

    /// CUSTOMER carrying the name both ways, run as a sync of `kind`.
    @discardableResult
    private func syncCustomers(_ f: SalesFixture, _ kind: SyncKind) async throws -> [SyncDirection: SyncCounts] {
        try await SyncEngine(coordination: f.coordination, endpoints: EndpointDirectory(environment: f.sales.environment), logger: Logger(label: "test"))
            .run(mapping: "CUSTOMER", kind: kind)
    }

    /// C1 synced to a new account by a full CUSTOMER sync (name both ways); returns the account's id.
    private func syncedCustomer(_ f: SalesFixture) async throws -> String {
        try await f.coordination.runScript(
            """
            UPDATE couplet.table_mappings SET direction = 'bidirectional', sync_only_coupled = false WHERE name = 'CUSTOMER';
            INSERT INTO couplet.field_mappings (mapping, position, local_field, integration_field, direction)
            VALUES ('CUSTOMER', 1, 'name', 'name', 'bidirectional');
            """, name: "customer names")
        try await syncCustomers(f, .full)
        return try await f.crm.query("SELECT accountid::text FROM account").single().decode(String.self, at: 0)
    }

    @Test("CRMStatisticsJobTest.AccountStatisticsCalculatesFlowFields: the job computes a coupled customer's outstanding invoices and writes them to its account's statistics")
    func computesFigures() async throws {
        try await SalesFixture.with { f in
            try await f.erp.runScript(openInvoice, name: "invoice")
            let account = try await f.coupleNew("CUSTOMER", "C1", table: "account", key: "accountid")
            #expect(try await f.pushStatistics() == SalesFixture.counts(refreshed: 1))
            #expect(try await outstandingInvoices(f, account) == "50.00")
        }
    }

    @Test("CRMStatisticsJobTest.AccountStatisticsUpdatesFlowFields: a changed sales line changes the CRM figure only when the job runs again")
    func refreshesFigures() async throws {
        try await SalesFixture.with { f in
            try await f.erp.runScript(openInvoice, name: "invoice")
            let account = try await f.coupleNew("CUSTOMER", "C1", table: "account", key: "accountid")
            _ = try await f.pushStatistics()
            try await f.erp.query("UPDATE sales_line SET quantity = 3, outstanding_quantity = 3, outstanding_amount = 75")
            #expect(try await outstandingInvoices(f, account) == "50.00", "not before the job runs")
            #expect(try await f.pushStatistics() == SalesFixture.counts(refreshed: 1))
            #expect(try await outstandingInvoices(f, account) == "75.00")
        }
    }

    @Test("CRMStatisticsJobTest.AccountStatisticsCreationDoesNotChangeCRMAccountSynchStatus: writing a synced account's statistics does not make the account look changed to the next sync")
    func statisticsLeaveAccountInStep() async throws {
        try await SalesFixture.with { f in
            try await f.erp.runScript(openInvoice, name: "invoice")
            _ = try await syncedCustomer(f)
            let stamp = try await f.crm.query("SELECT modifiedon::text FROM account").single().decode(String.self, at: 0)
            #expect(try await f.pushStatistics() == SalesFixture.counts(refreshed: 1))
            #expect(try await f.crm.query("SELECT modifiedon::text FROM account").single().decode(String.self, at: 0) == stamp)
            let counts = try await syncCustomers(f, .delta)
            #expect(counts.values.allSatisfy { $0.modified == 0 && $0.failed == 0 }, "\(counts)")
        }
    }

    @Test("CRMStatisticsJobTest.AccountStatisticsCreationDoesNotChangeCRMAccountSynchStatusIfModified: an account changed since its last sync is still carried by the next sync after its statistics were written")
    func statisticsKeepAccountChange() async throws {
        try await SalesFixture.with { f in
            try await f.erp.runScript(openInvoice, name: "invoice")
            _ = try await syncedCustomer(f)
            try await f.crm.query("UPDATE account SET name = 'Adatum from the CRM'")
            _ = try await f.pushStatistics()
            #expect(try await syncCustomers(f, .delta)[.fromIntegration]?.modified == 1)
            #expect(try await f.erp.query("SELECT name FROM customer").single().decode(String.self, at: 0) == "Adatum from the CRM")
        }
    }

    @Test("CRMStatisticsJobTest.AccountStatisticsJobFailsOnDeletedCustomerCRMAccount: a coupled customer deleted and a coupled account deleted are both reported; the job itself succeeds")
    func deletedCounterparts() async throws {
        try await SalesFixture.with { f in
            try await f.erp.runScript("INSERT INTO customer (no, name) VALUES ('C1', 'Deleted later'), ('C2', 'Kept')", name: "customers")
            _ = try await f.coupleNew("CUSTOMER", "C1", table: "account", key: "accountid")
            let kept = try await f.coupleNew("CUSTOMER", "C2", table: "account", key: "accountid")
            try await f.erp.query("DELETE FROM customer WHERE no = 'C1'")
            try await f.crm.query("DELETE FROM account WHERE accountid = \(kept)::uuid")
            let counts = try await f.pushStatistics(full: true)
            #expect(counts.refreshed == 0, "\(counts)")
            withKnownIssue("differs: a coupled customer deleted in the ERP is not read, so not reported; only the missing account is counted (counterpart missing)") {
                #expect(counts.counterpartMissing == 2, "\(counts)")
            }
        }
    }

    @Test("CRMStatisticsJobTest.CouplingGetsSkippedIfCRMAccountRemoved: a customer whose account was deleted has its coupling skipped, with an error saying the account was not found")
    func missingAccountSkipsCoupling() async throws {
        try await SalesFixture.with { f in
            try await f.erp.runScript("INSERT INTO customer (no, name) VALUES ('C1', 'Adatum')", name: "customer")
            let account = try await f.coupleNew("CUSTOMER", "C1", table: "account", key: "accountid")
            try await f.crm.query("DELETE FROM account WHERE accountid = \(account)::uuid")
            #expect(try await f.pushStatistics() == SalesFixture.counts(missing: 1))
            let skipped = try await f.coordination.query("SELECT skipped FROM couplet.couplings WHERE local_id = 'C1'").single().decode(Bool.self, at: 0)
            withKnownIssue("differs: the statistics job counts the missing account and leaves the coupling to CUSTOMER's deletion-conflict policy") {
                #expect(skipped)
            }
        }
    }

    @Test("CRMStatisticsJobTest.JobQueueFailsIfCRMConnectionDisabled: the job fails when it cannot reach the CRM")
    func unreachableCRMFails() async throws {
        try await SalesFixture.with { f in
            try await f.erp.runScript(openInvoice, name: "invoice")
            _ = try await f.coupleNew("CUSTOMER", "C1", table: "account", key: "accountid")
            var environment = f.sales.environment
            environment["COUPLET_ENDPOINT_CRM_URL"] = "postgres://postgres@127.0.0.1:1/none?connect_timeout=2"
            await #expect(throws: (any Error).self) {
                try await SalesIntegrationJobs.pushCustomerStatistics(
                    .init(mapping: "CUSTOMER", full: false), coordination: f.coordination,
                    endpoints: EndpointDirectory(environment: environment), batchSize: 2)
            }
        }
    }
}
