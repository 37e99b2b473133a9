import Foundation
import Postgres
import PostgresTestSupport
import Testing

@Suite("Sales integration jobs and couplet availability, by real processes", .serialized)
struct SalesIntegrationProcessTests {
    /// One coupled customer with an open invoice, one coupled item with stock and an order reserving some.
    private static let data = """
        INSERT INTO customer (no, name, credit_limit) VALUES ('C1', 'One', 900);
        INSERT INTO cust_ledger_entry (customer_no, posting_date, due_date, document_type, document_no, amount, remaining_amount, open)
        VALUES ('C1', current_date, current_date + 30, 'invoice', 'PSI1', 120.50, 120.50, true);
        INSERT INTO item (no, description) VALUES ('I1', 'Bicycle');
        INSERT INTO item_ledger_entry (item_no, posting_date, entry_type, quantity) VALUES ('I1', current_date, 'purchase', 12.5);
        INSERT INTO sales_header (document_type, no, sell_to_customer_no) VALUES ('order', 'SO1', 'C1');
        INSERT INTO sales_line (document_type, document_no, line_no, type, no, quantity, outstanding_quantity, qty_shipped_not_invoiced,
                                unit_price, outstanding_amount, shipped_not_invoiced_amount)
        VALUES ('order', 'SO1', 10000, 'item', 'I1', 3, 3, 0, 10, 30, 0);
        """

    @Test("a worker runs statistics.customers and availability.items; couplet availability prints the figures, live or recorded")
    func jobsAndCommand() async throws {
        try await SalesEndpoints.with { s in
            try await s.endpoints.erp.runScript(Self.data, name: "data")
            try await s.endpoints.crm.runScript(
                """
                INSERT INTO account (accountid, name) VALUES ('00000000-0000-0000-0000-0000000000a1', 'One');
                INSERT INTO product (productid, name) VALUES ('00000000-0000-0000-0000-0000000000b1', 'Bicycle');
                """, name: "crm records")
            try await s.couple("CUSTOMER", "C1", "00000000-0000-0000-0000-0000000000a1")
            try await s.couple("ITEM-PRODUCT", "I1", "00000000-0000-0000-0000-0000000000b1")
            try await s.coordination.runScript(
                """
                SELECT couplet.enqueue('statistics.customers', '{"mapping": "CUSTOMER", "full": false}', queue => 'sync');
                SELECT couplet.enqueue('availability.items', '{"mapping": "ITEM-PRODUCT"}', queue => 'sync');
                """, name: "enqueue")
            let worker = try CoupletProcess.start(["worker", "--queues", "sync"], environment: s.environment)
            #expect(try await eventually(within: .seconds(60)) {
                try await s.coordination.query("SELECT count(*) FROM couplet.jobs WHERE state = 'completed'").single().decode(Int.self, at: 0) == 2
            }, "\(worker.standardError)")
            worker.terminate()
            let exit = try await worker.waitForExit()
            #expect(exit.status == 0)
            #expect(exit.standardError.contains("statistics.customers finished") && exit.standardError.contains("refreshed=1"),
                    "the worker logs each run's counts: \(exit.standardError)")
            #expect(try await s.endpoints.crm.query("SELECT balance::text, total::text, credit_limit::text FROM account_statistics")
                .single().decode((String, String, String).self) == ("120.50", "150.50", "900.00"))
            #expect(try await s.endpoints.crm.query("SELECT trim_scale(quantityonhand)::text FROM product").single().decode(String.self, at: 0) == "9.5")

            let recorded = try await CoupletProcess.run(["availability", "I1"], environment: s.environment)
            #expect(recorded.status == 0, "\(recorded.standardError)")
            for line in ["inventory         12.5", "reserved          3", "available         9.5", "by the availability.items job"] {
                #expect(recorded.standardOutput.contains(line), "\(recorded.standardOutput)")
            }
            try await s.endpoints.erp.query(
                "INSERT INTO item_ledger_entry (item_no, posting_date, entry_type, quantity) VALUES ('I1', current_date, 'sale', -2)")
            let live = try await CoupletProcess.run(["availability", "I1", "--live"], environment: s.environment)
            #expect(live.status == 0, "\(live.standardError)")
            #expect(live.standardOutput.contains("available         7.5") && live.standardOutput.contains("live, from endpoint erp"),
                    "\(live.standardOutput)")

            let unknown = try await CoupletProcess.run(["availability", "NOPE"], environment: s.environment)
            #expect(unknown.status != 0)
            #expect(unknown.standardError.contains("no availability is recorded for item \"NOPE\""), "\(unknown.standardError)")
            let unknownLive = try await CoupletProcess.run(["availability", "NOPE", "--live"], environment: s.environment)
            #expect(unknownLive.status != 0)
            #expect(unknownLive.standardError.contains("there is no item \"NOPE\" on endpoint erp"), "\(unknownLive.standardError)")
        }
    }
}
