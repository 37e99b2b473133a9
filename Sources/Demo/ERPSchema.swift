/// The demo ERP's tables, shaped like Business Central's (snake_case names, text codes and numbers
/// as keys). Every table stamps `modified_at` with its transaction's start (`now()`) on insert and
/// update, which is what the sync engine's delta watermark relies on.
///
/// The columns named in the agreed table shapes (customer, item, the ledgers, sales documents and
/// posted invoices) are fixed: the customer statistics and item availability jobs read them.
///
/// Currencies keep their rates in `currency_exchange_rate` (Business Central's table 330); the local
/// currency is `general_ledger_setup.lcy_code` and the CRM's base currency
/// `crm_connection_setup.base_currency_code`. The view `currency_for_crm` gives each currency the
/// exchange rate the CRM gets (`CRMExchangeRate`).
///
/// Document lines have a composite key, as in Business Central; like every Business Central table they
/// also carry a `system_id` (Business Central's SystemId, a uuid given on insert), which is what
/// Business Central couples them by and what the line mappings key on. A line's shipped quantity
/// (quantity less outstanding) and its amount including VAT (the demo has no VAT: its line amount)
/// are generated from the other columns.
public enum ERPSchema {
    /// The tables in creation order (dependencies first).
    public static let tables = [
        "salesperson", "general_ledger_setup", "crm_connection_setup", "currency", "currency_exchange_rate", "payment_terms", "shipment_method", "shipping_agent", "unit_of_measure",
        "customer_price_group", "customer", "vendor", "contact", "item", "resource", "sales_price", "opportunity",
        "sales_header", "sales_line", "sales_invoice_header", "sales_invoice_line", "item_ledger_entry",
        "cust_ledger_entry",
    ]

    /// The statements that create the tables, their modified-on triggers and indexes.
    public static let script = """
        CREATE FUNCTION demo_stamp_modified_at() RETURNS trigger LANGUAGE plpgsql AS
            $$ BEGIN NEW.modified_at := now(); RETURN NEW; END $$;

        CREATE TABLE salesperson (
            code text PRIMARY KEY, name text NOT NULL, email text, phone text, job_title text,
            blocked boolean NOT NULL DEFAULT false, modified_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE general_ledger_setup (
            primary_key text PRIMARY KEY DEFAULT '' CHECK (primary_key = ''), lcy_code text NOT NULL,
            modified_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE crm_connection_setup (
            primary_key text PRIMARY KEY DEFAULT '' CHECK (primary_key = ''), base_currency_code text NOT NULL,
            modified_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE currency (
            code text PRIMARY KEY, description text NOT NULL, symbol text,
            amount_rounding_precision numeric(18,4) NOT NULL DEFAULT 0.01, modified_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE currency_exchange_rate (
            currency_code text REFERENCES currency ON DELETE CASCADE, starting_date date,
            exchange_rate_amount numeric(18,6) NOT NULL CHECK (exchange_rate_amount > 0),
            relational_exch_rate_amount numeric(18,6) NOT NULL CHECK (relational_exch_rate_amount > 0),
            modified_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (currency_code, starting_date));
        CREATE TABLE payment_terms (
            code text PRIMARY KEY, description text NOT NULL, due_date_calculation text NOT NULL,
            discount_percent numeric(5,2) NOT NULL DEFAULT 0, modified_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE shipment_method (
            code text PRIMARY KEY, description text NOT NULL, modified_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE shipping_agent (
            code text PRIMARY KEY, name text NOT NULL, internet_address text, modified_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE unit_of_measure (
            code text PRIMARY KEY, description text NOT NULL, international_standard_code text,
            modified_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE customer_price_group (
            code text PRIMARY KEY, description text NOT NULL, allow_invoice_disc boolean NOT NULL DEFAULT true,
            price_includes_vat boolean NOT NULL DEFAULT false, modified_at timestamptz NOT NULL DEFAULT now());

        CREATE TABLE customer (
            no text PRIMARY KEY, name text NOT NULL, name_2 text, address text, address_2 text, city text, post_code text,
            county text, country_region_code text, phone_no text, fax_no text, e_mail text, home_page text, contact text,
            primary_contact_no text, credit_limit numeric(18,2) NOT NULL DEFAULT 0, salesperson_code text, currency_code text,
            payment_terms_code text, shipment_method_code text, shipping_agent_code text, customer_price_group text,
            bill_to_customer_no text, vat_registration_no text, blocked text NOT NULL DEFAULT '',
            modified_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE vendor (
            no text PRIMARY KEY, name text NOT NULL, address text, city text, post_code text, country_region_code text,
            phone_no text, e_mail text, home_page text, currency_code text, payment_terms_code text, purchaser_code text,
            blocked text NOT NULL DEFAULT '', modified_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE contact (
            no text PRIMARY KEY, type text NOT NULL DEFAULT 'person' CHECK (type IN ('company', 'person')),
            name text NOT NULL, first_name text, middle_name text, surname text, company_no text, company_name text,
            customer_no text, job_title text, address text, address_2 text, city text, post_code text, county text,
            country_region_code text, phone_no text, mobile_phone_no text, fax_no text, pager text, e_mail text,
            home_page text, currency_code text, salesperson_code text, modified_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE item (
            no text PRIMARY KEY, description text NOT NULL, description_2 text, base_unit_of_measure text,
            unit_price numeric(18,2), unit_cost numeric(18,2), type text NOT NULL DEFAULT 'inventory'
            CHECK (type IN ('inventory', 'service')), item_category_code text, gtin text, unit_volume numeric(18,5),
            gross_weight numeric(18,5), vendor_no text, vendor_item_no text, blocked boolean NOT NULL DEFAULT false,
            modified_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE resource (
            no text PRIMARY KEY, name text NOT NULL, type text NOT NULL DEFAULT 'person' CHECK (type IN ('person', 'machine')),
            base_unit_of_measure text, unit_price numeric(18,2), unit_cost numeric(18,2),
            blocked boolean NOT NULL DEFAULT false, modified_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE sales_price (
            price_no text PRIMARY KEY, item_no text NOT NULL REFERENCES item, sales_type text NOT NULL
            CHECK (sales_type IN ('customer', 'customer_price_group', 'all_customers')), sales_code text,
            currency_code text, starting_date date, ending_date date, unit_of_measure_code text,
            minimum_quantity numeric(18,4) NOT NULL DEFAULT 0, unit_price numeric(18,2) NOT NULL,
            modified_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE opportunity (
            no text PRIMARY KEY, description text NOT NULL, contact_no text, contact_company_no text, customer_no text,
            salesperson_code text, status text NOT NULL DEFAULT 'not_started'
            CHECK (status IN ('not_started', 'in_progress', 'won', 'lost')), estimated_value numeric(18,2),
            probability_percent int, creation_date date, estimated_closing_date date, closed boolean NOT NULL DEFAULT false,
            modified_at timestamptz NOT NULL DEFAULT now());

        CREATE TABLE sales_header (
            document_type text NOT NULL CHECK (document_type IN ('quote', 'order', 'invoice')), no text NOT NULL UNIQUE,
            sell_to_customer_no text NOT NULL REFERENCES customer, bill_to_customer_no text, sell_to_customer_name text,
            status text NOT NULL CHECK (status IN ('open', 'released')), order_date date NOT NULL, document_date date,
            requested_delivery_date date, currency_code text, salesperson_code text, payment_terms_code text,
            shipment_method_code text, shipping_agent_code text, external_document_no text, opportunity_no text,
            ship_to_address text, ship_to_city text, ship_to_post_code text, ship_to_country_region_code text,
            amount numeric(18,2) NOT NULL DEFAULT 0, modified_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (document_type, no));
        CREATE TABLE sales_line (
            document_type text, document_no text, line_no int, type text NOT NULL CHECK (type IN ('item', 'resource')),
            no text NOT NULL, description text, unit_of_measure_code text, quantity numeric(18,4) NOT NULL,
            outstanding_quantity numeric(18,4) NOT NULL, qty_shipped_not_invoiced numeric(18,4) NOT NULL,
            unit_price numeric(18,2) NOT NULL, line_amount numeric(18,2) NOT NULL DEFAULT 0,
            outstanding_amount numeric(18,2) NOT NULL, shipped_not_invoiced_amount numeric(18,2) NOT NULL,
            quantity_shipped numeric(18,4) GENERATED ALWAYS AS (quantity - outstanding_quantity) STORED,
            amount_including_vat numeric(18,2) GENERATED ALWAYS AS (line_amount) STORED,
            system_id uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
            modified_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (document_type, document_no, line_no),
            FOREIGN KEY (document_type, document_no) REFERENCES sales_header);
        CREATE TABLE sales_invoice_header (
            no text PRIMARY KEY, sell_to_customer_no text NOT NULL, bill_to_customer_no text, sell_to_customer_name text,
            order_no text, posting_date date NOT NULL, document_date date, due_date date NOT NULL, currency_code text,
            salesperson_code text, payment_terms_code text, amount numeric(18,2) NOT NULL,
            amount_including_vat numeric(18,2), modified_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE sales_invoice_line (
            document_no text REFERENCES sales_invoice_header, line_no int, type text NOT NULL
            CHECK (type IN ('item', 'resource')), no text NOT NULL, description text, unit_of_measure_code text,
            quantity numeric(18,4) NOT NULL, unit_price numeric(18,2) NOT NULL, line_amount numeric(18,2) NOT NULL,
            amount_including_vat numeric(18,2) GENERATED ALWAYS AS (line_amount) STORED,
            system_id uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
            modified_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (document_no, line_no));
        CREATE TABLE item_ledger_entry (
            entry_no bigserial PRIMARY KEY, item_no text NOT NULL REFERENCES item, posting_date date NOT NULL,
            entry_type text NOT NULL CHECK (entry_type IN ('purchase', 'sale', 'positive_adjmt', 'negative_adjmt')),
            document_no text, quantity numeric(18,4) NOT NULL, location_code text,
            modified_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE cust_ledger_entry (
            entry_no bigserial PRIMARY KEY, customer_no text NOT NULL REFERENCES customer, posting_date date NOT NULL,
            due_date date NOT NULL, document_type text NOT NULL CHECK (document_type IN ('invoice', 'payment', 'credit_memo')),
            document_no text NOT NULL, description text, amount numeric(18,2) NOT NULL,
            remaining_amount numeric(18,2) NOT NULL, open boolean NOT NULL, modified_at timestamptz NOT NULL DEFAULT now());

        CREATE INDEX ON sales_line (type, no);
        CREATE INDEX ON item_ledger_entry (item_no);
        CREATE INDEX ON cust_ledger_entry (customer_no) WHERE open;
        CREATE INDEX ON sales_header (sell_to_customer_no);
        CREATE INDEX ON sales_invoice_header (sell_to_customer_no);
        """ + DemoSchema.modifiedOnTriggers(tables: tables, column: "modified_at", function: "demo_stamp_modified_at")
        + CRMExchangeRate.script
}
