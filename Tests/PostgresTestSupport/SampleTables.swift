import Postgres

/// The sample ERP and CRM tables that sync tests run against, and the CUSTOMER mapping's fields.
///
/// The ERP's `customer` is keyed by its number; the CRM's `account` by a uuid. Both stamp
/// `modified_at` with the transaction's start on insert and update, as real applications do.
public enum SampleTables {
    /// The ERP: `customer`.
    public static let erp = """
        CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.modified_at := now(); RETURN NEW; END $$;
        CREATE TABLE customer (no text PRIMARY KEY, name text NOT NULL, city text, credit_limit text, salesperson_code text,
                               modified_at timestamptz NOT NULL DEFAULT now());
        CREATE TRIGGER touch BEFORE UPDATE ON customer FOR EACH ROW EXECUTE FUNCTION touch();
        """
    /// The CRM: `account`.
    public static let crm = """
        CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.modified_at := now(); RETURN NEW; END $$;
        CREATE TABLE account (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), account_number text, name text NOT NULL, city text,
                              credit_limit numeric(12, 2), owner_id text, modified_at timestamptz NOT NULL DEFAULT now());
        CREATE TRIGGER touch BEFORE UPDATE ON account FOR EACH ROW EXECUTE FUNCTION touch();
        """
    /// The same CRM as a Dataverse table for the Dataverse emulator to serve: `dataverse.account`,
    /// keyed `accountid` and stamped in `modifiedon` as Dataverse names them. The view `account`
    /// shows it with `crm`'s column names, so a test's SQL reads and writes either CRM alike.
    public static let dataverseCRM = """
        CREATE SCHEMA dataverse;
        CREATE FUNCTION dataverse.stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.modifiedon := now(); RETURN NEW; END $$;
        CREATE TABLE dataverse.account (accountid uuid PRIMARY KEY DEFAULT gen_random_uuid(), account_number text, name text NOT NULL,
                                        city text, credit_limit numeric(12, 2), owner_id text, modifiedon timestamptz NOT NULL DEFAULT now());
        CREATE TRIGGER stamp BEFORE UPDATE ON dataverse.account FOR EACH ROW EXECUTE FUNCTION dataverse.stamp();
        CREATE VIEW account AS
            SELECT accountid AS id, account_number, name, city, credit_limit, owner_id, modifiedon AS modified_at FROM dataverse.account;
        """

    /// The CUSTOMER mapping's field mappings (insert after its `couplet.table_mappings` row).
    public static let customerFields = """
        INSERT INTO couplet.field_mappings (mapping, position, local_field, integration_field, direction, to_integration_rule, comparison) VALUES
            ('CUSTOMER', 1, 'no', 'account_number', 'bidirectional', NULL, 'text'),
            ('CUSTOMER', 2, 'name', 'name', 'bidirectional', NULL, 'text'),
            ('CUSTOMER', 3, 'city', 'city', 'bidirectional', 'trim', 'text'),
            ('CUSTOMER', 4, 'credit_limit', 'credit_limit', 'to_integration', NULL, 'numeric')
        """

    /// A SALESPEOPLE mapping with salesperson PS coupled to CRM user `user-ps`, and CUSTOMER's
    /// salesperson code carried to the account's owner through it (insert after CUSTOMER's fields):
    /// a customer of another salesperson waits for its salesperson to be coupled. The CRM's key and
    /// modified-on columns are `crmKey` and `crmModified` (`accountid`, `modifiedon` in `dataverseCRM`).
    public static func salespersonLookup(crmKey: String = "id", crmModified: String = "modified_at") -> String {
        """
        INSERT INTO couplet.table_mappings (name, local_endpoint, local_table, local_key, local_modified,
            integration_endpoint, integration_table, integration_key, integration_modified, direction)
        VALUES ('SALESPEOPLE', 'erp', 'customer', 'no', 'modified_at', 'crm', 'account', '\(crmKey)', '\(crmModified)', 'from_integration');
        INSERT INTO couplet.couplings (mapping, local_id, integration_id) VALUES ('SALESPEOPLE', 'PS', 'user-ps');
        INSERT INTO couplet.field_mappings (mapping, position, local_field, integration_field, direction, to_integration_rule)
        VALUES ('CUSTOMER', 5, 'salesperson_code', 'owner_id', 'to_integration', 'lookup(SALESPEOPLE)');
        """
    }
}

/// Two fresh databases holding the sample ERP and CRM tables, with a connection to each.
public struct SampleEndpoints: Sendable {
    /// A connection to the ERP database.
    public let erp: PostgresConnection
    /// A connection to the CRM database.
    public let crm: PostgresConnection
    /// `COUPLET_ENDPOINT_ERP_URL` and `COUPLET_ENDPOINT_CRM_URL` for these databases.
    public let environment: [String: String]

    /// Creates both databases and their tables (the sample ones unless other scripts are given, none
    /// for nil), runs `body`, and drops them.
    public static func with<T>(
        erpSchema: String? = SampleTables.erp, crmSchema: String? = SampleTables.crm,
        isolation: isolated (any Actor)? = #isolation, _ body: (SampleEndpoints) async throws -> T
    ) async throws -> T {
        try await TestDatabase.with { erpDatabase in
            try await TestDatabase.with { crmDatabase in
                let erp = try await erpDatabase.connect()
                let crm = try await crmDatabase.connect()
                defer {
                    erp.close()
                    crm.close()
                }
                if let erpSchema { try await erp.runScript(erpSchema, name: "erp schema") }
                if let crmSchema { try await crm.runScript(crmSchema, name: "crm schema") }
                return try await body(SampleEndpoints(erp: erp, crm: crm, environment: [
                    "COUPLET_ENDPOINT_ERP_URL": erpDatabase.configuration.connectionString,
                    "COUPLET_ENDPOINT_CRM_URL": crmDatabase.configuration.connectionString,
                ]))
            }
        }
    }
}
