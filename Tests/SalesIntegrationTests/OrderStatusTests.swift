import Foundation
import Postgres
import PostgresTestSupport
import SalesIntegration
import Sync
import Testing

/// SO1 released, half of its line shipped; SO2 open; SO3 invoiced in full; SO4 is not coupled.
private let orders = """
    INSERT INTO customer (no, name) VALUES ('C1', 'One');
    INSERT INTO item (no, description) VALUES ('I1', 'Bicycle');
    INSERT INTO sales_header (document_type, no, sell_to_customer_no, status) VALUES
        ('order', 'SO1', 'C1', 'released'), ('order', 'SO2', 'C1', 'open'), ('order', 'SO3', 'C1', 'released'),
        ('order', 'SO4', 'C1', 'released');
    INSERT INTO sales_line (document_type, document_no, line_no, type, no, quantity, outstanding_quantity, qty_shipped_not_invoiced,
                            unit_price, outstanding_amount, shipped_not_invoiced_amount) VALUES
        ('order', 'SO1', 10000, 'item', 'I1', 4, 2, 2, 10, 20, 20),
        ('order', 'SO2', 10000, 'item', 'I1', 1, 1, 0, 10, 10, 0),
        ('order', 'SO3', 10000, 'item', 'I1', 3, 0, 0, 10, 0, 0);
    INSERT INTO sales_invoice_header (no, sell_to_customer_no, order_no, posting_date, due_date, amount) VALUES
        ('PSI1', 'C1', 'SO3', current_date, current_date + 30, 30);
    """

@Suite("orders.status: Business Central's Sales Order Status job")
struct OrderStatusTests {
    private func post(_ f: SalesFixture, full: Bool = false) async throws -> IntegrationCounts {
        try await SalesIntegrationJobs.postOrderStatus(
            .init(mapping: "SALESORDER-ORDER", full: full), coordination: f.coordination,
            endpoints: EndpointDirectory(environment: f.sales.environment), batchSize: 2)
    }

    /// The CRM order's posts, oldest first, and its state and status.
    private func crmOrder(_ f: SalesFixture, _ id: String) async throws -> (posts: [String], state: String) {
        let posts = try await f.crm.query(
            "SELECT text FROM post WHERE regardingobjectid = \(id)::uuid AND regardingobjecttypecode = 'salesorder' ORDER BY createdon, text"
        ).map { try $0.decode(String.self, at: 0) }
        let state = try await f.crm.query("SELECT statecode || '/' || statuscode FROM salesorder WHERE salesorderid = \(id)::uuid")
            .single().decode(String.self, at: 0)
        return (posts, state)
    }

    @Test("each coupled order gets a post per status it reached, once; an order invoiced in full becomes invoiced")
    func postsStatus() async throws {
        try await SalesFixture.with { f in
            try await f.erp.runScript(orders, name: "orders")
            let so1 = try await f.coupleNew("SALESORDER-ORDER", "SO1", table: "salesorder", key: "salesorderid")
            let so2 = try await f.coupleNew("SALESORDER-ORDER", "SO2", table: "salesorder", key: "salesorderid")
            let so3 = try await f.coupleNew("SALESORDER-ORDER", "SO3", table: "salesorder", key: "salesorderid")
            #expect(try await post(f) == SalesFixture.counts(refreshed: 2, unchanged: 1, uncoupled: 1))
            let released = "The order status has changed to Released."
            let shipment = "A shipment has been created for the order.", invoice = "An invoice has been created for the order."
            #expect(try await crmOrder(f, so1) == ([shipment, released].sorted(), "0/1"))
            #expect(try await crmOrder(f, so2) == ([], "0/1"))
            #expect(try await crmOrder(f, so3) == ([shipment, invoice, released].sorted(), "4/100003"))

            // Nothing new: nothing posted again, even by a full run.
            #expect(try await post(f, full: true) == SalesFixture.counts(unchanged: 3, uncoupled: 1))
            // SO2 is released and ships: a delta posts both, once.
            try await f.erp.query("UPDATE sales_header SET status = 'released' WHERE no = 'SO2'")
            try await f.erp.query("UPDATE sales_line SET outstanding_quantity = 0, qty_shipped_not_invoiced = 1 WHERE document_no = 'SO2'")
            #expect(try await post(f) == SalesFixture.counts(refreshed: 1))
            #expect(try await crmOrder(f, so2).posts == [shipment, released].sorted())
            #expect(try await post(f) == SalesFixture.counts())
        }
    }

    @Test("a coupled order whose CRM order was deleted is counted missing, and nothing is posted for it")
    func missingCounterpart() async throws {
        try await SalesFixture.with { f in
            try await f.erp.runScript(orders, name: "orders")
            let so1 = try await f.coupleNew("SALESORDER-ORDER", "SO1", table: "salesorder", key: "salesorderid")
            try await f.crm.query("DELETE FROM salesorder WHERE salesorderid = \(so1)::uuid")
            #expect(try await post(f) == SalesFixture.counts(uncoupled: 3, missing: 1))
            #expect(try await f.crm.query("SELECT count(*) FROM post").single().decode(Int.self, at: 0) == 0)
        }
    }
}
