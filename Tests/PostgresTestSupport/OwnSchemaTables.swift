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
}

/// SplitMix64: a small deterministic generator, so that a seed replays a test's random choices exactly.
public struct SplitMix64: Sendable {
    private var state: UInt64

    /// A generator starting from `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

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
