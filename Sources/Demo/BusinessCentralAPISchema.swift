/// The demo ERP shaped like Business Central's API v2.0, for `couplet-emulator business-central` to
/// serve as a company: one table per entity set the reference mappings (`mappings-api.yaml`) name,
/// each with the uuid key `id` (the record's SystemId), quoted camelCase columns named and typed as the
/// v2.0 resource pages document the properties (`varchar(n)` where Business Central's field has that
/// length), Business Central's enumerations as Postgres enum types (the blank member is a space), a
/// `number` that defaults from a sequence as a number series does, and `lastModifiedDateTime`, which
/// the emulator keeps. Each table holds the documented properties the demo has values for, not all.
///
/// The rows are the Postgres demo ERP's (`ERPSchema`), converted by `script(from:)`: the same
/// customers, contacts and items, so both demos tell the same story. Ids are derived from the
/// entity set and the record's code or number, so the same seed always gives the same ids.
public enum BusinessCentralAPISchema {
    /// The entity sets, in creation order (dependencies first).
    public static let tables = [
        "salespersonPurchasers", "currencies", "paymentTerms", "shipmentMethods", "unitsOfMeasure", "customers",
        "contacts", "items",
    ]

    /// The statements that create the entity sets, their enumerations and number series.
    public static let script = """
        DROP TYPE IF EXISTS "contactType", "customerBlocked", "itemType" CASCADE;
        DROP SEQUENCE IF EXISTS "customerNumbers", "contactNumbers", "itemNumbers";
        CREATE TYPE "contactType" AS ENUM ('Company', 'Person');
        CREATE TYPE "customerBlocked" AS ENUM (' ', 'Ship', 'Invoice', 'All');
        CREATE TYPE "itemType" AS ENUM ('Inventory', 'Service', 'Non-Inventory');
        CREATE SEQUENCE "customerNumbers" START 10000 INCREMENT 10;
        CREATE SEQUENCE "contactNumbers" START 100000;
        CREATE SEQUENCE "itemNumbers" START 1000;

        CREATE TABLE "salespersonPurchasers" (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(), code varchar(20) NOT NULL UNIQUE,
            "displayName" varchar(50) NOT NULL DEFAULT '', email varchar(80), email2 varchar(80), "phoneNo" varchar(30),
            "jobTitle" varchar(30), "commisionPercent" numeric(18,2) NOT NULL DEFAULT 0,
            "privacyBlocked" boolean NOT NULL DEFAULT false, blocked boolean NOT NULL DEFAULT false,
            "lastModifiedDateTime" timestamptz NOT NULL DEFAULT now());
        CREATE TABLE currencies (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(), code varchar(10) NOT NULL UNIQUE,
            "displayName" varchar(30) NOT NULL DEFAULT '', symbol varchar(10), "amountDecimalPlaces" varchar(5) NOT NULL DEFAULT '2:2',
            "amountRoundingPrecision" numeric(18,4) NOT NULL DEFAULT 0.01, "lastModifiedDateTime" timestamptz NOT NULL DEFAULT now());
        CREATE TABLE "paymentTerms" (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(), code varchar(10) NOT NULL UNIQUE,
            "displayName" varchar(100) NOT NULL DEFAULT '', "dueDateCalculation" varchar(32), "discountDateCalculation" varchar(32),
            "discountPercent" numeric(5,2) NOT NULL DEFAULT 0, "calculateDiscountOnCreditMemos" boolean NOT NULL DEFAULT false,
            "lastModifiedDateTime" timestamptz NOT NULL DEFAULT now());
        CREATE TABLE "shipmentMethods" (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(), code varchar(10) NOT NULL UNIQUE,
            "displayName" varchar(100) NOT NULL DEFAULT '', "lastModifiedDateTime" timestamptz NOT NULL DEFAULT now());
        CREATE TABLE "unitsOfMeasure" (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(), code varchar(10) NOT NULL UNIQUE,
            "displayName" varchar(50) NOT NULL DEFAULT '', "internationalStandardCode" varchar(10), symbol varchar(10),
            "lastModifiedDateTime" timestamptz NOT NULL DEFAULT now());
        CREATE TABLE customers (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            number varchar(20) NOT NULL UNIQUE DEFAULT 'C' || nextval('"customerNumbers"'),
            "displayName" varchar(100) NOT NULL DEFAULT '', type "contactType" NOT NULL DEFAULT 'Company',
            "addressLine1" varchar(100), "addressLine2" varchar(50), city varchar(30), state varchar(30), country varchar(10),
            "postalCode" varchar(20), "phoneNumber" varchar(30), email varchar(80), website varchar(80),
            "salespersonCode" varchar(20), "balanceDue" numeric(18,2) NOT NULL DEFAULT 0,
            "creditLimit" numeric(18,2) NOT NULL DEFAULT 0, "taxRegistrationNumber" varchar(20),
            "currencyId" uuid REFERENCES currencies, "currencyCode" varchar(10),
            "paymentTermsId" uuid REFERENCES "paymentTerms", "shipmentMethodId" uuid REFERENCES "shipmentMethods",
            blocked "customerBlocked" NOT NULL DEFAULT ' ', "lastModifiedDateTime" timestamptz NOT NULL DEFAULT now());
        CREATE TABLE contacts (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            number varchar(20) NOT NULL UNIQUE DEFAULT 'CT' || nextval('"contactNumbers"'),
            type "contactType" NOT NULL DEFAULT 'Person', "displayName" varchar(100) NOT NULL DEFAULT '',
            "companyNumber" varchar(20), "companyName" varchar(100), "addressLine1" varchar(100), "addressLine2" varchar(50),
            city varchar(30), state varchar(30), country varchar(10), "postalCode" varchar(20), "phoneNumber" varchar(30),
            "mobilePhoneNumber" varchar(30), email varchar(80), website varchar(80), "searchName" varchar(100),
            "privacyBlocked" boolean NOT NULL DEFAULT false, "lastModifiedDateTime" timestamptz NOT NULL DEFAULT now());
        CREATE TABLE items (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            number varchar(20) NOT NULL UNIQUE DEFAULT nextval('"itemNumbers"')::text,
            "displayName" varchar(100) NOT NULL DEFAULT '', type "itemType" NOT NULL DEFAULT 'Inventory',
            "itemCategoryCode" varchar(20), blocked boolean NOT NULL DEFAULT false, gtin varchar(14),
            inventory numeric(18,5) NOT NULL DEFAULT 0, "unitPrice" numeric(18,2) NOT NULL DEFAULT 0,
            "priceIncludesTax" boolean NOT NULL DEFAULT false, "unitCost" numeric(18,2) NOT NULL DEFAULT 0,
            "baseUnitOfMeasureId" uuid REFERENCES "unitsOfMeasure", "baseUnitOfMeasureCode" varchar(10),
            "lastModifiedDateTime" timestamptz NOT NULL DEFAULT now());
        """

    /// The statements that fill the entity sets from the Postgres demo ERP's tables in schema `source`
    /// and move each number series past the numbers taken.
    static func script(from source: String) -> String {
        """
        INSERT INTO "salespersonPurchasers" (id, code, "displayName", email, "phoneNo", "jobTitle", blocked)
            SELECT \(id("salespersonPurchasers", "code")), code, name, email, phone, job_title, blocked FROM \(source).salesperson;
        INSERT INTO currencies (id, code, "displayName", symbol, "amountRoundingPrecision")
            SELECT \(id("currencies", "code")), code, description, symbol, amount_rounding_precision FROM \(source).currency;
        INSERT INTO "paymentTerms" (id, code, "displayName", "dueDateCalculation", "discountPercent")
            SELECT \(id("paymentTerms", "code")), code, description, due_date_calculation, discount_percent FROM \(source).payment_terms;
        INSERT INTO "shipmentMethods" (id, code, "displayName")
            SELECT \(id("shipmentMethods", "code")), code, description FROM \(source).shipment_method;
        INSERT INTO "unitsOfMeasure" (id, code, "displayName", "internationalStandardCode")
            SELECT \(id("unitsOfMeasure", "code")), code, description, international_standard_code FROM \(source).unit_of_measure;
        INSERT INTO customers (
            id, number, "displayName", "addressLine1", "addressLine2", city, state, country, "postalCode", "phoneNumber", email,
            website, "salespersonCode", "balanceDue", "creditLimit", "taxRegistrationNumber", "currencyId", "currencyCode",
            "paymentTermsId", "shipmentMethodId", blocked)
            SELECT \(id("customers", "c.no")), c.no, c.name, c.address, c.address_2, c.city, c.county, c.country_region_code,
                   c.post_code, c.phone_no, c.e_mail, c.home_page, c.salesperson_code,
                   coalesce((SELECT sum(remaining_amount) FROM \(source).cust_ledger_entry e WHERE e.customer_no = c.no AND e.open), 0),
                   c.credit_limit, c.vat_registration_no, cu.id, c.currency_code, pt.id, sm.id,
                   (CASE c.blocked WHEN '' THEN ' ' WHEN 'ship' THEN 'Ship' WHEN 'invoice' THEN 'Invoice' WHEN 'all' THEN 'All' END)::"customerBlocked"
            FROM \(source).customer c
            LEFT JOIN currencies cu ON cu.code = c.currency_code
            LEFT JOIN "paymentTerms" pt ON pt.code = c.payment_terms_code
            LEFT JOIN "shipmentMethods" sm ON sm.code = c.shipment_method_code;
        INSERT INTO contacts (
            id, number, type, "displayName", "companyNumber", "companyName", "addressLine1", "addressLine2", city, state, country,
            "postalCode", "phoneNumber", "mobilePhoneNumber", email, website, "searchName")
            SELECT \(id("contacts", "no")), no, (CASE type WHEN 'person' THEN 'Person' WHEN 'company' THEN 'Company' END)::"contactType",
                   name, company_no, company_name, address, address_2, city, county, country_region_code, post_code, phone_no,
                   mobile_phone_no, e_mail, home_page, upper(name)
            FROM \(source).contact;
        INSERT INTO items (
            id, number, "displayName", type, "itemCategoryCode", blocked, gtin, inventory, "unitPrice", "unitCost",
            "baseUnitOfMeasureId", "baseUnitOfMeasureCode")
            SELECT \(id("items", "i.no")), i.no, i.description,
                   (CASE i.type WHEN 'inventory' THEN 'Inventory' WHEN 'service' THEN 'Service' END)::"itemType",
                   i.item_category_code, i.blocked, i.gtin,
                   coalesce((SELECT sum(quantity) FROM \(source).item_ledger_entry l WHERE l.item_no = i.no), 0),
                   coalesce(i.unit_price, 0), coalesce(i.unit_cost, 0), u.id, i.base_unit_of_measure
            FROM \(source).item i LEFT JOIN "unitsOfMeasure" u ON u.code = i.base_unit_of_measure;
        \(numberSeries("customerNumbers", table: "customers"))
        \(numberSeries("contactNumbers", table: "contacts"))
        \(numberSeries("itemNumbers", table: "items"))
        """
    }

    /// The SQL expression of a demo id: the md5 of the entity set and `keyExpression`, read as a uuid.
    private static func id(_ entitySet: String, _ keyExpression: String) -> String {
        "md5('\(entitySet) ' || \(keyExpression))::uuid"
    }

    /// Moves `sequence` past the largest number (its trailing digits) that `table` holds, as a number
    /// series continues after the last number used.
    private static func numberSeries(_ sequence: String, table: String) -> String {
        """
        SELECT setval('"\(sequence)"', greatest(
            (SELECT max(substring(number FROM '[0-9]+$')::bigint) FROM \(table)),
            (SELECT start_value - increment_by FROM pg_sequences WHERE sequencename = '\(sequence)')));
        """
    }
}
