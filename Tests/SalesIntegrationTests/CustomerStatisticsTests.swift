import Foundation
import Postgres
import PostgresTestSupport
import Queue
import SalesIntegration
import Sync
import Testing

/// Customer C1's ledgers: an overdue invoice, a payment, a closed pair, an order with shipped-not-invoiced lines, an
/// unposted invoice, a quote (not counted) and two posted invoices. C2 has one open invoice; C3 is not coupled.
private let ledgers = """
    INSERT INTO customer (no, name, credit_limit) VALUES ('C1', 'One', 5000), ('C2', 'Two', 1000), ('C3', 'Three', 0);
    INSERT INTO cust_ledger_entry (customer_no, posting_date, due_date, document_type, document_no, amount, remaining_amount, open) VALUES
        ('C1', current_date - 40, current_date - 10, 'invoice', 'PSI1', 1000, 1000, true),
        ('C1', current_date - 2, current_date + 20, 'invoice', 'PSI2', 500, 500, true),
        ('C1', current_date - 5, current_date - 5, 'payment', 'PAY1', -300, -300, true),
        ('C1', current_date - 90, current_date - 60, 'invoice', 'PSI0', 800, 0, false),
        ('C1', current_date - 80, current_date - 80, 'payment', 'PAY0', -800, 0, false),
        ('C2', current_date, current_date + 30, 'invoice', 'PSI3', 250, 250, true),
        ('C3', current_date, current_date + 30, 'invoice', 'PSI4', 40, 40, true);
    INSERT INTO sales_header (document_type, no, sell_to_customer_no) VALUES
        ('order', 'SO1', 'C1'), ('invoice', 'SI1', 'C1'), ('quote', 'SQ1', 'C1');
    INSERT INTO sales_line (document_type, document_no, line_no, type, no, quantity, outstanding_quantity, qty_shipped_not_invoiced,
                            unit_price, outstanding_amount, shipped_not_invoiced_amount) VALUES
        ('order', 'SO1', 10000, 'item', 'I1', 10, 4, 6, 25, 100, 150),
        ('order', 'SO1', 20000, 'item', 'I2', 2, 2, 0, 50, 100, 0),
        ('invoice', 'SI1', 10000, 'item', 'I1', 3, 3, 0, 40, 120, 0),
        ('quote', 'SQ1', 10000, 'item', 'I1', 50, 50, 0, 19.98, 999, 0);
    INSERT INTO sales_invoice_header (no, sell_to_customer_no, posting_date, due_date, amount) VALUES
        ('PSI0', 'C1', current_date - 90, current_date - 60, 800), ('PSI1', 'C1', current_date - 40, current_date - 10, 1500),
        ('PSI3', 'C2', current_date, current_date + 30, 250);
    """

/// C1's and C2's statistics by hand: balance, outstanding orders, shipped not invoiced, outstanding invoices, total,
/// credit limit, overdue amount, total sales.
private let c1 = ["C1", "1200.00", "200.00", "150.00", "120.00", "1670.00", "5000.00", "700.00", "2300.00"]
private let c2 = ["C2", "250.00", "0.00", "0.00", "0.00", "250.00", "1000.00", "0.00", "250.00"]

@Suite("statistics.customers")
struct CustomerStatisticsTests {
    /// The account's statistics row as text, in the order of `c1`.
    private func statistics(_ f: SalesFixture, _ account: String) async throws -> [String]? {
        try await f.crm.query(
            """
            SELECT customer_no, balance::text, outstanding_orders::text, shipped_not_invoiced::text, outstanding_invoices::text,
                   total::text, credit_limit::text, overdue_amount::text, total_sales::text
            FROM account_statistics WHERE accountid = \(account)::uuid
            """
        ).first.map { row in try (0..<9).map { try row.decode(String.self, at: $0) } }
    }

    /// Each account's `modifiedon` in `account_statistics`.
    private func modifiedOn(_ f: SalesFixture) async throws -> [String: Date] {
        Dictionary(uniqueKeysWithValues: try await f.crm.query("SELECT customer_no, modifiedon FROM account_statistics").map {
            try $0.decode((String, Date).self)
        })
    }

    @Test("the first run pushes the hand-computed statistics of coupled customers only; a rerun with no change writes nothing")
    func firstRun() async throws {
        try await SalesFixture.with { f in
            try await f.erp.runScript(ledgers, name: "ledgers")
            let one = try await f.coupleNew("CUSTOMER", "C1", table: "account", key: "accountid")
            let two = try await f.coupleNew("CUSTOMER", "C2", table: "account", key: "accountid")
            #expect(try await f.pushStatistics() == SalesFixture.counts(refreshed: 2, uncoupled: 1))
            #expect(try await statistics(f, one) == c1)
            #expect(try await statistics(f, two) == c2)
            #expect(try await f.crm.query("SELECT count(*) FROM account_statistics").single().decode(Int.self, at: 0) == 2)
            let before = try await modifiedOn(f)
            #expect(try await f.pushStatistics() == SalesFixture.counts(), "nothing changed since the last run")
            #expect(try await f.pushStatistics(full: true) == SalesFixture.counts(unchanged: 2, uncoupled: 1))
            #expect(try await modifiedOn(f) == before, "equal statistics are not written")
        }
    }

    @Test("a second run refreshes only the customer whose ledger changed; a touched customer with equal figures is unchanged")
    func secondRun() async throws {
        try await SalesFixture.with { f in
            try await f.erp.runScript(ledgers, name: "ledgers")
            let one = try await f.coupleNew("CUSTOMER", "C1", table: "account", key: "accountid")
            let two = try await f.coupleNew("CUSTOMER", "C2", table: "account", key: "accountid")
            _ = try await f.pushStatistics()
            let before = try await modifiedOn(f)
            try await f.erp.runScript(
                """
                INSERT INTO cust_ledger_entry (customer_no, posting_date, due_date, document_type, document_no, amount, remaining_amount, open)
                VALUES ('C1', current_date - 1, current_date - 1, 'payment', 'PAY2', -200, -200, true),
                       ('C3', current_date, current_date + 30, 'invoice', 'PSI5', 10, 10, true);
                UPDATE customer SET name = 'Two renamed' WHERE no = 'C2';
                """, name: "changes")
            #expect(try await f.pushStatistics() == SalesFixture.counts(refreshed: 1, unchanged: 1, uncoupled: 1))
            #expect(try await statistics(f, one) == ["C1", "1000.00", "200.00", "150.00", "120.00", "1470.00", "5000.00", "500.00", "2300.00"])
            #expect(try await statistics(f, two) == c2)
            let after = try await modifiedOn(f)
            #expect(after["C2"] == before["C2"])
            #expect(after["C1"]! > before["C1"]!)
        }
    }

    @Test("customers coupled after the last run are pushed by the next, once each, whether or not their ledger changed")
    func newlyCoupled() async throws {
        try await SalesFixture.with { f in
            try await f.erp.runScript(ledgers, name: "ledgers")
            _ = try await f.coupleNew("CUSTOMER", "C1", table: "account", key: "accountid")
            #expect(try await f.pushStatistics() == SalesFixture.counts(refreshed: 1, uncoupled: 2))
            let two = try await f.coupleNew("CUSTOMER", "C2", table: "account", key: "accountid")
            let three = try await f.coupleNew("CUSTOMER", "C3", table: "account", key: "accountid")
            try await f.erp.query(
                """
                INSERT INTO cust_ledger_entry (customer_no, posting_date, due_date, document_type, document_no, amount, remaining_amount, open)
                VALUES ('C3', current_date, current_date + 30, 'invoice', 'PSI5', 10, 10, true)
                """)
            #expect(try await f.pushStatistics() == SalesFixture.counts(refreshed: 2))
            #expect(try await statistics(f, two) == c2)
            #expect(try await statistics(f, three)?[1] == "50.00")
            #expect(try await f.pushStatistics() == SalesFixture.counts())
        }
    }

    @Test("an open entry that fell due since the last run, untouched, refreshes its customer's overdue amount")
    func fellDue() async throws {
        try await SalesFixture.with { f in
            try await f.erp.runScript(ledgers, name: "ledgers")
            let two = try await f.coupleNew("CUSTOMER", "C2", table: "account", key: "accountid")
            _ = try await f.pushStatistics()
            // Two days pass: the last run was then, every ERP row is older, and C2's invoice fell due yesterday.
            try await f.coordination.query("UPDATE couplet.integration_watermarks SET watermark = watermark - interval '2 days'")
            try await f.erp.runScript(
                """
                SET session_replication_role = replica;
                UPDATE customer SET modified_at = modified_at - interval '3 days';
                UPDATE cust_ledger_entry SET modified_at = modified_at - interval '3 days';
                UPDATE sales_header SET modified_at = modified_at - interval '3 days';
                UPDATE sales_line SET modified_at = modified_at - interval '3 days';
                UPDATE sales_invoice_header SET modified_at = modified_at - interval '3 days';
                UPDATE cust_ledger_entry SET due_date = current_date - 1 WHERE document_no = 'PSI3';
                RESET session_replication_role;
                """, name: "time passes")
            #expect(try await f.pushStatistics() == SalesFixture.counts(refreshed: 1))
            #expect(try await statistics(f, two)?[7] == "250.00")
        }
    }

    @Test("a customer coupled to an account that no longer exists is counted, not written, and does not stop the others")
    func missingAccount() async throws {
        try await SalesFixture.with { f in
            try await f.erp.runScript(ledgers, name: "ledgers")
            try await f.sales.couple("CUSTOMER", "C1", UUID().uuidString)
            let two = try await f.coupleNew("CUSTOMER", "C2", table: "account", key: "accountid")
            #expect(try await f.pushStatistics() == SalesFixture.counts(refreshed: 1, uncoupled: 1, missing: 1))
            #expect(try await statistics(f, two) == c2)
        }
    }

    @Test("a ledger entry committed late, by a transaction open across a run, is pushed by the next run")
    func lateCommit() async throws {
        try await SalesFixture.with { f in
            try await f.erp.runScript(ledgers, name: "ledgers")
            let two = try await f.coupleNew("CUSTOMER", "C2", table: "account", key: "accountid")
            _ = try await f.pushStatistics()
            try await f.erp.withTransaction { erp in
                try await erp.query(
                    """
                    INSERT INTO cust_ledger_entry (customer_no, posting_date, due_date, document_type, document_no, amount, remaining_amount, open)
                    VALUES ('C2', current_date, current_date + 30, 'invoice', 'PSI9', 100, 100, true)
                    """)
                #expect(try await f.pushStatistics() == SalesFixture.counts(), "the open transaction's entry is not visible yet")
            }
            #expect(try await f.pushStatistics() == SalesFixture.counts(refreshed: 1))
            #expect(try await statistics(f, two)?[1] == "350.00")
        }
    }
}

@Suite("statistics.customers configuration")
struct StatisticsConfigurationTests {
    @Test("a mapping that does not exist fails the job for good, naming it")
    func unknownMapping() async throws {
        try await SalesFixture.with { f in
            let error = await #expect(throws: JobError.self) {
                try await SalesIntegrationJobs.pushCustomerStatistics(
                    .init(mapping: "NOPE"), coordination: f.coordination, endpoints: EndpointDirectory(environment: f.sales.environment))
            }
            #expect(error?.message.contains("there is no mapping \"NOPE\"") == true)
            #expect(error?.isRetryable == false)
        }
    }
}
