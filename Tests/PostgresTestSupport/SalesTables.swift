import Postgres

/// The columns of the agreed demo ERP and CRM tables that the statistics and availability jobs read
/// and write (the demo module has more), each table stamping its modified-on with `now()` on insert and update.
public enum SalesTables {
    /// The ERP: customer, item, ledgers, sales documents and posted invoices.
    public static let erp = """
        CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.modified_at := now(); RETURN NEW; END $$;
        CREATE TABLE customer (no text PRIMARY KEY, name text NOT NULL, credit_limit numeric(18,2) NOT NULL DEFAULT 0,
                               modified_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE item (no text PRIMARY KEY, description text NOT NULL, modified_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE cust_ledger_entry (entry_no bigserial PRIMARY KEY, customer_no text NOT NULL REFERENCES customer,
            posting_date date NOT NULL, due_date date NOT NULL, document_type text NOT NULL, document_no text NOT NULL,
            amount numeric(18,2) NOT NULL, remaining_amount numeric(18,2) NOT NULL, open boolean NOT NULL,
            modified_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE item_ledger_entry (entry_no bigserial PRIMARY KEY, item_no text NOT NULL REFERENCES item,
            posting_date date NOT NULL, entry_type text NOT NULL, quantity numeric(18,4) NOT NULL,
            modified_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE sales_header (document_type text NOT NULL, no text NOT NULL, sell_to_customer_no text NOT NULL REFERENCES customer,
            status text NOT NULL DEFAULT 'open', order_date date NOT NULL DEFAULT current_date,
            modified_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (document_type, no));
        CREATE TABLE sales_line (document_type text, document_no text, line_no int, type text NOT NULL, no text NOT NULL,
            quantity numeric(18,4) NOT NULL, outstanding_quantity numeric(18,4) NOT NULL, qty_shipped_not_invoiced numeric(18,4) NOT NULL,
            unit_price numeric(18,2) NOT NULL, outstanding_amount numeric(18,2) NOT NULL, shipped_not_invoiced_amount numeric(18,2) NOT NULL,
            modified_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (document_type, document_no, line_no),
            FOREIGN KEY (document_type, document_no) REFERENCES sales_header);
        CREATE TABLE sales_invoice_header (no text PRIMARY KEY, sell_to_customer_no text NOT NULL, order_no text, posting_date date NOT NULL,
            due_date date NOT NULL, amount numeric(18,2) NOT NULL, modified_at timestamptz NOT NULL DEFAULT now());
        DO $$ DECLARE t text; BEGIN
            FOREACH t IN ARRAY ARRAY['customer', 'item', 'cust_ledger_entry', 'item_ledger_entry', 'sales_header', 'sales_line',
                                     'sales_invoice_header'] LOOP
                EXECUTE format('CREATE TRIGGER touch BEFORE INSERT OR UPDATE ON %I FOR EACH ROW EXECUTE FUNCTION touch()', t);
            END LOOP;
        END $$;
        """

    /// The CRM: account, product, account_statistics, salesorder and post.
    public static let crm = """
        CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.modifiedon := now(); RETURN NEW; END $$;
        CREATE TABLE account (accountid uuid PRIMARY KEY DEFAULT gen_random_uuid(), name text NOT NULL, accountnumber text,
                              modifiedon timestamptz NOT NULL DEFAULT now());
        CREATE TABLE product (productid uuid PRIMARY KEY DEFAULT gen_random_uuid(), productnumber text, name text NOT NULL,
                              quantityonhand numeric(18,4), modifiedon timestamptz NOT NULL DEFAULT now());
        CREATE TABLE account_statistics (accountid uuid PRIMARY KEY REFERENCES account ON DELETE CASCADE, customer_no text NOT NULL,
            balance numeric(18,2) NOT NULL, outstanding_orders numeric(18,2) NOT NULL, shipped_not_invoiced numeric(18,2) NOT NULL,
            outstanding_invoices numeric(18,2) NOT NULL, total numeric(18,2) NOT NULL, credit_limit numeric(18,2) NOT NULL,
            overdue_amount numeric(18,2) NOT NULL, total_sales numeric(18,2) NOT NULL, modifiedon timestamptz NOT NULL DEFAULT now());
        CREATE TABLE salesorder (salesorderid uuid PRIMARY KEY DEFAULT gen_random_uuid(), name text NOT NULL,
                                 statecode int NOT NULL DEFAULT 0, statuscode int NOT NULL DEFAULT 1,
                                 modifiedon timestamptz NOT NULL DEFAULT now());
        CREATE TABLE post (postid uuid PRIMARY KEY DEFAULT gen_random_uuid(), regardingobjectid uuid NOT NULL,
                           regardingobjecttypecode text NOT NULL, text text NOT NULL, createdon timestamptz NOT NULL DEFAULT now());
        CREATE TRIGGER touch BEFORE INSERT OR UPDATE ON account FOR EACH ROW EXECUTE FUNCTION touch();
        CREATE TRIGGER touch BEFORE INSERT OR UPDATE ON salesorder FOR EACH ROW EXECUTE FUNCTION touch();
        CREATE TRIGGER touch BEFORE INSERT OR UPDATE ON product FOR EACH ROW EXECUTE FUNCTION touch();
        CREATE TRIGGER touch BEFORE INSERT OR UPDATE ON account_statistics FOR EACH ROW EXECUTE FUNCTION touch();
        """

    /// The endpoints and the CUSTOMER, ITEM-PRODUCT and SALESORDER-ORDER mappings in the coordination database (couplings need them).
    public static let mappings = """
        INSERT INTO couplet.endpoints (name) VALUES ('erp'), ('crm');
        INSERT INTO couplet.table_mappings (name, local_endpoint, local_table, local_key, local_modified,
            integration_endpoint, integration_table, integration_key, integration_modified, direction)
        VALUES ('CUSTOMER', 'erp', 'customer', 'no', 'modified_at', 'crm', 'account', 'accountid', 'modifiedon', 'to_integration'),
               ('ITEM-PRODUCT', 'erp', 'item', 'no', 'modified_at', 'crm', 'product', 'productid', 'modifiedon', 'to_integration'),
               ('SALESORDER-ORDER', 'erp', 'sales_header', 'no', 'modified_at', 'crm', 'salesorder', 'salesorderid', 'modifiedon',
                'to_integration');
        """
}

/// A migrated coordination database with the sales mappings, and ERP and CRM databases with the sales tables.
public struct SalesEndpoints: Sendable {
    /// The coordination database.
    public let coordination: PostgresConnection
    /// The ERP and CRM databases.
    public let endpoints: SampleEndpoints
    /// `COUPLET_DATABASE_URL` and the endpoints' variables, for `couplet` processes.
    public let environment: [String: String]

    /// Creates the three databases, runs `body`, and drops them.
    public static func with(isolation: isolated (any Actor)? = #isolation, _ body: (SalesEndpoints) async throws -> Void) async throws {
        try await withMigratedDatabase { database, coordination in
            try await coordination.runScript(SalesTables.mappings, name: "sales mappings")
            try await SampleEndpoints.with(erpSchema: SalesTables.erp, crmSchema: SalesTables.crm) { endpoints in
                var environment = endpoints.environment
                environment["COUPLET_DATABASE_URL"] = database.configuration.connectionString
                try await body(SalesEndpoints(coordination: coordination, endpoints: endpoints, environment: environment))
            }
        }
    }

    /// Couples ERP record `local` to CRM record `integration` in `mapping`.
    public func couple(_ mapping: String, _ local: String, _ integration: String) async throws {
        try await coordination.query(
            "INSERT INTO couplet.couplings (mapping, local_id, integration_id) VALUES (\(mapping), \(local), \(integration))")
    }
}
