import CoupletSchema
import Foundation
import Postgres
import PostgresTestSupport
import Testing

private let mappingsYAML = """
    endpoints:
      - name: erp
      - name: crm
    mappings:
      - name: CUSTOMER
        local: {endpoint: erp, table: customer, key: no, modified: modified_at}
        integration: {endpoint: crm, table: account, key: id, modified: modified_at}
        fields:
          - {local: no, integration: account_number}
          - {local: name, integration: name, to_integration: trim, from_integration: trim}
          - {local: credit_limit, integration: credit_limit}
    """

private let creditLimitWarning = "11:44: warning: mapping CUSTOMER, local column customer.credit_limit → integration column account.credit_limit "
    + "(to_integration): text values go into a column of type numeric(12,2): a value that is not a valid numeric fails its record"

/// A coordination database (migrated) and ERP and CRM databases with a customer and an account
/// table, and the environment that names them.
private func withMappingDatabases(
    isolation: isolated (any Actor)? = #isolation, _ body: ([String: String], PostgresConnection) async throws -> Void
) async throws {
    try await withMigratedDatabase { coordination, db in
        try await TestDatabase.with { erp in
            try await TestDatabase.with { crm in
                try await run("CREATE TABLE customer (no text PRIMARY KEY, name text, credit_limit text, modified_at timestamptz NOT NULL)", on: erp)
                try await run("""
                    CREATE TABLE account (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), account_number text, name text,
                                          credit_limit numeric(12, 2), modified_at timestamptz NOT NULL)
                    """, on: crm)
                try await body([
                    "COUPLET_DATABASE_URL": coordination.configuration.connectionString,
                    "COUPLET_ENDPOINT_ERP_URL": erp.configuration.connectionString,
                    "COUPLET_ENDPOINT_CRM_URL": crm.configuration.connectionString,
                ], db)
            }
        }
    }
}

private func run(_ sql: String, on database: TestDatabase) async throws {
    let connection = try await database.connect()
    defer { connection.close() }
    try await connection.runScript(sql, name: "endpoint schema")
}

private func count(_ sql: PostgresQuery, on db: PostgresConnection) async throws -> Int {
    try await db.query(sql).single().decode(Int.self, at: 0)
}

@Suite("couplet mappings validate, apply, list and show, as processes")
struct MappingsCommandTests {
    @Test("validate checks the file and the endpoints; without a coordination database it says what it could not check")
    func validateGood() async throws {
        try await withMappingDatabases { environment, _ in
            let file = try temporaryFile(mappingsYAML, name: "mappings.yaml")
            var endpointsOnly = environment
            endpointsOnly["COUPLET_DATABASE_URL"] = nil
            let outcome = try await CoupletProcess.run(["mappings", "validate", file], environment: endpointsOnly)
            #expect(outcome.status == 0, "\(outcome.standardError)")
            #expect(lines(outcome.standardError) == ["\(file):\(creditLimitWarning)"])
            #expect(outcome.standardOutput == "\(file): 2 endpoint(s) and 1 mapping(s) valid, 1 warning(s) "
                + "(lookups and depends_on checked against this file only: no coordination database given).\n")

            let withStore = try await CoupletProcess.run(["mappings", "validate", file], environment: environment)
            #expect(withStore.status == 0)
            #expect(withStore.standardOutput == "\(file): 2 endpoint(s) and 1 mapping(s) valid, 1 warning(s).\n")
        }
    }

    @Test("validate prints every problem of the file as file:line:column and fails before connecting")
    func validateBadFile() async throws {
        let file = try temporaryFile(
            mappingsYAML.replacingOccurrences(of: "to_integration: trim", with: "to_integration: \"trim |\"")
                .replacingOccurrences(of: "  - name: CUSTOMER\n", with: "  - name: CUSTOMER\n    depends_on: [CUSTOMER]\n")
                .replacingOccurrences(of: "modified: modified_at}\n    integration", with: "modified: modified_at, filter: \"lower(name) = 'x'\"}\n    integration"),
            name: "mappings.yaml")
        let outcome = try await CoupletProcess.run(["mappings", "validate", file])
        #expect(outcome.status == 1)
        #expect(outcome.standardOutput.isEmpty)
        #expect(lines(outcome.standardError) == [
            "\(file):6:18: dependency cycle: CUSTOMER → CUSTOMER; a mapping runs only after the ones it depends on",
            "\(file):7:91: filter: functions are not part of the filter grammar: compare the column itself",
            "\(file):11:65: to_integration: expected a rule name, found the end of the text (at character 7)",
            "\(file): 3 error(s).",
        ])
    }

    @Test("apply refuses a file the endpoints contradict, and writes nothing")
    func applyRefused() async throws {
        try await withMappingDatabases { environment, db in
            let file = try temporaryFile(mappingsYAML.replacingOccurrences(of: "{local: no, integration: account_number}", with: "{local: no, integration: number}"))
            let outcome = try await CoupletProcess.run(["mappings", "apply", file], environment: environment)
            #expect(outcome.status == 1)
            #expect(lines(outcome.standardError) == [
                "\(file):9:34: mapping CUSTOMER, integration side (crm account), column number: no such column "
                    + "(account has id, account_number, name, credit_limit, modified_at)",
                "\(file):\(creditLimitWarning)",
                "\(file): 1 error(s), 1 warning(s); nothing was written.",
            ])
            #expect(try await count("SELECT count(*) FROM couplet.table_mappings", on: db) == 0)
            #expect(try await count("SELECT count(*) FROM couplet.endpoints", on: db) == 0)
        }
    }

    @Test("apply: dry run, create, unchanged, a side change that resets a watermark, prune; list and show read back")
    func applyListShow() async throws {
        try await withMappingDatabases { environment, db in
            func couplet(_ arguments: String...) async throws -> CoupletProcess.Outcome {
                try await CoupletProcess.run(arguments, environment: environment)
            }
            let file = try temporaryFile(mappingsYAML, name: "mappings.yaml")
            let dryRun = try await couplet("mappings", "apply", file, "--dry-run")
            #expect(dryRun.status == 0, "\(dryRun.standardError)")
            #expect(lines(dryRun.standardOutput) == [
                "would create endpoint erp", "would create endpoint crm", "would create          CUSTOMER",
                "\(file) (dry run, nothing written): mappings 1 created, 0 updated, 0 unchanged, 0 deleted; "
                    + "endpoints 2 created, 0 updated, 0 unchanged, 0 deleted.",
            ])
            #expect(try await count("SELECT count(*) FROM couplet.table_mappings", on: db) == 0)

            let applied = try await couplet("mappings", "apply", file)
            #expect(lines(applied.standardOutput) == [
                "created endpoint      erp", "created endpoint      crm", "created               CUSTOMER",
                "\(file): mappings 1 created, 0 updated, 0 unchanged, 0 deleted; endpoints 2 created, 0 updated, 0 unchanged, 0 deleted.",
            ])
            let again = try await couplet("mappings", "apply", file)
            #expect(lines(again.standardOutput) == [
                "\(file): mappings 0 created, 0 updated, 1 unchanged, 0 deleted; endpoints 0 created, 0 updated, 2 unchanged, 0 deleted.",
            ])

            let list = try await couplet("mappings", "list")
            #expect(list.status == 0, "\(list.standardError)")
            #expect(lines(list.standardOutput) == [
                "NAME      DIRECTION      ENABLED  LOCAL         INTEGRATION  FIELDS  LAST FULL  LAST DELTA  OPEN ERRORS  COUPLINGS",
                "CUSTOMER  bidirectional  yes      erp customer  crm account  3       -          -           0            0",
            ])

            try await db.runScript(
                """
                UPDATE couplet.table_mappings SET local_watermark = '2025-06-01T10:00:00Z', integration_watermark = '2025-06-01T11:00:00Z';
                INSERT INTO couplet.sync_runs (mapping, kind, direction, state, finished_at, inserted, message)
                VALUES ('CUSTOMER', 'full', 'to_integration', 'succeeded', now(), 2, NULL);
                """, name: "a run")
            let show = try await couplet("mappings", "show", "CUSTOMER")
            #expect(show.status == 0, "\(show.standardError)")
            let shown = lines(show.standardOutput)
            #expect(shown.prefix(3) == [
                "Mapping CUSTOMER: bidirectional",
                "local             erp customer  key no  modified modified_at  watermark 2025-06-01T10:00:00Z",
                "integration       crm account  key id  modified modified_at  watermark 2025-06-01T11:00:00Z",
            ])
            #expect(shown.contains("  1  no            account_number  bidirectional  -               -                 -         -"))
            #expect(shown.contains("  2  name          name            bidirectional  trim            trim              -         -"))
            #expect(shown.contains { $0.hasPrefix("  last full         succeeded ") })
            #expect(shown.contains { $0.contains("full  to_integration  succeeded  2    0    0    0     0     0     -") })

            let moved = try temporaryFile(mappingsYAML.replacingOccurrences(of: "table: customer, key: no", with: "table: client, key: no"))
            try await run("CREATE TABLE client (LIKE customer)", environment: environment)
            let reset = try await couplet("mappings", "apply", moved, "--dry-run")
            #expect(reset.status == 0, "\(reset.standardError)")
            #expect(lines(reset.standardOutput).prefix(2) == [
                "would update          CUSTOMER",
                "  would reset the local watermark of CUSTOMER (was 2025-06-01T10:00:00Z): table customer → client; "
                    + "the next delta reads every record on that side",
            ])

            let emptied = try temporaryFile("endpoints: []\nmappings: []\n")
            let kept = try await couplet("mappings", "apply", emptied)
            #expect(lines(kept.standardOutput).last == "Kept 1 stored mapping(s) not in \(emptied) (--prune deletes them): CUSTOMER")
            let pruned = try await couplet("mappings", "apply", emptied, "--prune")
            #expect(lines(pruned.standardOutput).prefix(3) == ["deleted               CUSTOMER", "deleted endpoint      crm", "deleted endpoint      erp"])
            let none = try await couplet("mappings", "list")
            #expect(none.standardOutput == "No mappings. Apply a mappings file with: couplet mappings apply FILE\n")
        }
    }

    @Test("show names a mapping that does not exist, and fails")
    func showUnknown() async throws {
        try await withMigratedDatabase { database, _ in
            let outcome = try await CoupletProcess.run(
                ["mappings", "show", "NOPE"], environment: ["COUPLET_DATABASE_URL": database.configuration.connectionString])
            #expect(outcome.status == 1)
            #expect(outcome.standardError == "Error: there is no mapping \"NOPE\"; couplet mappings list shows the stored ones\n")
        }
    }
}

/// Runs `sql` on the ERP endpoint named in `environment`.
private func run(_ sql: String, environment: [String: String]) async throws {
    let connection = try await PostgresConnection.connect(try PostgresConfiguration(environment["COUPLET_ENDPOINT_ERP_URL"]!))
    defer { connection.close() }
    try await connection.runScript(sql, name: "erp change")
}
