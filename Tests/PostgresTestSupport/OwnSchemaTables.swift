import Demo
import Postgres

/// An ERP and a CRM unlike the demo's, for integrity and convergence tests: ERP debtors keyed by a
/// sequence, `char(2)` country codes, a CHECK constraint and a blocked flag a mapping filters out;
/// CRM clients keyed by a uuid, with a free-text number the ERP assigns.
public enum OwnSchemaTables {
    /// The ERP: `debtor`.
    public static let erp = """
        CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.modified_at := now(); RETURN NEW; END $$;
        CREATE TABLE debtor (id serial PRIMARY KEY, name text NOT NULL, country char(2), credit_limit numeric(12, 2)
                                 CONSTRAINT credit_not_negative CHECK (credit_limit >= 0),
                             manager text, blocked boolean NOT NULL DEFAULT false, modified_at timestamptz NOT NULL DEFAULT now());
        CREATE TRIGGER touch BEFORE UPDATE ON debtor FOR EACH ROW EXECUTE FUNCTION touch();
        """
    /// The CRM: `client`.
    public static let crm = """
        CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.modified_at := now(); RETURN NEW; END $$;
        CREATE TABLE client (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), number text, name text NOT NULL, country text,
                             credit numeric, manager text, modified_at timestamptz NOT NULL DEFAULT now());
        CREATE TRIGGER touch BEFORE UPDATE ON client FOR EACH ROW EXECUTE FUNCTION touch();
        """
    /// The same CRM as a Dataverse table for the Dataverse emulator to serve: `dataverse.client`, keyed
    /// `clientid` and stamped in `modifiedon` as Dataverse names them. The view `client` shows it with
    /// `crm`'s column names, so a test's SQL reads and writes either CRM alike.
    public static let dataverseCRM = """
        CREATE SCHEMA dataverse;
        CREATE FUNCTION dataverse.stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.modifiedon := now(); RETURN NEW; END $$;
        CREATE TABLE dataverse.client (clientid uuid PRIMARY KEY DEFAULT gen_random_uuid(), number text, name text NOT NULL,
                                       country text, credit numeric, manager text, modifiedon timestamptz NOT NULL DEFAULT now());
        CREATE TRIGGER stamp BEFORE UPDATE ON dataverse.client FOR EACH ROW EXECUTE FUNCTION dataverse.stamp();
        CREATE VIEW client AS
            SELECT clientid AS id, number, name, country, credit, manager, modifiedon AS modified_at FROM dataverse.client;
        """

    /// The statements that store the DEBTOR mapping between them, on endpoints `erp` and `crm`:
    /// `debtor.id ↔ client.number` (the ERP assigns the number), names trimmed on the way to the
    /// ERP, blocked debtors filtered out; `match` names a field (`name`, `id`) for match-based coupling.
    /// The CRM's key and modified-on columns are `crmKey` and `crmModified` (`clientid` and
    /// `modifiedon` in `dataverseCRM`).
    public static func debtorMapping(
        direction: String = "bidirectional", updateConflict: String = "fail", deletionConflict: String = "fail",
        match: String? = nil, batchSize: Int = 1000, crmKey: String = "id", crmModified: String = "modified_at"
    ) -> [PostgresQuery] {
        [
            """
            INSERT INTO couplet.table_mappings (name, local_endpoint, local_table, local_key, local_modified, local_filter,
                integration_endpoint, integration_table, integration_key, integration_modified, direction, update_conflict,
                deletion_conflict, sync_only_coupled, batch_size)
            VALUES ('DEBTOR', 'erp', 'debtor', 'id', 'modified_at', 'NOT blocked', 'crm', 'client', \(crmKey), \(crmModified),
                    \(direction), \(updateConflict), \(deletionConflict), false, \(batchSize))
            """,
            """
            INSERT INTO couplet.field_mappings (mapping, position, local_field, integration_field, direction, from_integration_rule,
                                                comparison, match_priority) VALUES
                ('DEBTOR', 1, 'id', 'number', 'bidirectional', NULL, 'text', CASE WHEN \(match) = 'id' THEN 1 END),
                ('DEBTOR', 2, 'name', 'name', 'bidirectional', 'trim', 'text', CASE WHEN \(match) = 'name' THEN 1 END),
                ('DEBTOR', 3, 'country', 'country', 'bidirectional', NULL, 'text', NULL),
                ('DEBTOR', 4, 'credit_limit', 'credit', 'bidirectional', NULL, 'numeric', NULL),
                ('DEBTOR', 5, 'manager', 'manager', 'bidirectional', NULL, 'text', NULL)
            """,
        ]
    }
}

/// A test's random choices from the demo's seeded generator (`Demo.SplitMix64`), so that a seed
/// replays them exactly.
public struct SplitMix64: Sendable {
    private var bits: Demo.SplitMix64

    /// A generator starting from `seed`.
    public init(seed: UInt64) { bits = Demo.SplitMix64(seed: seed) }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 { bits.next() }

    /// A number in 0 ..< n.
    public mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    /// True `percent` times in a hundred.
    public mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
    /// One of `items` (which must not be empty).
    public mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
    /// One of `items`, nil when there are none.
    public mutating func any<T>(of items: some Collection<T>) -> T? {
        items.isEmpty ? nil : Array(items)[below(items.count)]
    }
}
