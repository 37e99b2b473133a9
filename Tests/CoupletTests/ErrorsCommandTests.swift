import Foundation
import Postgres
import PostgresTestSupport
import Testing

/// CUSTOMER's error log: four records waiting for a salesperson (seen by 30 runs, the oldest first
/// seen an hour ago), one refused write, and one error closed when its record synced.
private let errorLog = """
    INSERT INTO couplet.sync_runs (mapping, kind, direction, state, finished_at) VALUES ('CUSTOMER', 'delta', 'to_integration', 'succeeded', now());
    INSERT INTO couplet.sync_errors (first_run_id, last_run_id, mapping, direction, local_id, error_class, message, record_message,
                                     occurrences, first_seen_at)
    SELECT r.id, r.id, 'CUSTOMER', 'to_integration', e.local_id, e.error_class, e.message, e.record_message, e.occurrences,
           now() - e.age
    FROM couplet.sync_runs r, (VALUES
        ('C1', 'uncoupled_reference:salesperson_code', 'the customer record cannot be synchronized by mapping CUSTOMER: its salesperson_code is not coupled in mapping SALESPEOPLE. Couple that record in SALESPEOPLE, then run CUSTOMER again.', 'customer C1 … "RM" …', 30, interval '1 hour'),
        ('C2', 'uncoupled_reference:salesperson_code', 'the customer record cannot be synchronized by mapping CUSTOMER: its salesperson_code is not coupled in mapping SALESPEOPLE. Couple that record in SALESPEOPLE, then run CUSTOMER again.', 'customer C2 … "RM" …', 30, interval '50 minutes'),
        ('C3', 'uncoupled_reference:salesperson_code', 'the customer record cannot be synchronized by mapping CUSTOMER: its salesperson_code is not coupled in mapping SALESPEOPLE. Couple that record in SALESPEOPLE, then run CUSTOMER again.', 'customer C3 … "JR" …', 30, interval '40 minutes'),
        ('C4', 'uncoupled_reference:salesperson_code', 'the customer record cannot be synchronized by mapping CUSTOMER: its salesperson_code is not coupled in mapping SALESPEOPLE. Couple that record in SALESPEOPLE, then run CUSTOMER again.', 'customer C4 … "JR" …', 30, interval '30 minutes'),
        ('C7', 'write_refused:22P02:credit_limit', 'Mapping CUSTOMER could not write the customer record to a new account record: account refused column credit_limit. Correct credit_limit on the customer record, then run CUSTOMER again.', 'customer C7 … credit_limit …', 2, interval '5 minutes'),
        ('C9', 'write_refused:22P02:credit_limit', 'closed', 'customer C9', 1, interval '5 minutes')
    ) AS e(local_id, error_class, message, record_message, occurrences, age);
    UPDATE couplet.sync_errors SET closed_at = now(), closed_reason = 'synced' WHERE local_id = 'C9';
    """

@Suite("couplet errors, as a process")
struct ErrorsCommandTests {
    @Test("errors prints one block per class with counts, a few records and what to do; --class and --record narrow it")
    func groups() async throws {
        try await withMigratedDatabase { database, db in
            _ = try await db.seedIntegration()
            try await db.runScript(errorLog, name: "error log")
            let environment = ["COUPLET_DATABASE_URL": database.configuration.connectionString]
            let all = try await CoupletProcess.run(["errors", "CUSTOMER"], environment: environment)
            #expect(all.status == 0, "\(all.standardError)")
            let output = all.standardOutput
            #expect(output.hasPrefix("5 open error(s) (mapping CUSTOMER) in 2 class(es).\n"), "\(output)")
            #expect(output.contains("CUSTOMER to_integration  uncoupled_reference:salesperson_code  4 record(s), 120 occurrence(s) in runs, first seen 1h"))
            #expect(output.contains("  the customer record cannot be synchronized by mapping CUSTOMER: its salesperson_code is not coupled"))
            #expect(output.contains("    - customer C1 … \"RM\" … (30 run(s))\n    - customer C2 … \"RM\" … (30 run(s))\n    - customer C3"))
            #expect(!output.contains("customer C4"), "three records per class")
            #expect(output.contains("    … and 1 more: couplet errors CUSTOMER --class uncoupled_reference:salesperson_code --examples 4"))
            #expect(output.contains("write_refused:22P02:credit_limit  1 record(s), 2 occurrence(s)"))
            #expect(!output.contains("C9"), "closed errors are history, not shown")

            let refused = try await CoupletProcess.run(["errors", "--class", "write_refused"], environment: environment)
            #expect(refused.standardOutput.hasPrefix("1 open error(s) (class write_refused) in 1 class(es)."), "\(refused.standardOutput)")
            let one = try await CoupletProcess.run(["errors", "--record", "C4"], environment: environment)
            #expect(one.standardOutput.contains("- customer C4 … \"JR\" … (30 run(s))"), "\(one.standardOutput)")
            let none = try await CoupletProcess.run(["errors", "--record", "C9"], environment: environment)
            #expect(none.standardOutput == "No open errors (record C9).\n")
        }
    }

    @Test("status and mappings show give the same open-error count and point at couplet errors")
    func sameNumbers() async throws {
        try await withMigratedDatabase { database, db in
            _ = try await db.seedIntegration()
            try await db.runScript(errorLog, name: "error log")
            let environment = ["COUPLET_DATABASE_URL": database.configuration.connectionString]
            let status = try await CoupletProcess.run(["status"], environment: environment).standardOutput
            #expect(status.contains("! CUSTOMER: 5 open error(s): records failing now, one per record and kind\n      next: couplet errors CUSTOMER"), "\(status)")
            let customer = try #require(lines(status).first { $0.hasPrefix("  CUSTOMER") })
            #expect(customer.split(separator: " ").suffix(4).first == "5", "the OPEN ERRORS column: \(customer)")
            let show = try await CoupletProcess.run(["mappings", "show", "CUSTOMER"], environment: environment).standardOutput
            #expect(show.contains("open errors") && show.contains("5: couplet errors CUSTOMER"), "\(show)")
            #expect(lines(show).contains { $0.contains("errors in 24h") && $0.hasSuffix("6") }, "the closed one was seen today too")
        }
    }
}
