import Foundation
import Postgres

/// An item's availability: inventory (item ledger) minus reserved (outstanding quantity on sales orders), as decimal text.
public struct ItemAvailability: Sendable, Equatable {
    /// The item's number.
    public var itemNo: String
    /// The sum of its item ledger entries' quantities.
    public var inventory: String
    /// The outstanding quantity of its sales order lines.
    public var reserved: String
    /// Inventory minus reserved.
    public var available: String
    /// When these figures were computed.
    public var computedAt: Date

    /// The availability of these items, computed now on the ERP in one query (items that do not exist are left out).
    public static func compute(for items: [String], on erp: PostgresConnection) async throws -> [ItemAvailability] {
        try await decode(
            erp.query(
                """
                WITH inventory AS (
                    SELECT item_no, sum(quantity) AS quantity FROM item_ledger_entry
                    WHERE item_no = ANY(\(items)::text[]) GROUP BY item_no
                ), reserved AS (
                    SELECT no AS item_no, sum(outstanding_quantity) AS quantity FROM sales_line
                    WHERE type = 'item' AND document_type = 'order' AND no = ANY(\(items)::text[]) GROUP BY no
                ), figures AS (
                    SELECT i.no, coalesce(inventory.quantity, 0) AS inventory, coalesce(reserved.quantity, 0) AS reserved
                    FROM item i
                    LEFT JOIN inventory ON inventory.item_no = i.no
                    LEFT JOIN reserved ON reserved.item_no = i.no
                    WHERE i.no = ANY(\(items)::text[])
                )
                SELECT no, trim_scale(inventory)::text, trim_scale(reserved)::text, trim_scale(inventory - reserved)::text, now()
                FROM figures ORDER BY no
                """, name: "item availability"))
    }

    /// The figures the `availability.items` job last recorded for `item`, through `couplet.item_availability(item_no)`
    /// (the one function the product availability user may call); nil when it has none.
    public static func recorded(for item: String, on coordination: PostgresConnection) async throws -> ItemAvailability? {
        try await decode(
            coordination.query(
                """
                SELECT item_no, trim_scale(inventory)::text, trim_scale(reserved)::text, trim_scale(available)::text, computed_at
                FROM couplet.item_availability(\(item))
                """, name: "recorded item availability")
        ).first
    }

    /// Rows of (item, inventory, reserved, available, computed at).
    private static func decode(_ rows: PostgresRows) throws -> [ItemAvailability] {
        try rows.map { row in
            let (item, inventory, reserved, available, computedAt) = try row.decode((String, String, String, String, Date).self)
            return ItemAvailability(itemNo: item, inventory: inventory, reserved: reserved, available: available, computedAt: computedAt)
        }
    }
}

/// `availability.items`: pushes coupled items' availability to the CRM's `product.quantityonhand` and records it in
/// `couplet.item_availability`.
struct ItemAvailabilityRefresh: CoupledRefresh {
    static let jobKind = "availability.items"

    func candidates(since: Date?) -> PostgresQuery {
        since.map { since in
            """
            SELECT item_no AS no FROM item_ledger_entry WHERE modified_at > \(since)
            UNION SELECT no FROM sales_line WHERE type = 'item' AND document_type = 'order' AND modified_at > \(since)
            """
        } ?? "SELECT no FROM item"
    }

    func refresh(_ coupled: [CoupledRecord], endpoints: RefreshEndpoints) async throws -> BatchWrite {
        let products = Dictionary(uniqueKeysWithValues: coupled.map { ($0.localID, $0.integrationID) })
        let figures = try await ItemAvailability.compute(for: coupled.map(\.localID), on: endpoints.erp)
        let productIDs = figures.map { products[$0.itemNo]! }
        let (written, missing) = try await endpoints.crm.query(
            """
            WITH input AS (
                SELECT * FROM unnest(\(productIDs)::uuid[], \(figures.map(\.available))::numeric[]) AS s(productid, available)
            ), written AS (
                UPDATE product SET quantityonhand = input.available FROM input
                WHERE product.productid = input.productid AND product.quantityonhand IS DISTINCT FROM input.available
                RETURNING 1
            )
            SELECT (SELECT count(*) FROM written),
                   (SELECT count(*) FROM input WHERE NOT EXISTS (SELECT 1 FROM product WHERE product.productid = input.productid))
            """, name: "update product quantity on hand"
        ).single().decode((Int, Int).self)
        try await endpoints.coordination.query(
            """
            INSERT INTO couplet.item_availability (item_no, product_id, inventory, reserved, available)
            SELECT * FROM unnest(\(figures.map(\.itemNo))::text[], \(productIDs)::text[], \(figures.map(\.inventory))::numeric[],
                                 \(figures.map(\.reserved))::numeric[], \(figures.map(\.available))::numeric[])
            ON CONFLICT (item_no) DO UPDATE SET product_id = EXCLUDED.product_id, inventory = EXCLUDED.inventory,
                reserved = EXCLUDED.reserved, available = EXCLUDED.available, computed_at = EXCLUDED.computed_at
            """, name: "record item availability")
        return BatchWrite(computed: figures.count, written: written, missing: missing)
    }
}
