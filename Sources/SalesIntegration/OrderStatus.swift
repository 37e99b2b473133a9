import Foundation
import Postgres

/// Where a sales order stands in the ERP, as Business Central's "CRM Order Status Update Job" reports it.
struct OrderStatus: Sendable {
    /// The order's number.
    var orderNo: String
    /// Whether it is released.
    var released: Bool
    /// Whether any of its lines has shipped (quantity beyond the outstanding quantity).
    var shipped: Bool
    /// Whether a posted invoice names it.
    var invoiced: Bool
    /// Whether it is invoiced in full: invoiced, nothing outstanding and nothing shipped but not invoiced.
    var complete: Bool

    /// The status of these orders, computed on the ERP in one query (orders that do not exist are left out).
    static func compute(for orders: [String], on erp: PostgresConnection) async throws -> [OrderStatus] {
        try await erp.query(
            """
            WITH figures AS (
                SELECT h.no, h.status = 'released' AS released,
                       EXISTS (SELECT FROM sales_line l WHERE l.document_type = 'order' AND l.document_no = h.no
                               AND l.quantity > l.outstanding_quantity) AS shipped,
                       EXISTS (SELECT FROM sales_invoice_header i WHERE i.order_no = h.no) AS invoiced,
                       NOT EXISTS (SELECT FROM sales_line l WHERE l.document_type = 'order' AND l.document_no = h.no
                                   AND (l.outstanding_quantity <> 0 OR l.qty_shipped_not_invoiced <> 0)) AS settled
                FROM sales_header h WHERE h.document_type = 'order' AND h.no = ANY(\(orders)::text[])
            )
            SELECT no, released, shipped, invoiced, invoiced AND settled FROM figures ORDER BY no
            """, name: "order status"
        ).map { row in
            let (no, released, shipped, invoiced, complete) = try row.decode((String, Bool, Bool, Bool, Bool).self)
            return OrderStatus(orderNo: no, released: released, shipped: shipped, invoiced: invoiced, complete: complete)
        }
    }
}

/// `orders.status`: Business Central's Sales Order Status job. For each coupled sales order it posts
/// on the CRM order's wall (table `post`) what happened to the order in the ERP — released, a
/// shipment, an invoice — once each, in Business Central's words, and marks an order invoiced in
/// full as invoiced in the CRM (state 4, status 100003), as Business Central does when it posts one.
struct OrderStatusRefresh: CoupledRefresh {
    static let jobKind = "orders.status"

    /// Business Central's texts (codeunit "CRM Order Status Update Job").
    static let releasedText = "The order status has changed to Released."
    static let shippedText = "A shipment has been created for the order."
    static let invoicedText = "An invoice has been created for the order."

    func candidates(since: Date?) -> PostgresQuery {
        since.map { since in
            """
            SELECT no FROM sales_header WHERE document_type = 'order' AND modified_at > \(since)
            UNION SELECT document_no FROM sales_line WHERE document_type = 'order' AND modified_at > \(since)
            UNION SELECT order_no FROM sales_invoice_header WHERE order_no IS NOT NULL AND modified_at > \(since)
            """
        } ?? "SELECT no FROM sales_header WHERE document_type = 'order'"
    }

    func refresh(_ coupled: [CoupledRecord], endpoints: RefreshEndpoints) async throws -> BatchWrite {
        let salesOrders = Dictionary(uniqueKeysWithValues: coupled.map { ($0.localID, $0.integrationID) })
        let statuses = try await OrderStatus.compute(for: coupled.map(\.localID), on: endpoints.erp)
        let (written, missing) = try await endpoints.crm.query(
            """
            WITH input AS (
                SELECT * FROM unnest(\(statuses.compactMap { salesOrders[$0.orderNo] })::uuid[], \(statuses.map(\.released))::boolean[],
                                     \(statuses.map(\.shipped))::boolean[], \(statuses.map(\.invoiced))::boolean[],
                                     \(statuses.map(\.complete))::boolean[]) AS s(salesorderid, released, shipped, invoiced, complete)
                WHERE EXISTS (SELECT FROM salesorder o WHERE o.salesorderid = s.salesorderid)
            ), due AS (
                SELECT input.salesorderid, m.text FROM input
                CROSS JOIN LATERAL (VALUES (input.released, \(Self.releasedText)::text), (input.shipped, \(Self.shippedText)::text),
                                           (input.invoiced, \(Self.invoicedText)::text)) AS m(reached, text)
                WHERE m.reached AND NOT EXISTS (SELECT FROM post p WHERE p.regardingobjectid = input.salesorderid AND p.text = m.text)
            ), posted AS (
                INSERT INTO post (regardingobjectid, regardingobjecttypecode, text)
                SELECT salesorderid, 'salesorder', text FROM due RETURNING regardingobjectid
            ), invoiced AS (
                UPDATE salesorder o SET statecode = 4, statuscode = 100003 FROM input
                WHERE o.salesorderid = input.salesorderid AND input.complete AND (o.statecode, o.statuscode) IS DISTINCT FROM (4, 100003)
                RETURNING o.salesorderid
            )
            SELECT (SELECT count(*) FROM (SELECT regardingobjectid FROM posted UNION SELECT salesorderid FROM invoiced) AS w),
                   \(statuses.count) - (SELECT count(*) FROM input)
            """, name: "post order status"
        ).single().decode((Int, Int).self)
        return BatchWrite(computed: statuses.count, written: written, missing: missing)
    }
}
