import Foundation
import Postgres
import PostgresTestSupport
import SalesIntegration
import Testing

/// I1: 100 purchased, 30 sold, 5 written off (inventory 65), 4 outstanding on a sales order (a quote's and an unposted
/// invoice's lines do not reserve): 61 available. I2: 10 purchased, nothing reserved. I3 is not coupled.
private let ledgers = """
    INSERT INTO customer (no, name) VALUES ('C1', 'One');
    INSERT INTO item (no, description) VALUES ('I1', 'Bicycle'), ('I2', 'Lamp'), ('I3', 'Bell');
    INSERT INTO item_ledger_entry (item_no, posting_date, entry_type, quantity) VALUES
        ('I1', current_date - 9, 'purchase', 100), ('I1', current_date - 5, 'sale', -30), ('I1', current_date - 1, 'negative_adjmt', -5),
        ('I2', current_date - 3, 'purchase', 10), ('I3', current_date - 3, 'purchase', 7);
    INSERT INTO sales_header (document_type, no, sell_to_customer_no) VALUES
        ('order', 'SO1', 'C1'), ('quote', 'SQ1', 'C1'), ('invoice', 'SI1', 'C1');
    INSERT INTO sales_line (document_type, document_no, line_no, type, no, quantity, outstanding_quantity, qty_shipped_not_invoiced,
                            unit_price, outstanding_amount, shipped_not_invoiced_amount) VALUES
        ('order', 'SO1', 10000, 'item', 'I1', 6, 4, 2, 10, 40, 20),
        ('order', 'SO1', 20000, 'resource', 'I2', 1, 1, 0, 10, 10, 0),
        ('quote', 'SQ1', 10000, 'item', 'I1', 50, 50, 0, 10, 500, 0),
        ('invoice', 'SI1', 10000, 'item', 'I1', 3, 3, 0, 10, 30, 0);
    """

@Suite("availability.items")
struct ItemAvailabilityTests {
    /// Each product's quantity on hand (as text) and modified-on, by product number.
    private func products(_ f: SalesFixture) async throws -> [String: (String?, Date)] {
        Dictionary(uniqueKeysWithValues: try await f.crm.query(
            "SELECT name, trim_scale(quantityonhand)::text, modifiedon FROM product"
        ).map { row in
            let (name, quantity, modified) = try row.decode((String, String?, Date).self)
            return (name, (quantity, modified))
        })
    }

    /// The recorded figures of `item`: inventory, reserved, available.
    private func recorded(_ f: SalesFixture, _ item: String) async throws -> [String]? {
        try await ItemAvailability.recorded(for: item, on: f.coordination).map { [$0.inventory, $0.reserved, $0.available] }
    }

    @Test("availability is inventory minus reserved, pushed to coupled products and recorded; only changed items are written")
    func availability() async throws {
        try await SalesFixture.with { f in
            try await f.erp.runScript(ledgers, name: "ledgers")
            _ = try await f.coupleNew("ITEM-PRODUCT", "I1", table: "product", key: "productid")
            _ = try await f.coupleNew("ITEM-PRODUCT", "I2", table: "product", key: "productid")
            #expect(try await f.pushAvailability() == SalesFixture.counts(refreshed: 2, uncoupled: 1))
            let before = try await products(f)
            #expect(before["I1"]?.0 == "61" && before["I2"]?.0 == "10")
            #expect(try await recorded(f, "I1") == ["65", "4", "61"])
            #expect(try await recorded(f, "I2") == ["10", "0", "10"])
            #expect(try await recorded(f, "I3") == nil, "an uncoupled item is not recorded")

            try await f.erp.query(
                "INSERT INTO item_ledger_entry (item_no, posting_date, entry_type, quantity) VALUES ('I1', current_date, 'sale', -1)")
            #expect(try await f.pushAvailability() == SalesFixture.counts(refreshed: 1))
            let after = try await products(f)
            #expect(after["I1"]?.0 == "60")
            #expect(after["I2"]?.1 == before["I2"]?.1, "an unchanged item's product is not written")
            #expect(try await recorded(f, "I1") == ["64", "4", "60"])

            try await f.erp.query("UPDATE sales_line SET outstanding_quantity = 0 WHERE document_no = 'SO1' AND line_no = 10000")
            #expect(try await f.pushAvailability() == SalesFixture.counts(refreshed: 1))
            #expect(try await recorded(f, "I1") == ["64", "0", "64"])
            #expect(try await f.pushAvailability(full: true) == SalesFixture.counts(unchanged: 2, uncoupled: 1))
        }
    }

    @Test("a role allowed only to execute couplet.item_availability(item_no) reads an item's figures and nothing else")
    func availabilityFunction() async throws {
        try await SalesFixture.with { f in
            try await f.erp.runScript(ledgers, name: "ledgers")
            _ = try await f.coupleNew("ITEM-PRODUCT", "I1", table: "product", key: "productid")
            _ = try await f.pushAvailability()
            let role = try PostgresIdentifier("availability_\(UUID().uuidString.prefix(8).lowercased())")
            try await f.coordination.query("CREATE ROLE \(role) NOLOGIN")
            try await f.coordination.query("GRANT USAGE ON SCHEMA couplet TO \(role)")
            try await f.coordination.query("GRANT EXECUTE ON FUNCTION couplet.item_availability(text) TO \(role)")
            let (figures, refused) = try await f.coordination.withTransaction { db in
                try await db.query("SET LOCAL ROLE \(role)")
                let figures = try await ItemAvailability.recorded(for: "I1", on: db)
                do {
                    try await db.withTransaction { inner in _ = try await inner.query("SELECT * FROM couplet.item_availability") }
                    return (figures, nil as PostgresError?)
                } catch let error as PostgresError {
                    return (figures, error)
                }
            }
            try await f.coordination.query("DROP OWNED BY \(role)")
            try await f.coordination.query("DROP ROLE \(role)")
            #expect(figures?.available == "61")
            #expect(refused?.sqlState == "42501", "the table itself is not readable")
        }
    }

    @Test("live figures are computed on the ERP for any existing item; an unknown item has none")
    func live() async throws {
        try await SalesFixture.with { f in
            try await f.erp.runScript(ledgers, name: "ledgers")
            let figures = try await ItemAvailability.compute(for: ["I1", "I3", "NOPE"], on: f.erp)
            #expect(figures.map { [$0.itemNo, $0.inventory, $0.reserved, $0.available] } == [["I1", "65", "4", "61"], ["I3", "7", "0", "7"]])
        }
    }
}
