import Foundation
import Postgres
import PostgresTestSupport
import Testing

@Suite("couplet verify as a process", .serialized)
struct VerifyProcessTests {
    @Test("couplet verify exits 2 on drift a full sync counts unchanged, lists the pair; --repair brings it in step; then 0")
    func verifyRepairAndCompare() async throws {
        try await SyncProcessFixture.with(customers: 30) { f in
            let worker = try CoupletProcess.start(["worker", "--queues", "sync"], environment: f.environment)
            let first = try await CoupletProcess.run(["sync", "CUSTOMER", "--full", "--compare"], environment: f.environment)
            #expect(first.status == 0, "\(first.standardOutput)\(first.standardError)")
            #expect(first.standardOutput.contains("CUSTOMER: 30 coupled pairs checked: 30 in step, 0 differ"), "\(first.standardOutput)")

            try await f.crm.runScript(
                """
                ALTER TABLE account DISABLE TRIGGER touch;
                UPDATE account SET name = 'Drifted' WHERE account_number = '7';
                ALTER TABLE account ENABLE TRIGGER touch;
                """, name: "drift")
            let account = try await f.crm.query("SELECT id::text FROM account WHERE account_number = '7'").single().decode(String.self, at: 0)
            let pairLine = "  CUSTOMER 7 ↔ \(account): differs: name → name"

            let compared = try await CoupletProcess.run(["sync", "CUSTOMER", "--full", "--compare"], environment: f.environment)
            #expect(compared.status == 2, "\(compared.standardError)")
            #expect(compared.standardOutput.contains("30 unchanged"), "the full sync is blind to the drift: \(compared.standardOutput)")
            #expect(compared.standardOutput.contains("29 in step, 1 differ, 0 pending, 0 orphaned"), "\(compared.standardOutput)")

            let found = try await CoupletProcess.run(["verify", "CUSTOMER"], environment: f.environment)
            #expect(found.status == 2, "\(found.standardError)")
            let lines = found.standardOutput.split(separator: "\n").map(String.init)
            #expect(lines == [
                "CUSTOMER: 30 coupled pairs checked: 29 in step, 1 differ, 0 pending, 0 orphaned, 0 outside the filter, 0 not comparable. "
                    + "Uncoupled records not checked: the mapping has no match fields.",
                pairLine,
            ], "\(found.standardOutput)")
            let limited = try await CoupletProcess.run(["verify", "CUSTOMER", "--limit", "0"], environment: f.environment)
            #expect(limited.status == 2 && limited.standardOutput.contains("(the first 0 of 1 listed)"), "\(limited.standardOutput)")
            let cron = try await CoupletProcess.run(["verify", "CUSTOMER", "--limit", "20"], environment: f.environment)
            #expect(cron.status == 2 && cron.standardOutput.contains(pairLine), "\(cron.standardOutput)")

            let repaired = try await CoupletProcess.run(["verify", "CUSTOMER", "--repair"], environment: f.environment)
            #expect(repaired.status == 0, "\(repaired.standardOutput)\(repaired.standardError)")
            #expect(repaired.standardOutput.contains(pairLine + " [repaired]"), "\(repaired.standardOutput)")
            #expect(repaired.standardOutput.contains("Repair: 1 brought in step, 0 conflicts left for a person, 0 still out of step."))
            #expect(try await f.crm.query("SELECT name FROM account WHERE account_number = '7'").single().decode(String.self, at: 0) == "Customer 7")

            let after = try await CoupletProcess.run(["verify", "CUSTOMER"], environment: f.environment)
            #expect(after.status == 0 && after.standardOutput.contains("30 in step, 0 differ"), "\(after.standardOutput)")

            // Match by name: an uncoupled customer and account that would couple, and two accounts sharing a name.
            try await f.coordination.runScript(
                "UPDATE couplet.field_mappings SET match_priority = 1 WHERE mapping = 'CUSTOMER' AND local_field = 'name'", name: "match")
            try await f.erp.runScript("INSERT INTO customer (no, name) VALUES ('100', ' New   Customer')", name: "new customer")
            try await f.crm.runScript(
                "INSERT INTO account (name) VALUES ('new customer'), ('Twin'), ('twin ')", name: "new accounts")
            let newAccount = try await f.crm.query("SELECT id::text FROM account WHERE name = 'new customer'").single().decode(String.self, at: 0)
            let twins = try await f.crm.query("SELECT id::text FROM account WHERE lower(btrim(name)) = 'twin' ORDER BY id").map { try $0.decode(String.self, at: 0) }
            let uncoupled = try await CoupletProcess.run(["verify", "CUSTOMER"], environment: f.environment)
            #expect(uncoupled.status == 2, "would-match and duplicates are problems: \(uncoupled.standardError)")
            #expect(uncoupled.standardOutput.split(separator: "\n").map(String.init) == [
                "CUSTOMER: 30 coupled pairs checked: 30 in step, 0 differ, 0 pending, 0 orphaned, 0 outside the filter, 0 not comparable. "
                    + "Uncoupled records: 1 checked, 1 would couple by match; 1 group of duplicates.",
                "  CUSTOMER local 100: uncoupled, would couple by match with integration \(newAccount): run couplet match CUSTOMER, or a full sync",
                "  CUSTOMER integration duplicates: 2 records share name \"twin\" (\(twins.joined(separator: ", "))): "
                    + "matching refuses them; make the values distinct or couple by hand",
            ], "\(uncoupled.standardOutput)")
            let matched = try await CoupletProcess.run(["match", "CUSTOMER", "--wait"], environment: f.environment)
            #expect(matched.status == 0, "\(matched.standardOutput)\(matched.standardError)")
            let afterMatch = try await CoupletProcess.run(["verify", "CUSTOMER", "--limit", "0"], environment: f.environment)
            #expect(afterMatch.standardOutput.contains("31 coupled pairs checked"), "\(afterMatch.standardOutput)")
            #expect(afterMatch.standardOutput.contains("Uncoupled records: 0 checked, 0 would couple by match; 1 group of duplicates (the first 0 of 1 listed)."),
                    "\(afterMatch.standardOutput)")
            #expect(afterMatch.status == 2, "the twins remain")

            let missing = try await CoupletProcess.run(["verify", "NOPE"], environment: f.environment)
            #expect(missing.status == 1 && missing.standardError.contains("there is no mapping \"NOPE\""), "\(missing.standardError)")
            worker.terminate()
            #expect(try await worker.waitForExit().status == 0)
        }
    }

    @Test("couplet bench verify seeds coupled pairs, finds exactly the drifted ones, and reports its rate beside the COPY pipe")
    func bench() async throws {
        let server = try #require(ProcessInfo.processInfo.environment["COUPLET_TEST_DATABASE_URL"])
        let outcome = try await CoupletProcess.run(
            ["bench", "verify", "--rows", "2000", "--drifted", "10", "--json"], environment: ["COUPLET_DATABASE_URL": server])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        let figures = try JSONSerialization.jsonObject(with: Data(outcome.standardOutput.utf8)) as? [String: Any]
        #expect(figures?["rows"] as? Int == 2000)
        #expect((figures?["verify_rows_per_s"] as? Double ?? 0) > 0 && (figures?["baseline_copy_rows_per_s"] as? Double ?? 0) > 0)
        #expect((figures?["summary"] as? String)?.contains("2000 coupled pairs checked: 1990 in step, 10 differ") == true, "\(outcome.standardOutput)")
    }
}
