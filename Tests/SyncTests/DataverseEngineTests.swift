import DataverseEmulator
import Foundation
import Logging
import ODataConnector
import Postgres
import PostgresTestSupport
import Testing
@testable import Sync

/// An ERP of our own making (integer keys from a sequence, `char(2)` countries, a CHECK) and a CRM
/// behind the Dataverse Web API — the emulator serving a Dataverse-shaped database — synchronized
/// by the engine through the real Dataverse connector over HTTP. What is asserted is what the
/// PostgreSQL-to-PostgreSQL tests assert: both sides agree, nothing echoes, a conflict is left to a
/// person, a refused record fails alone, matching couples without copying, the owner rule holds.
struct DataverseFixture {
    let coordination: PostgresConnection
    let erp: PostgresConnection
    let crm: PostgresConnection
    let dataverse: EmulatedDataverse
    let engine: SyncEngine
    /// The CRM user the ERP's salesperson PS is coupled to.
    let userPS: String

    static let erpSchema = """
        CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.modified_at := now(); RETURN NEW; END $$;
        CREATE TABLE debtor (id serial PRIMARY KEY, name text NOT NULL, country char(2), credit_limit numeric(12,2),
                             salesperson text, modified_at timestamptz NOT NULL DEFAULT now());
        CREATE TRIGGER touch BEFORE UPDATE ON debtor FOR EACH ROW EXECUTE FUNCTION touch();
        """

    static let crmSchema = """
        CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.modifiedon := now(); RETURN NEW; END $$;
        CREATE TABLE systemuser (systemuserid uuid PRIMARY KEY DEFAULT gen_random_uuid(), fullname text NOT NULL,
                                 modifiedon timestamptz NOT NULL DEFAULT now());
        CREATE TABLE team (teamid uuid PRIMARY KEY DEFAULT gen_random_uuid(), name text NOT NULL, modifiedon timestamptz NOT NULL DEFAULT now());
        CREATE TABLE account (accountid uuid PRIMARY KEY DEFAULT gen_random_uuid(), accountnumber text, name text NOT NULL,
                              address1_country text, creditlimit numeric(12,2) CONSTRAINT creditlimit_not_negative CHECK (creditlimit >= 0),
                              ownerid uuid, owneridtype text NOT NULL DEFAULT 'systemuser', modifiedon timestamptz NOT NULL DEFAULT now());
        CREATE TRIGGER stamp BEFORE UPDATE ON account FOR EACH ROW EXECUTE FUNCTION stamp();
        """

    /// The mappings file: DEBTOR both ways, every record (not only coupled ones), conflicts to a person.
    static func mappings(_ dataverse: EmulatedDataverse, updateConflict: String = "fail") -> String {
        let settings = dataverse.settings
        return """
            endpoints:
              - {name: erp}
              - {name: crm, kind: dataverse, url: "\(settings["url"] ?? "")", tenant: \(settings["tenant"] ?? ""),
                 client_id: \(settings["client_id"] ?? ""), authority: "\(settings["authority"] ?? "")"}
            mappings:
              - name: SALESPEOPLE
                direction: from_integration
                local: {endpoint: erp, table: debtor, key: id, modified: modified_at}
                integration: {endpoint: crm, table: systemuser, key: systemuserid, modified: modifiedon}
                fields:
                  - {local: name, integration: fullname}
              - name: DEBTOR
                direction: bidirectional
                sync_only_coupled: false
                update_conflict: \(updateConflict)
                batch_size: 40
                local: {endpoint: erp, table: debtor, key: id, modified: modified_at}
                integration: {endpoint: crm, table: account, key: accountid, modified: modifiedon}
                fields:
                  - {local: id, integration: accountnumber}
                  - {local: name, integration: name, to_integration: trim, from_integration: trim, match_priority: 1}
                  - {local: country, integration: address1_country}
                  - {local: credit_limit, integration: creditlimit, comparison: numeric}
                  - {local: constant, integration: owneridtype, direction: to_integration, constant: systemuser}
                  - {local: salesperson, integration: ownerid, direction: to_integration, to_integration: "lookup(SALESPEOPLE)"}
            """
    }

    static func with(
        updateConflict: String = "fail", configure: (inout DataverseEmulator.Configuration) -> Void = { _ in },
        logger: Logger = Logger(label: "test"), isolation: isolated (any Actor)? = #isolation, _ body: (DataverseFixture) async throws -> Void
    ) async throws {
        try await withMigratedDatabase { _, coordination in
            try await SampleEndpoints.with(erpSchema: erpSchema, crmSchema: crmSchema) { sample in
                let userPS = try await sample.crm.query("INSERT INTO systemuser (fullname) VALUES ('Pat Salesperson') RETURNING systemuserid::text")
                    .single().decode(String.self, at: 0)
                let crmDatabase = try PostgresConfiguration(sample.environment["COUPLET_ENDPOINT_CRM_URL"] ?? "")
                try await EmulatedDataverse.with(crmDatabase, configure: configure) { dataverse in
                    let file = try MappingFile.parse(mappings(dataverse, updateConflict: updateConflict), file: "mappings.yaml")
                    try await MappingStore.apply(file, prune: false, on: coordination)
                    try await coordination.query("INSERT INTO couplet.couplings (mapping, local_id, integration_id) VALUES ('SALESPEOPLE', 'PS', \(userPS))")
                    let endpoints = EndpointDirectory(
                        environment: sample.environment.merging(dataverse.environment) { a, _ in a },
                        connectors: [DataverseConnector(logger: Logger(label: "test"))])
                    try await body(DataverseFixture(
                        coordination: coordination, erp: sample.erp, crm: sample.crm, dataverse: dataverse,
                        engine: SyncEngine(coordination: coordination, endpoints: endpoints, logger: logger), userPS: userPS))
                }
            }
        }
    }

    @discardableResult
    func sync(_ kind: SyncKind = .delta) async throws -> [SyncDirection: SyncCounts] {
        try await engine.run(mapping: "DEBTOR", kind: kind)
    }

    /// Every pair as the two databases hold it: ERP (id, name, country, limit) beside the CRM account coupled to it.
    func pairs() async throws -> [(erp: [String?], crm: [String?])] {
        let couplings = try await coordination.query(
            "SELECT local_id, integration_id FROM couplet.couplings WHERE mapping = 'DEBTOR' ORDER BY local_id::int"
        ).map { try $0.decode((String, String).self) }
        var pairs: [(erp: [String?], crm: [String?])] = []
        for (local, integration) in couplings {
            let erpRow = try await erp.query("SELECT id::text, name, country::text, credit_limit::text FROM debtor WHERE id = \(local)::int")
                .single().decode((String?, String?, String?, String?).self)
            let crmRow = try await crm.query(
                "SELECT accountnumber, name, address1_country, creditlimit::text FROM account WHERE accountid = \(integration)::uuid"
            ).single().decode((String?, String?, String?, String?).self)
            pairs.append(([erpRow.0, erpRow.1, erpRow.2, erpRow.3], [crmRow.0, crmRow.1, crmRow.2, crmRow.3]))
        }
        return pairs
    }

    func count(_ connection: PostgresConnection, _ sql: PostgresQuery) async throws -> Int {
        try await connection.query(sql).single().decode(Int.self, at: 0)
    }
}

@Suite struct DataverseEngineTests {
    @Test("a full sync both ways over the Web API: every record on both sides, equal, keys written back, and a second run writes nothing")
    func fullSyncBothWaysThenNothing() async throws {
        try await DataverseFixture.with { f in
            try await f.erp.runScript(
                """
                INSERT INTO debtor (name, country, credit_limit, salesperson)
                SELECT 'Debtor ' || n, 'DE', n * 10, 'PS' FROM generate_series(1, 95) n
                """, name: "debtors")
            try await f.crm.runScript(
                "INSERT INTO account (name, address1_country, creditlimit) SELECT 'Account ' || n, 'FR', n FROM generate_series(1, 7) n",
                name: "accounts")
            let first = try await f.sync(.full)
            #expect(first[.toIntegration]?.inserted == 95)
            #expect(first[.fromIntegration]?.inserted == 7)
            #expect(first.values.allSatisfy { $0.failed == 0 })
            let pairs = try await f.pairs()
            #expect(pairs.count == 102)
            for pair in pairs {
                #expect(pair.erp[0] == pair.crm[0], "the ERP's number reaches the account")
                #expect(pair.erp[1] == pair.crm[1])
                #expect(pair.erp[2] == pair.crm[2])
                #expect(Decimal(string: pair.erp[3] ?? "x") == Decimal(string: pair.crm[3] ?? "y"))
            }
            #expect(try await f.count(f.crm, "SELECT count(*) FROM account WHERE name LIKE 'Debtor %' AND ownerid = \(f.userPS)::uuid AND owneridtype = 'systemuser'") == 95)
            let second = try await f.sync(.full)
            #expect(second.values.allSatisfy { $0.inserted + $0.modified + $0.failed == 0 }, "nothing echoes: \(second)")
            let delta = try await f.sync(.delta)
            #expect(delta.values.allSatisfy { $0.inserted + $0.modified + $0.failed == 0 }, "\(delta)")
        }
    }

    @Test("deltas carry an edit each way; an edit on both sides is a conflict a person resolves, neither side overwritten")
    func deltasAndConflicts() async throws {
        try await DataverseFixture.with { f in
            try await f.erp.runScript("INSERT INTO debtor (name, country, credit_limit) VALUES ('Alpha', 'DE', 100), ('Beta', 'NL', 200)", name: "debtors")
            try await f.sync(.full)
            try await f.erp.runScript("UPDATE debtor SET country = 'AT' WHERE name = 'Alpha'", name: "erp edit")
            try await f.crm.runScript("UPDATE account SET address1_country = 'BE' WHERE name = 'Beta'", name: "crm edit")
            let delta = try await f.sync()
            #expect(delta[.toIntegration]?.modified == 1)
            #expect(delta[.fromIntegration]?.modified == 1)
            #expect(try await f.count(f.crm, "SELECT count(*) FROM account WHERE name = 'Alpha' AND address1_country = 'AT'") == 1)
            #expect(try await f.count(f.erp, "SELECT count(*) FROM debtor WHERE name = 'Beta' AND country = 'BE'") == 1)

            try await f.erp.runScript("UPDATE debtor SET country = 'PL' WHERE name = 'Alpha'", name: "erp edit")
            try await f.crm.runScript("UPDATE account SET address1_country = 'CZ' WHERE name = 'Alpha'", name: "crm edit")
            let conflict = try await f.sync()
            #expect(conflict.values.map(\.failed).reduce(0, +) >= 1)
            #expect(conflict.values.map(\.modified).reduce(0, +) == 0)
            #expect(try await f.count(f.erp, "SELECT count(*) FROM debtor WHERE name = 'Alpha' AND country = 'PL'") == 1)
            #expect(try await f.count(f.crm, "SELECT count(*) FROM account WHERE name = 'Alpha' AND address1_country = 'CZ'") == 1)
            #expect(try await f.count(f.coordination, "SELECT count(*) FROM couplet.sync_errors WHERE mapping = 'DEBTOR' AND error_class LIKE 'update_conflict%' AND closed_at IS NULL") >= 1)
        }
    }

    @Test("a delta by modified-on reads every change when the service answers smaller pages than asked")
    func smallServicePages() async throws {
        try await DataverseFixture.with(configure: { $0.maximumPageSize = 3 }) { f in
            try await f.crm.runScript(
                "INSERT INTO account (name, address1_country) SELECT 'Account ' || n, 'FR' FROM generate_series(1, 7) n", name: "accounts")
            // The first delta has no delta token yet: it reads by modified-on, in pages of at most 3.
            let delta = try await f.sync(.delta)
            #expect(delta[.fromIntegration]?.inserted == 7, "\(delta)")
            #expect(try await f.count(f.erp, "SELECT count(*) FROM debtor") == 7)
        }
    }

    @Test("a record Dataverse refuses fails alone, naming the column; the others of its batch are written")
    func aRefusedRecordFailsAlone() async throws {
        try await DataverseFixture.with { f in
            try await f.erp.runScript(
                "INSERT INTO debtor (name, country, credit_limit) VALUES ('Good 1', 'DE', 1), ('Negative', 'DE', -5), ('Good 2', 'DE', 2)",
                name: "debtors")
            let counts = try await f.sync(.full)
            #expect(counts[.toIntegration]?.inserted == 2)
            #expect(counts[.toIntegration]?.failed == 1)
            let message = try await f.coordination.query(
                "SELECT record_message FROM couplet.sync_errors WHERE mapping = 'DEBTOR' AND error_class LIKE 'write_refused%'"
            ).single().decode(String.self, at: 0)
            #expect(message.contains("DEBTOR"))
            #expect(message.contains("creditlimit") || message.contains("credit_limit"), "\(message)")
            #expect(try await f.count(f.crm, "SELECT count(*) FROM account") == 2)
        }
    }

    @Test("match-based coupling over the Web API normalises both sides alike and copies nothing")
    func matchCouplesWithoutCopying() async throws {
        try await DataverseFixture.with { f in
            try await f.erp.runScript("INSERT INTO debtor (name, country) VALUES ('Contoso  Ltd', 'DE'), ('Fabrikam', 'DE')", name: "debtors")
            try await f.crm.runScript("INSERT INTO account (name, address1_country) VALUES ('  contoso ltd ', 'FR'), ('Fabrikam', 'DE')", name: "accounts")
            let counts = try await f.engine.run(mapping: "DEBTOR", kind: .match)
            #expect(counts.values.map(\.coupled).reduce(0, +) == 2)
            #expect(try await f.count(f.crm, "SELECT count(*) FROM account") == 2, "no duplicate")
            #expect(try await f.count(f.crm, "SELECT count(*) FROM account WHERE address1_country = 'FR'") == 1, "coupling copied nothing")
            #expect(try await f.count(f.erp, "SELECT count(*) FROM debtor") == 2)
        }
    }
}

@Suite struct DataverseEndpointCheckTests {
    @Test("couplet mappings validate signs in and checks each column against Dataverse's metadata, naming one that does not exist")
    func validateChecksTheMetadata() async throws {
        try await DataverseFixture.with { f in
            let endpoints = EndpointDirectory(
                environment: ["COUPLET_ENDPOINT_ERP_URL": f.erp.configuration.connectionString].merging(f.dataverse.environment) { a, _ in a },
                connectors: [DataverseConnector(logger: Logger(label: "test"))])
            let good = try MappingFile.parse(DataverseFixture.mappings(f.dataverse), file: "mappings.yaml")
            let problems = await MappingEndpointCheck(endpoints: endpoints).problems(in: good)
            #expect(problems.filter { $0.severity == .error }.isEmpty, "\(problems)")
            let wrong = try MappingFile.parse(
                DataverseFixture.mappings(f.dataverse).replacingOccurrences(of: "integration: address1_country", with: "integration: address1_countyr"),
                file: "mappings.yaml")
            let found = await MappingEndpointCheck(endpoints: endpoints).problems(in: wrong)
            #expect(found.contains { $0.severity == .error && $0.description.contains("address1_countyr") }, "\(found)")
        }
    }

    @Test("the documented Dataverse endpoint reads as a dataverse endpoint with its settings, and a secret in the file is refused")
    func documentedEndpoint() throws {
        let block = try #require(
            try DocumentationPage.named("docs/connectors.md").codeBlocks.first { $0.marker == "dataverse-endpoint-example" })
        let file = try MappingFile.parse(block.text + "\nmappings: []\n", file: "docs/connectors.md")
        let crm = try #require(file.endpoint("crm"))
        #expect(crm.kind == "dataverse")
        #expect(crm.settings == [
            "url": "https://contoso.crm4.dynamics.com", "tenant": "contoso.onmicrosoft.com", "client_id": "11111111-2222-3333-4444-555555555555",
        ])
        #expect(throws: (any Error).self) {
            try MappingFile.parse(block.text + "\n    client_secret: hunter2\nmappings: []\n", file: "x.yaml")
        }
        #expect(throws: (any Error).self) {
            try MappingFile.parse(block.text.replacingOccurrences(of: "https://contoso", with: "http://contoso") + "\nmappings: []\n", file: "x.yaml")
        }
    }
}
