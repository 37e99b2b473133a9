import Demo
import Foundation
import Postgres
import PostgresTestSupport
import Testing

@Suite("The demo ERP and CRM databases")
struct DemoSeedTests {
    @Test("the same seed makes the same rows in every table, another seed other rows")
    func deterministic() async throws {
        let day = DemoDay(daysSinceEpoch: 20_417)
        let first = try await DemoFixture.with(seed: 7, today: day) { try await $0.checksums() }
        let again = try await DemoFixture.with(seed: 7, today: day) { try await $0.checksums() }
        let other = try await DemoFixture.with(seed: 8, today: day) { try await $0.checksums() }
        #expect(first.count == DemoSchema.erp.tables.count + DemoSchema.crm.tables.count)
        #expect(first == again)
        for table in ["erp.customer", "erp.item", "erp.cust_ledger_entry", "crm.systemuser", "crm.account"] {
            #expect(first[table] != other[table], "\(table) should differ between seeds")
        }
    }

    @Test("the special records: salespeople with and without CRM users, CRM-only, duplicate and team-owned accounts")
    func specialRecords() async throws {
        try await DemoFixture.with { f in
            let rm = try await f.erp.query("SELECT name, email FROM salesperson WHERE code = 'RM'").single().decode((String, String).self)
            #expect(try await f.count(f.crm, "SELECT count(*) FROM systemuser WHERE fullname = \(rm.0) OR internalemailaddress = \(rm.1)") == 0)
            #expect(try await f.count(f.erp, "SELECT count(*) FROM customer WHERE no = 'C10010' AND salesperson_code = 'RM'") == 1)

            let hanna = try await f.erp.query("SELECT name, email FROM salesperson WHERE code = 'HF'").single().decode((String, String).self)
            let hannaUser = try await f.crm.query("SELECT internalemailaddress FROM systemuser WHERE fullname = \(hanna.0)")
                .single().decode(String.self, at: 0)
            #expect(hannaUser != hanna.1)
            #expect(try await f.count(f.erp, "SELECT count(*) FROM salesperson WHERE name = 'Sam Taylor'") == 0)
            #expect(try await f.count(
                f.crm, "SELECT count(*) FROM systemuser WHERE fullname = 'Sam Taylor' AND NOT isdisabled AND islicensed AND NOT isintegrationuser") == 1)
            #expect(try await f.count(
                f.crm, "SELECT count(*) FROM systemuser WHERE isdisabled OR NOT islicensed OR isintegrationuser") == 3)

            let duplicated = try await f.erp.query("SELECT name FROM customer WHERE no = 'C10020'").single().decode(String.self, at: 0)
            #expect(try await f.count(f.crm, "SELECT count(*) FROM account WHERE accountnumber = 'C10020' AND name = \(duplicated)") == 2)
            #expect(try await f.count(
                f.crm, "SELECT count(*) FROM account a JOIN team t ON t.teamid = a.ownerid WHERE a.owneridtype = 'team'") == 1)
            #expect(try await f.count(
                f.crm, "SELECT count(*) FROM account WHERE accountnumber IS NULL AND owneridtype = 'systemuser'") == 3)
        }
    }

    @Test("the fields Business Central maps are filled: primary contacts, persons' inherited fields, item measures, users' mobiles")
    func businessCentralFields() async throws {
        try await DemoFixture.with { f in
            // Every customer's primary contact is a person working there, by number and by name.
            let strayPrimaryContacts = try await f.count(f.erp, """
                SELECT count(*) FROM customer c LEFT JOIN contact p ON p.no = c.primary_contact_no
                WHERE p.type IS DISTINCT FROM 'person' OR p.customer_no <> c.no OR p.name <> c.contact
                """)
            #expect(strayPrimaryContacts == 0)
            // Persons take their company's address, fax, home page and currency; some have a middle name or a pager.
            #expect(try await f.count(f.erp, """
                SELECT count(*) FROM contact p JOIN contact c ON c.no = p.company_no AND c.type = 'company'
                WHERE p.type = 'person' AND (p.address_2, p.county, p.fax_no, p.home_page, p.currency_code)
                    IS DISTINCT FROM (c.address_2, c.county, c.fax_no, c.home_page, c.currency_code)
                """) == 0)
            #expect(try await f.count(f.erp, "SELECT count(*) FROM contact WHERE type = 'person' AND middle_name IS NOT NULL") > 0)
            #expect(try await f.count(f.erp, "SELECT count(*) FROM contact WHERE type = 'person' AND pager IS NOT NULL") > 0)
            #expect(try await f.count(f.erp, "SELECT count(*) FROM customer WHERE fax_no IS NOT NULL") > 0)
            #expect(try await f.count(f.erp, """
                SELECT count(*) FROM item
                WHERE CASE type WHEN 'inventory' THEN unit_volume <= 0 OR gross_weight <= 0 OR vendor_item_no IS NULL
                                ELSE unit_volume <> 0 OR gross_weight <> 0 OR vendor_item_no IS NOT NULL END
                """) == 0)
            #expect(try await f.count(f.crm, "SELECT count(*) FROM systemuser WHERE mobilephone IS NULL OR mobilephone = address1_telephone1") == 0)
            // The accounts salespeople created in the CRM have their contact as primary contact.
            #expect(try await f.count(f.crm, """
                SELECT count(*) FROM account a JOIN contact c ON c.contactid = a.primarycontactid
                WHERE c.parentcustomerid = a.accountid AND c.fullname = a.address1_primarycontactname
                """) == 3)
        }
    }

    @Test("ledgers agree with the documents: invoice entries, open amounts, overdue entries, stock")
    func ledgers() async throws {
        try await DemoFixture.with { f in
            #expect(try await f.count(f.erp, """
                SELECT count(*) FROM sales_invoice_header h
                WHERE h.amount <> (SELECT sum(line_amount) FROM sales_invoice_line l WHERE l.document_no = h.no)
                   OR h.amount <> (SELECT amount FROM cust_ledger_entry e WHERE e.document_no = h.no AND e.document_type = 'invoice')
                """) == 0)
            #expect(try await f.count(f.erp, """
                SELECT count(*) FROM cust_ledger_entry
                WHERE (open AND (remaining_amount <= 0 OR remaining_amount > amount)) OR (NOT open AND remaining_amount <> 0)
                """) == 0)
            #expect(try await f.count(f.erp, "SELECT count(*) FROM cust_ledger_entry WHERE open AND due_date < current_date") > 0)
            #expect(try await f.count(f.erp, "SELECT count(*) FROM cust_ledger_entry WHERE document_type = 'payment'") > 0)
            #expect(try await f.count(f.erp, """
                SELECT count(*) FROM sales_line WHERE outstanding_amount <> outstanding_quantity * unit_price
                    OR shipped_not_invoiced_amount <> qty_shipped_not_invoiced * unit_price OR outstanding_quantity < 0
                """) == 0)
            let stock = try await f.erp.query("""
                SELECT count(*) FILTER (WHERE stock > 0), count(*)
                FROM (SELECT sum(e.quantity) AS stock FROM item i JOIN item_ledger_entry e ON e.item_no = i.no
                      WHERE i.type = 'inventory' GROUP BY i.no) s
                """).single().decode((Int, Int).self)
            #expect(stock.1 > 0 && Double(stock.0) >= 0.8 * Double(stock.1), "\(stock.0) of \(stock.1) items in stock")
        }
    }

    @Test("the agreed columns have the agreed types")
    func agreedColumns() async throws {
        let erp = [
            "customer.no": "text", "customer.name": "text", "customer.credit_limit": "numeric", "customer.salesperson_code": "text",
            "customer.currency_code": "text", "customer.blocked": "text", "customer.modified_at": "timestamp with time zone",
            "item.no": "text", "item.description": "text", "item.base_unit_of_measure": "text", "item.unit_price": "numeric",
            "item.type": "text", "item.blocked": "boolean", "cust_ledger_entry.entry_no": "bigint",
            "cust_ledger_entry.customer_no": "text", "cust_ledger_entry.posting_date": "date", "cust_ledger_entry.due_date": "date",
            "cust_ledger_entry.document_type": "text", "cust_ledger_entry.document_no": "text", "cust_ledger_entry.amount": "numeric",
            "cust_ledger_entry.remaining_amount": "numeric", "cust_ledger_entry.open": "boolean",
            "item_ledger_entry.entry_no": "bigint", "item_ledger_entry.item_no": "text", "item_ledger_entry.posting_date": "date",
            "item_ledger_entry.entry_type": "text", "item_ledger_entry.quantity": "numeric", "sales_header.document_type": "text",
            "sales_header.no": "text", "sales_header.sell_to_customer_no": "text", "sales_header.status": "text",
            "sales_header.order_date": "date", "sales_header.currency_code": "text", "sales_header.salesperson_code": "text",
            "sales_line.document_type": "text", "sales_line.document_no": "text", "sales_line.line_no": "integer",
            "sales_line.type": "text", "sales_line.no": "text", "sales_line.quantity": "numeric",
            "sales_line.outstanding_quantity": "numeric", "sales_line.qty_shipped_not_invoiced": "numeric",
            "sales_line.unit_price": "numeric", "sales_line.outstanding_amount": "numeric",
            "sales_line.shipped_not_invoiced_amount": "numeric", "sales_invoice_header.no": "text",
            "sales_invoice_header.sell_to_customer_no": "text", "sales_invoice_header.posting_date": "date",
            "sales_invoice_header.due_date": "date", "sales_invoice_header.amount": "numeric",
        ]
        let crm = [
            "account.accountid": "uuid", "account.name": "text", "account.accountnumber": "text", "account.creditlimit": "numeric",
            "account.ownerid": "uuid", "account.owneridtype": "text", "account.customertypecode": "integer",
            "account.statecode": "integer", "account.modifiedon": "timestamp with time zone", "product.productid": "uuid",
            "product.productnumber": "text", "product.name": "text", "product.quantityonhand": "numeric",
            "account_statistics.accountid": "uuid", "account_statistics.customer_no": "text", "account_statistics.balance": "numeric",
            "account_statistics.outstanding_orders": "numeric", "account_statistics.shipped_not_invoiced": "numeric",
            "account_statistics.outstanding_invoices": "numeric", "account_statistics.total": "numeric",
            "account_statistics.credit_limit": "numeric", "account_statistics.overdue_amount": "numeric",
            "account_statistics.total_sales": "numeric", "account_statistics.modifiedon": "timestamp with time zone",
        ]
        try await DemoFixture.with(seed: nil) { f in
            try await DemoSchema.erp.recreate(on: f.erp)
            try await DemoSchema.crm.recreate(on: f.crm)
            for (connection, expected) in [(f.erp, erp), (f.crm, crm)] {
                let rows = try await connection.query(
                    "SELECT table_name || '.' || column_name, data_type FROM information_schema.columns WHERE table_schema = 'public'")
                let actual = Dictionary(try rows.map { try $0.decode((String, String).self) }, uniquingKeysWith: { first, _ in first })
                for (column, type) in expected { #expect(actual[column] == type, "\(column)") }
            }
        }
    }

    @Test("modified-on is the transaction's start, on insert and on update, on both sides")
    func modifiedOnTriggers() async throws {
        try await DemoFixture.with { f in
            let erpStamped = try await f.erp.withTransaction { tx in
                try await tx.query("SELECT pg_sleep(0.01)")
                return try await tx.query(
                    "UPDATE customer SET modified_at = '2000-01-01', city = 'Oslo' WHERE no = 'C10000' RETURNING modified_at = now()"
                ).single().decode(Bool.self, at: 0)
            }
            #expect(erpStamped)
            let crmStamped = try await f.crm.withTransaction { tx in
                try await tx.query("SELECT pg_sleep(0.01)")
                return try await tx.query(
                    "INSERT INTO account (name, modifiedon) VALUES ('New', '2000-01-01') RETURNING modifiedon = now()"
                ).single().decode(Bool.self, at: 0)
            }
            #expect(crmStamped)
        }
    }

    @Test("a CRM record's owner type follows its owner, as in Dataverse: a written owner type alone changes nothing")
    func ownerTypeFollowsOwner() async throws {
        try await DemoFixture.with { f in
            let kept = try await f.crm.query(
                "UPDATE account SET owneridtype = 'systemuser', name = name || ' Group' WHERE owneridtype = 'team' RETURNING owneridtype"
            ).single().decode(String.self, at: 0)
            #expect(kept == "team")
            let user = try await f.crm.query("SELECT systemuserid::text FROM systemuser LIMIT 1").single().decode(String.self, at: 0)
            let moved = try await f.crm.query(
                "UPDATE account SET ownerid = \(user)::uuid WHERE owneridtype = 'team' RETURNING owneridtype"
            ).single().decode(String.self, at: 0)
            #expect(moved == "systemuser")
        }
    }

    @Test("seeding again refuses tables that hold data, unless reset")
    func refusesWithoutReset() async throws {
        try await DemoFixture.with { f in
            let seeder = DemoSeeder(seed: 2, size: DemoFixture.size, today: DemoDay(Date()))
            await #expect(throws: DemoTablesInUse.self) { try await seeder.seed(erp: f.erp, crm: f.crm, reset: false) }
            let counts = try await seeder.seed(erp: f.erp, crm: f.crm, reset: true)
            #expect(counts.first { $0.endpoint == "erp" && $0.table == "customer" }?.rows == 60)
            #expect(try await f.count(f.erp, "SELECT count(*) FROM customer") == 60)
        }
    }

    @Test("demo edits change both sides and keep the ledgers consistent")
    func edits() async throws {
        try await DemoFixture.with { f in
            let invoices = try await f.count(f.erp, "SELECT count(*) FROM sales_invoice_header")
            let changes = try await DemoEditor(seed: 5, count: 2, today: DemoDay(Date())).edit(erp: f.erp, crm: f.crm)
            #expect(changes.filter { $0.hasPrefix("erp: posted invoice") }.count == 2)
            #expect(changes.filter { $0.hasPrefix("crm: account") }.count == 4)
            #expect(try await f.count(f.erp, "SELECT count(*) FROM sales_invoice_header") == invoices + 2)
            #expect(try await f.count(f.erp, """
                SELECT count(*) FROM sales_invoice_header h
                WHERE h.amount <> (SELECT sum(amount) FROM cust_ledger_entry e WHERE e.document_no = h.no AND e.document_type = 'invoice')
                """) == 0)
            #expect(try await f.count(f.erp, "SELECT count(*) FROM sales_header h WHERE amount <> (SELECT sum(line_amount) FROM sales_line l WHERE l.document_type = h.document_type AND l.document_no = h.no)") == 0)
        }
    }
}
