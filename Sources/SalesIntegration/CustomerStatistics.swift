import Foundation
import Postgres

/// A customer's statistics as Business Central shows them, in local currency (decimal text).
public struct CustomerStatistics: Sendable, Equatable {
    /// The customer's number.
    public var customerNo: String
    /// The remaining amount of its open ledger entries.
    public var balance: String
    /// The outstanding amount of its sales order lines.
    public var outstandingOrders: String
    /// The shipped-not-invoiced amount of its sales order lines.
    public var shippedNotInvoiced: String
    /// The outstanding amount of its unposted sales invoice lines.
    public var outstandingInvoices: String
    /// Balance plus outstanding orders, shipped not invoiced and outstanding invoices.
    public var total: String
    /// Its credit limit.
    public var creditLimit: String
    /// The remaining amount of its open ledger entries due before today.
    public var overdueAmount: String
    /// The amount of its posted sales invoices.
    public var totalSales: String

    /// The statistics of these customers, computed on the ERP in one query (customers that do not exist are left out).
    static func compute(for customers: [String], on erp: PostgresConnection) async throws -> [CustomerStatistics] {
        try await erp.query(
            """
            WITH ledger AS (
                SELECT customer_no, sum(remaining_amount) AS balance,
                       sum(remaining_amount) FILTER (WHERE due_date < current_date) AS overdue
                FROM cust_ledger_entry WHERE open AND customer_no = ANY(\(customers)::text[]) GROUP BY customer_no
            ), lines AS (
                SELECT h.sell_to_customer_no AS customer_no,
                       sum(l.outstanding_amount) FILTER (WHERE h.document_type = 'order') AS orders,
                       sum(l.shipped_not_invoiced_amount) FILTER (WHERE h.document_type = 'order') AS shipped,
                       sum(l.outstanding_amount) FILTER (WHERE h.document_type = 'invoice') AS invoices
                FROM sales_header h JOIN sales_line l ON (l.document_type, l.document_no) = (h.document_type, h.no)
                WHERE h.sell_to_customer_no = ANY(\(customers)::text[]) AND h.document_type IN ('order', 'invoice')
                GROUP BY h.sell_to_customer_no
            ), posted AS (
                SELECT sell_to_customer_no AS customer_no, sum(amount) AS sales
                FROM sales_invoice_header WHERE sell_to_customer_no = ANY(\(customers)::text[]) GROUP BY sell_to_customer_no
            ), figures AS (
                SELECT c.no, coalesce(ledger.balance, 0) AS balance, coalesce(lines.orders, 0) AS orders,
                       coalesce(lines.shipped, 0) AS shipped, coalesce(lines.invoices, 0) AS invoices, c.credit_limit,
                       coalesce(ledger.overdue, 0) AS overdue, coalesce(posted.sales, 0) AS sales
                FROM customer c
                LEFT JOIN ledger ON ledger.customer_no = c.no
                LEFT JOIN lines ON lines.customer_no = c.no
                LEFT JOIN posted ON posted.customer_no = c.no
                WHERE c.no = ANY(\(customers)::text[])
            )
            SELECT no, balance::text, orders::text, shipped::text, invoices::text, (balance + orders + shipped + invoices)::text,
                   credit_limit::text, overdue::text, sales::text
            FROM figures ORDER BY no
            """, name: "customer statistics"
        ).map { row in
            let (no, balance, orders, shipped, invoices, total, creditLimit, overdue, sales) =
                try row.decode((String, String, String, String, String, String, String, String, String).self)
            return CustomerStatistics(
                customerNo: no, balance: balance, outstandingOrders: orders, shippedNotInvoiced: shipped,
                outstandingInvoices: invoices, total: total, creditLimit: creditLimit, overdueAmount: overdue, totalSales: sales)
        }
    }
}

/// `statistics.customers`: pushes coupled customers' statistics to the CRM's `account_statistics`.
struct CustomerStatisticsRefresh: CoupledRefresh {
    static let jobKind = "statistics.customers"

    func candidates(since: Date?) -> PostgresQuery {
        since.map { since in
            // A ledger entry that fell due since the last run changes the overdue amount without being touched.
            """
            SELECT no FROM customer WHERE modified_at > \(since)
            UNION SELECT customer_no FROM cust_ledger_entry
                WHERE modified_at > \(since) OR (open AND due_date >= \(since)::date AND due_date < current_date)
            UNION SELECT sell_to_customer_no FROM sales_header WHERE modified_at > \(since)
            UNION SELECT h.sell_to_customer_no FROM sales_line l
                JOIN sales_header h ON (h.document_type, h.no) = (l.document_type, l.document_no) WHERE l.modified_at > \(since)
            UNION SELECT sell_to_customer_no FROM sales_invoice_header WHERE modified_at > \(since)
            """
        } ?? "SELECT no FROM customer"
    }

    func refresh(_ coupled: [CoupledRecord], endpoints: RefreshEndpoints) async throws -> BatchWrite {
        let accounts = Dictionary(uniqueKeysWithValues: coupled.map { ($0.localID, $0.integrationID) })
        let statistics = try await CustomerStatistics.compute(for: coupled.map(\.localID), on: endpoints.erp)
        let (written, missing) = try await endpoints.crm.query(
            """
            WITH input AS (
                SELECT * FROM unnest(\(statistics.map { accounts[$0.customerNo]! })::uuid[], \(statistics.map(\.customerNo))::text[],
                    \(statistics.map(\.balance))::numeric[], \(statistics.map(\.outstandingOrders))::numeric[],
                    \(statistics.map(\.shippedNotInvoiced))::numeric[], \(statistics.map(\.outstandingInvoices))::numeric[],
                    \(statistics.map(\.total))::numeric[], \(statistics.map(\.creditLimit))::numeric[],
                    \(statistics.map(\.overdueAmount))::numeric[], \(statistics.map(\.totalSales))::numeric[])
                    AS s(accountid, customer_no, balance, outstanding_orders, shipped_not_invoiced, outstanding_invoices, total,
                         credit_limit, overdue_amount, total_sales)
            ), written AS (
                INSERT INTO account_statistics AS a (accountid, customer_no, balance, outstanding_orders, shipped_not_invoiced,
                    outstanding_invoices, total, credit_limit, overdue_amount, total_sales)
                SELECT * FROM input WHERE EXISTS (SELECT 1 FROM account WHERE account.accountid = input.accountid)
                ON CONFLICT (accountid) DO UPDATE SET customer_no = EXCLUDED.customer_no, balance = EXCLUDED.balance,
                    outstanding_orders = EXCLUDED.outstanding_orders, shipped_not_invoiced = EXCLUDED.shipped_not_invoiced,
                    outstanding_invoices = EXCLUDED.outstanding_invoices, total = EXCLUDED.total,
                    credit_limit = EXCLUDED.credit_limit, overdue_amount = EXCLUDED.overdue_amount, total_sales = EXCLUDED.total_sales
                WHERE (a.customer_no, a.balance, a.outstanding_orders, a.shipped_not_invoiced, a.outstanding_invoices, a.total,
                       a.credit_limit, a.overdue_amount, a.total_sales)
                      IS DISTINCT FROM
                      (EXCLUDED.customer_no, EXCLUDED.balance, EXCLUDED.outstanding_orders, EXCLUDED.shipped_not_invoiced,
                       EXCLUDED.outstanding_invoices, EXCLUDED.total, EXCLUDED.credit_limit, EXCLUDED.overdue_amount,
                       EXCLUDED.total_sales)
                RETURNING 1
            )
            SELECT (SELECT count(*) FROM written),
                   (SELECT count(*) FROM input WHERE NOT EXISTS (SELECT 1 FROM account WHERE account.accountid = input.accountid))
            """, name: "upsert account statistics"
        ).single().decode((Int, Int).self)
        return BatchWrite(computed: statistics.count, written: written, missing: missing)
    }
}
