import Foundation
import Logging
import ODataConnector
import Postgres
import PostgresTestSupport
import Testing
@testable import Sync

/// Both real products' APIs, each behind its emulator over HTTP: Business Central's customers
/// (API v2.0, numbers from a number series, a blank-or-not enumeration, bounded names) and
/// Dataverse's accounts, synchronized by the engine through both connectors. What is asserted is
/// what the PostgreSQL tests assert: both sides agree, nothing echoes, a conflict is left to a
/// person, a refused record fails alone naming its column, matching couples without copying.
struct BusinessCentralFixture {
    let coordination: PostgresConnection
    let erp: PostgresConnection
    let crm: PostgresConnection
    let engine: SyncEngine

    static let erpSchema = """
        CREATE TYPE "customerBlocked" AS ENUM (' ', 'Ship', 'Invoice', 'All');
        CREATE SEQUENCE customer_numbers START 10000;
        CREATE TABLE customers (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            number varchar(20) NOT NULL UNIQUE DEFAULT nextval('customer_numbers')::text,
            "displayName" varchar(100) NOT NULL DEFAULT '',
            "creditLimit" numeric(12,2) NOT NULL DEFAULT 0,
            blocked "customerBlocked" NOT NULL DEFAULT ' ',
            "lastModifiedDateTime" timestamptz NOT NULL DEFAULT now());
        """

    static let crmSchema = """
        CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.modifiedon := now(); RETURN NEW; END $$;
        CREATE TABLE account (accountid uuid PRIMARY KEY DEFAULT gen_random_uuid(), accountnumber text, name text NOT NULL,
                              creditlimit numeric(12,2), modifiedon timestamptz NOT NULL DEFAULT now());
        CREATE TRIGGER stamp BEFORE UPDATE ON account FOR EACH ROW EXECUTE FUNCTION stamp();
        """

    /// CUSTOMER both ways, every record, conflicts to a person; the number travels to the CRM only.
    static func mappings(_ company: EmulatedBusinessCentral, _ dataverse: EmulatedDataverse) -> String {
        func inline(_ settings: [String: String]) -> String {
            settings.sorted { $0.key < $1.key }.map { "\($0.key): \"\($0.value)\"" }.joined(separator: ", ")
        }
        return """
            endpoints:
              - {name: erp, kind: business-central, \(inline(company.settings))}
              - {name: crm, kind: dataverse, \(inline(dataverse.settings))}
            mappings:
              - name: CUSTOMER
                direction: bidirectional
                sync_only_coupled: false
                update_conflict: fail
                batch_size: 40
                local: {endpoint: erp, table: customers, key: id, modified: lastModifiedDateTime}
                integration: {endpoint: crm, table: account, key: accountid, modified: modifiedon}
                fields:
                  - {local: number, integration: accountnumber, direction: to_integration}
                  - {local: displayName, integration: name, match_priority: 1}
                  - {local: creditLimit, integration: creditlimit, comparison: numeric}
            """
    }

    static func with(isolation: isolated (any Actor)? = #isolation, _ body: (BusinessCentralFixture) async throws -> Void) async throws {
        try await withMigratedDatabase { _, coordination in
            try await TestDatabase.with { erpDatabase in
                try await TestDatabase.with { crmDatabase in
                    let erp = try await erpDatabase.connect()
                    let crm = try await crmDatabase.connect()
                    defer { erp.close(); crm.close() }
                    try await erp.runScript(erpSchema, name: "business central company")
                    try await crm.runScript(crmSchema, name: "dataverse tables")
                    try await EmulatedBusinessCentral.with(erpDatabase.configuration) { company in
                        try await EmulatedDataverse.with(crmDatabase.configuration) { dataverse in
                            let file = try MappingFile.parse(mappings(company, dataverse), file: "mappings.yaml")
                            try await MappingStore.apply(file, prune: false, on: coordination)
                            let endpoints = EndpointDirectory(
                                environment: company.environment.merging(dataverse.environment) { a, _ in a },
                                connectors: [BusinessCentralConnector(logger: Logger(label: "test")), DataverseConnector(logger: Logger(label: "test"))])
                            try await body(BusinessCentralFixture(
                                coordination: coordination, erp: erp, crm: crm,
                                engine: SyncEngine(coordination: coordination, endpoints: endpoints, logger: Logger(label: "test"))))
                        }
                    }
                }
            }
        }
    }

    @discardableResult
    func sync(_ kind: SyncKind = .delta) async throws -> [SyncDirection: SyncCounts] {
        try await engine.run(mapping: "CUSTOMER", kind: kind)
    }

    /// Every coupled pair: the customer's (number, name, credit limit) beside the account's.
    func pairs() async throws -> [(erp: [String?], crm: [String?])] {
        let couplings = try await coordination.query(
            "SELECT local_id, integration_id FROM couplet.couplings WHERE mapping = 'CUSTOMER' ORDER BY local_id"
        ).map { try $0.decode((String, String).self) }
        var pairs: [(erp: [String?], crm: [String?])] = []
        for (local, integration) in couplings {
            let customer = try await erp.query(
                "SELECT number::text, \"displayName\"::text, \"creditLimit\"::text FROM customers WHERE id = \(local)::uuid"
            ).single().decode((String?, String?, String?).self)
            let account = try await crm.query(
                "SELECT accountnumber, name, creditlimit::text FROM account WHERE accountid = \(integration)::uuid"
            ).single().decode((String?, String?, String?).self)
            pairs.append(([customer.0, customer.1, customer.2], [account.0, account.1, account.2]))
        }
        return pairs
    }

    func count(_ connection: PostgresConnection, _ sql: PostgresQuery) async throws -> Int {
        try await connection.query(sql).single().decode(Int.self, at: 0)
    }
}

@Suite struct BusinessCentralEngineTests {
    @Test("a full sync both ways between the two APIs: every record on both sides, equal, and a second run writes nothing")
    func fullSyncBothWaysThenNothing() async throws {
        try await BusinessCentralFixture.with { f in
            try await f.erp.runScript(
                "INSERT INTO customers (\"displayName\", \"creditLimit\") SELECT 'Customer ' || n, n * 10 FROM generate_series(1, 95) n",
                name: "customers")
            try await f.crm.runScript(
                "INSERT INTO account (name, creditlimit) SELECT 'Account ' || n, n FROM generate_series(1, 7) n", name: "accounts")
            let first = try await f.sync(.full)
            #expect(first[.toIntegration]?.inserted == 95)
            #expect(first[.fromIntegration]?.inserted == 7)
            #expect(first.values.allSatisfy { $0.failed == 0 }, "\(first)")
            let pairs = try await f.pairs()
            #expect(pairs.count == 102)
            for pair in pairs {
                #expect(pair.erp[1] == pair.crm[1])
                #expect(Decimal(string: pair.erp[2] ?? "x") == Decimal(string: pair.crm[2] ?? "y"))
            }
            #expect(try await f.count(f.crm, "SELECT count(*) FROM account a WHERE name LIKE 'Customer %' AND accountnumber ~ '^1[0-9]{4}$'") == 95,
                    "each customer's number reaches its account")
            #expect(try await f.count(f.erp, "SELECT count(*) FROM customers WHERE number ~ '^1[0-9]{4}$'") == 102,
                    "customers made from accounts take their number from the number series")
            let second = try await f.sync(.full)
            #expect(second.values.allSatisfy { $0.inserted + $0.modified + $0.failed == 0 }, "nothing echoes: \(second)")
            let delta = try await f.sync(.delta)
            #expect(delta.values.allSatisfy { $0.inserted + $0.modified + $0.failed == 0 }, "\(delta)")
        }
    }

    @Test("deltas carry an edit each way; an edit on both sides is a conflict a person resolves, neither side overwritten")
    func deltasAndConflicts() async throws {
        try await BusinessCentralFixture.with { f in
            try await f.erp.runScript(
                "INSERT INTO customers (\"displayName\", \"creditLimit\") VALUES ('Adatum', 100), ('Fabrikam', 200), ('Contoso', 300)",
                name: "customers")
            try await f.sync(.full)
            try await f.sync(.delta)
            // Dataverse stamps modifiedon to the second: an edit in the same second as Couplet's write looks unchanged.
            try await Task.sleep(for: .milliseconds(1_100))
            try await f.erp.query("UPDATE customers SET \"creditLimit\" = 150 WHERE \"displayName\" = 'Adatum'")
            try await f.crm.query("UPDATE account SET creditlimit = 250 WHERE name = 'Fabrikam'")
            try await f.erp.query("UPDATE customers SET \"creditLimit\" = 301 WHERE \"displayName\" = 'Contoso'")
            try await f.crm.query("UPDATE account SET creditlimit = 302 WHERE name = 'Contoso'")
            let counts = try await f.sync(.delta)
            #expect(counts[.toIntegration]?.modified == 1, "\(counts)")
            #expect(counts[.fromIntegration]?.modified == 1, "\(counts)")
            #expect(try await f.count(f.crm, "SELECT count(*) FROM account WHERE name = 'Adatum' AND creditlimit = 150") == 1)
            #expect(try await f.count(f.erp, "SELECT count(*) FROM customers WHERE \"displayName\" = 'Fabrikam' AND \"creditLimit\" = 250") == 1)
            #expect(try await f.count(f.erp, "SELECT count(*) FROM customers WHERE \"displayName\" = 'Contoso' AND \"creditLimit\" = 301") == 1)
            #expect(try await f.count(f.crm, "SELECT count(*) FROM account WHERE name = 'Contoso' AND creditlimit = 302") == 1)
            #expect(try await f.count(f.coordination, "SELECT count(*) FROM couplet.sync_errors WHERE mapping = 'CUSTOMER' AND closed_at IS NULL") >= 1,
                    "the conflict waits for a person")
        }
    }

    @Test("a record Business Central cannot hold fails alone, naming the column, without a request; the others are written")
    func aRefusedRecordFailsAlone() async throws {
        try await BusinessCentralFixture.with { f in
            try await f.crm.runScript(
                "INSERT INTO account (name, creditlimit) VALUES ('Good 1', 1), (repeat('Long ', 30), 2), ('Good 2', 3)", name: "accounts")
            let counts = try await f.sync(.full)
            #expect(counts[.fromIntegration]?.inserted == 2, "\(counts)")
            #expect(counts[.fromIntegration]?.failed == 1, "\(counts)")
            let message = try await f.coordination.query(
                "SELECT record_message FROM couplet.sync_errors WHERE mapping = 'CUSTOMER' AND closed_at IS NULL"
            ).single().decode(String.self, at: 0)
            #expect(message.contains("displayName"), "\(message)")
            #expect(try await f.count(f.erp, "SELECT count(*) FROM customers") == 2)
        }
    }

    @Test("match-based coupling between the two APIs normalises both sides alike and copies nothing")
    func matchCouplesWithoutCopying() async throws {
        try await BusinessCentralFixture.with { f in
            try await f.erp.runScript("INSERT INTO customers (\"displayName\", \"creditLimit\") VALUES ('Contoso  Ltd', 5), ('Fabrikam', 6)", name: "customers")
            try await f.crm.runScript("INSERT INTO account (name, creditlimit) VALUES ('  contoso ltd ', 50), ('Fabrikam', 6)", name: "accounts")
            let counts = try await f.engine.run(mapping: "CUSTOMER", kind: .match)
            #expect(counts.values.map(\.coupled).reduce(0, +) == 2, "\(counts)")
            #expect(try await f.count(f.crm, "SELECT count(*) FROM account") == 2, "no duplicate")
            #expect(try await f.count(f.erp, "SELECT count(*) FROM customers") == 2, "no duplicate")
            #expect(try await f.count(f.crm, "SELECT count(*) FROM account WHERE creditlimit = 50") == 1, "coupling copied nothing")
            #expect(try await f.count(f.erp, "SELECT count(*) FROM customers WHERE \"creditLimit\" = 5") == 1, "coupling copied nothing")
        }
    }
}
