import Foundation
import Postgres

/// A few realistic edits on both demo databases, so that delta syncs, customer statistics and item
/// availability have something to carry: customers renamed and moved in the ERP, account phone
/// numbers and websites changed in the CRM, new posted invoices with their ledger entries,
/// payments, stock receipts and a new line on open orders. The same seed picks the same records
/// and values (given the same data).
public struct DemoEditor: Sendable {
    /// What drives every choice.
    public let seed: UInt64
    /// How many records each kind of edit touches.
    public let count: Int
    /// The posting date of new entries.
    public let today: DemoDay

    /// An editor that makes `count` edits of each kind from `seed`, posting on `today`.
    public init(seed: UInt64, count: Int, today: DemoDay) {
        self.seed = seed
        self.count = max(count, 1)
        self.today = today
    }

    /// Makes the edits, each database in one transaction, and returns one line per change.
    public func edit(erp: PostgresConnection, crm: PostgresConnection) async throws -> [String] {
        var edit = EditSession(random: SplitMix64(seed: seed), count: count, today: today)
        let erpChanges = try await erp.withTransaction { connection in try await edit.editERP(on: connection) }
        let crmChanges = try await crm.withTransaction { connection in try await edit.editCRM(on: connection) }
        return erpChanges + crmChanges
    }
}

/// One run of edits: the generator and the lines describing what changed.
private struct EditSession {
    var random: SplitMix64
    let count: Int
    let today: DemoDay
    let people = PeopleGenerator()
    var changes: [String] = []

    /// The ERP's edits; returns one line per change.
    mutating func editERP(on db: PostgresConnection) async throws -> [String] {
        changes = []
        let customers = try await keys("SELECT no FROM customer WHERE blocked = '' ORDER BY no", on: db)
        for no in choose(customers) { try await rename(customer: no, on: db) }
        for no in choose(customers) { try await move(customer: no, on: db) }
        for no in choose(customers) { try await postInvoice(for: no, on: db) }
        let openInvoices = try await keys(
            "SELECT entry_no::text FROM cust_ledger_entry WHERE open AND document_type = 'invoice' ORDER BY entry_no", on: db)
        for entry in choose(openInvoices) { try await pay(entry: entry, on: db) }
        let items = try await keys("SELECT no FROM item WHERE type = 'inventory' ORDER BY no", on: db)
        for no in choose(items) { try await receive(item: no, on: db) }
        let openOrders = try await keys("SELECT no FROM sales_header WHERE document_type = 'order' ORDER BY no", on: db)
        for no in choose(openOrders) { try await addLine(order: no, on: db) }
        return changes
    }

    /// The CRM's edits; returns one line per change.
    mutating func editCRM(on db: PostgresConnection) async throws -> [String] {
        changes = []
        let accounts = try await keys("SELECT accountid::text FROM account WHERE statecode = 0 ORDER BY accountid", on: db)
        for id in choose(accounts) {
            let phone = "+47 \(random.int(20...99)) \(random.int(10...99)) \(random.int(10...99)) \(random.int(10...99))"
            let name = try await db.query(
                "UPDATE account SET telephone1 = \(phone) WHERE accountid = \(id)::uuid RETURNING name", name: "change account phone"
            ).single().decode(String.self, at: 0)
            changes.append("crm: account \"\(name)\" has a new phone number \(phone)")
        }
        for id in choose(accounts) {
            let website = "www.\(PeopleGenerator.slug(people.companyName(&random))).example.com"
            let name = try await db.query(
                "UPDATE account SET websiteurl = \(website) WHERE accountid = \(id)::uuid RETURNING name", name: "change account website"
            ).single().decode(String.self, at: 0)
            changes.append("crm: account \"\(name)\" has a new website \(website)")
        }
        return changes
    }

    // MARK: ERP edits

    /// Gives a customer a new name.
    private mutating func rename(customer no: String, on db: PostgresConnection) async throws {
        let name = people.companyName(&random)
        try await db.query("UPDATE customer SET name = \(name) WHERE no = \(no)", name: "rename customer")
        changes.append("erp: customer \(no) renamed to \"\(name)\"")
    }

    /// Gives a customer a new address.
    private mutating func move(customer no: String, on db: PostgresConnection) async throws {
        let address = people.address(&random)
        try await db.query(
            """
            UPDATE customer SET address = \(address.street), city = \(address.city), post_code = \(address.postCode),
                county = \(address.county), country_region_code = \(address.country) WHERE no = \(no)
            """, name: "move customer")
        changes.append("erp: customer \(no) moved to \(address.street), \(address.postCode) \(address.city)")
    }

    /// A posted invoice of one item line, its open customer ledger entry and the item's sale entry.
    private mutating func postInvoice(for customer: String, on db: PostgresConnection) async throws {
        let items = try await sellableItems(on: db)
        guard !items.isEmpty else { return }
        let item = random.pick(items)
        let quantity = random.int(1...8)
        let invoice = try await db.query(
            """
            WITH number AS (
                SELECT 'PSI' || (coalesce(max(substr(no, 4)::int), 100000) + 1) AS no FROM sales_invoice_header WHERE no ~ '^PSI[0-9]+$'
            ), source AS (
                SELECT c.no AS customer_no, c.name, c.currency_code, c.salesperson_code, c.payment_terms_code,
                       i.no AS item_no, i.description, i.base_unit_of_measure, i.unit_price
                FROM customer c, item i WHERE c.no = \(customer) AND i.no = \(item)
            ), header AS (
                INSERT INTO sales_invoice_header (no, sell_to_customer_no, bill_to_customer_no, sell_to_customer_name, posting_date,
                    document_date, due_date, currency_code, salesperson_code, payment_terms_code, amount, amount_including_vat)
                SELECT number.no, customer_no, customer_no, name, \(today), \(today), \(today.adding(30)), currency_code,
                       salesperson_code, payment_terms_code, unit_price * \(quantity), round(unit_price * \(quantity) * 1.25, 2)
                FROM number, source RETURNING no, amount
            ), line AS (
                INSERT INTO sales_invoice_line (document_no, line_no, type, no, description, unit_of_measure_code, quantity, unit_price, line_amount)
                SELECT header.no, 10000, 'item', item_no, description, base_unit_of_measure, \(quantity), unit_price, header.amount
                FROM header, source
            ), sale AS (
                INSERT INTO item_ledger_entry (item_no, posting_date, entry_type, document_no, quantity, location_code)
                SELECT \(item), \(today), 'sale', header.no, -\(quantity), 'MAIN' FROM header
            )
            INSERT INTO cust_ledger_entry (customer_no, posting_date, due_date, document_type, document_no, description, amount,
                remaining_amount, open)
            SELECT \(customer), \(today), \(today.adding(30)), 'invoice', header.no, 'Invoice ' || header.no, header.amount, header.amount, true
            FROM header RETURNING document_no, amount::text
            """, name: "post invoice"
        ).single().decode((String, String).self)
        changes.append("erp: posted invoice \(invoice.0) to customer \(customer): \(quantity) × item \(item), amount \(invoice.1)")
    }

    /// Pays an open invoice entry in full: a closed payment entry, and the invoice entry closed.
    private mutating func pay(entry: String, on db: PostgresConnection) async throws {
        let payment = try await db.query(
            """
            WITH invoice AS (
                UPDATE cust_ledger_entry SET remaining_amount = 0, open = false WHERE entry_no = \(entry)::bigint
                RETURNING customer_no, document_no, amount
            )
            INSERT INTO cust_ledger_entry (customer_no, posting_date, due_date, document_type, document_no, description, amount,
                remaining_amount, open)
            SELECT customer_no, \(today), \(today), 'payment', 'PAY' || substr(document_no, 4), 'Payment ' || document_no, -amount, 0, false
            FROM invoice RETURNING customer_no, (-amount)::text
            """, name: "pay invoice"
        ).single().decode((String, String).self)
        changes.append("erp: customer \(payment.0) paid \(payment.1) (ledger entry \(entry) closed)")
    }

    /// A purchase receipt: more of the item in stock.
    private mutating func receive(item no: String, on db: PostgresConnection) async throws {
        let quantity = random.int(5...100)
        try await db.query(
            """
            INSERT INTO item_ledger_entry (item_no, posting_date, entry_type, document_no, quantity, location_code)
            VALUES (\(no), \(today), 'purchase', 'RCPT-' || \(no), \(quantity), 'MAIN')
            """, name: "receive item")
        changes.append("erp: received \(quantity) of item \(no)")
    }

    /// A new line on an order: an item, nothing shipped yet; the order's amount grows with it.
    private mutating func addLine(order no: String, on db: PostgresConnection) async throws {
        let items = try await sellableItems(on: db)
        guard !items.isEmpty else { return }
        let item = random.pick(items)
        let quantity = random.int(1...10)
        try await db.query(
            """
            WITH line AS (
                INSERT INTO sales_line (document_type, document_no, line_no, type, no, description, unit_of_measure_code, quantity,
                    outstanding_quantity, qty_shipped_not_invoiced, unit_price, line_amount, outstanding_amount, shipped_not_invoiced_amount)
                SELECT 'order', \(no), (SELECT coalesce(max(line_no), 0) + 10000 FROM sales_line WHERE document_type = 'order' AND document_no = \(no)),
                       'item', i.no, i.description, i.base_unit_of_measure, \(quantity), \(quantity), 0, i.unit_price,
                       i.unit_price * \(quantity), i.unit_price * \(quantity), 0
                FROM item i WHERE i.no = \(item) RETURNING line_amount
            )
            UPDATE sales_header SET amount = amount + (SELECT line_amount FROM line) WHERE document_type = 'order' AND no = \(no)
            """, name: "add order line")
        changes.append("erp: order \(no) has a new line: \(quantity) × item \(item)")
    }

    // MARK: Choosing

    /// The items an invoice or an order line may sell: inventory items that are not blocked.
    private func sellableItems(on db: PostgresConnection) async throws -> [String] {
        try await keys("SELECT no FROM item WHERE type = 'inventory' AND NOT blocked ORDER BY no", on: db)
    }

    /// The first column of `query`'s rows: the keys to choose from.
    private func keys(_ query: PostgresQuery, on db: PostgresConnection) async throws -> [String] {
        try await db.query(query, name: "demo edit candidates").map { try $0.decode(String.self, at: 0) }
    }

    /// Up to `count` distinct keys, chosen by the generator.
    private mutating func choose(_ keys: [String]) -> [String] {
        var pool = keys
        var chosen: [String] = []
        while chosen.count < count, !pool.isEmpty {
            chosen.append(pool.remove(at: random.int(0...(pool.count - 1))))
        }
        return chosen
    }
}
