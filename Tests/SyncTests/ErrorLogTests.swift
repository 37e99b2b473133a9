import Foundation
import Postgres
import PostgresTestSupport
import Testing

@testable import Sync

extension SyncFixture {
    /// A SALESPEOPLE mapping with only PS coupled, and a salesperson_code field on CUSTOMER (to the
    /// integration) that looks the salesperson up in it: a customer of another salesperson waits.
    func addSalespersonLookup() async throws {
        try await addCustomerMapping(direction: "to_integration")
        try await coordination.runScript(SampleTables.salespersonLookup(crmKey: crmEndpoint.key, crmModified: crmEndpoint.modified), name: "salespeople")
    }

    /// Couples salesperson `code` in SALESPEOPLE, so the customers waiting for it can sync.
    func coupleSalesperson(_ code: String) async throws {
        try await coordination.query(
            "INSERT INTO couplet.couplings (mapping, local_id, integration_id) VALUES ('SALESPEOPLE', \(code), \("user-" + code))")
    }

    /// The error log's rows of record `id`: class, occurrences and why it closed (nil: open), oldest first.
    func errorRows(of id: String) async throws -> [(errorClass: String, occurrences: Int, closedReason: String?)] {
        try await coordination.query(
            "SELECT error_class, occurrences, closed_reason FROM couplet.sync_errors WHERE local_id = \(id) ORDER BY id"
        ).map { try $0.decode((String, Int, String?).self) }
    }

    /// `couplet.sync_health`'s open errors and errors seen in the last 24 hours of CUSTOMER.
    func errorHealth() async throws -> (open: Int, last24Hours: Int) {
        try await coordination.query("SELECT open_errors, errors_last_24h FROM couplet.sync_health WHERE mapping = 'CUSTOMER'")
            .single().decode((Int, Int).self)
    }
}

/// How many delta runs the soak makes: 30, or one every 10 seconds for `COUPLET_SOAK_SECONDS`.
private var soakRuns: (count: Int, pause: Duration) {
    guard let seconds = ProcessInfo.processInfo.environment["COUPLET_SOAK_SECONDS"].flatMap(Int.init), seconds >= 10 else {
        return (30, .zero)
    }
    return (seconds / 10, .seconds(10))
}

@Suite("The sync error log: one open error per record and failure class")
struct ErrorLogTests {
    @Test("a soak of delta runs with records waiting for a reference leaves one open error per record, counted once per run")
    func soak() async throws {
        try await SyncFixture.with { f in
            try await f.addSalespersonLookup()
            try await f.erp.runScript(
                "INSERT INTO customer (no, name, salesperson_code) VALUES ('1', 'a', 'JR'), ('2', 'b', 'JR'), ('3', 'c', 'RM'), ('4', 'd', 'PS')",
                name: "customers")
            let (runs, pause) = soakRuns
            for _ in 1...runs {
                #expect(try await f.sync()[.toIntegration]?.failed == 3)
                try await Task.sleep(for: pause)
            }
            let rows = try await f.coordination.query(
                """
                SELECT local_id, error_class, occurrences, last_run_id - first_run_id, closed_at IS NULL
                FROM couplet.sync_errors ORDER BY local_id
                """).map { try $0.decode((String, String, Int, Int64, Bool).self) }
            #expect(rows.map(\.0) == ["1", "2", "3"], "one row per waiting record, not one per run")
            #expect(rows.allSatisfy { $0.1 == "uncoupled_reference:salesperson_code" && $0.2 == runs && $0.4 })
            #expect(rows.allSatisfy { $0.3 > 0 }, "first and last run differ")
            #expect(try await f.errorHealth() == (3, 3))
        }
    }

    @Test("a record that syncs closes its open errors by itself; they stay as history and in the last 24 hours")
    func syncingCloses() async throws {
        try await SyncFixture.with { f in
            try await f.addSalespersonLookup()
            try await f.erp.runScript("INSERT INTO customer (no, name, salesperson_code) VALUES ('1', 'a', 'JR')", name: "one")
            try await f.sync(.full)
            try await f.sync()
            try await f.coupleSalesperson("JR")
            #expect(try await f.sync()[.toIntegration]?.inserted == 1)
            let rows = try await f.errorRows(of: "1")
            #expect(rows.map { "\($0.errorClass) \($0.occurrences) \($0.closedReason ?? "open")" } == ["uncoupled_reference:salesperson_code 2 synced"])
            #expect(try await f.errorHealth() == (0, 1))
            #expect(try await ErrorLog.openGroups(on: f.coordination).isEmpty)
        }
    }

    @Test("a record failing another way gets a second row and the first closes as superseded; coupled, its update failure closes when fixed")
    func twoClasses() async throws {
        try await SyncFixture.with { f in
            try await f.addSalespersonLookup()
            try await f.erp.runScript(
                "INSERT INTO customer (no, name, salesperson_code, credit_limit) VALUES ('1', 'a', 'JR', 'lots')", name: "one")
            try await f.sync(.full)
            try await f.coupleSalesperson("JR")
            #expect(try await f.sync()[.toIntegration]?.failed == 1)
            #expect(try await f.errorRows(of: "1").map { "\($0.errorClass) \($0.closedReason ?? "open")" }
                == ["uncoupled_reference:salesperson_code superseded", "write_refused:22P02:credit_limit open"])
            try await f.erp.query("UPDATE customer SET credit_limit = '10' WHERE no = '1'")
            #expect(try await f.sync()[.toIntegration]?.inserted == 1)
            #expect(try await f.errorRows(of: "1").map(\.closedReason) == ["superseded", "synced"])
        }
    }

    @Test("a deleted record's error closes when its coupling is removed (uncoupled) or its counterpart deleted with it (deleted)")
    func uncouplingCloses() async throws {
        try await SyncFixture.with { f in
            try await f.addCustomerMapping(direction: "to_integration")
            try await f.erp.runScript("INSERT INTO customer (no, name) VALUES ('1', 'a'), ('2', 'b')", name: "two")
            try await f.sync(.full)
            try await f.erp.runScript("DELETE FROM customer WHERE no = '1'", name: "delete one")
            #expect(try await f.sync(.full)[.toIntegration]?.failed == 1)
            try await f.coordination.query("UPDATE couplet.table_mappings SET deletion_conflict = 'remove_coupling'")
            #expect(try await f.sync(.full)[.toIntegration]?.uncoupled == 1)
            #expect(try await f.errorRows(of: "1").map { "\($0.errorClass) \($0.closedReason ?? "open")" } == ["deleted_counterpart uncoupled"])

            try await f.coordination.query("UPDATE couplet.table_mappings SET deletion_conflict = 'fail'")
            try await f.erp.runScript("DELETE FROM customer WHERE no = '2'", name: "delete two")
            #expect(try await f.sync(.full)[.toIntegration]?.failed == 1)
            try await f.coordination.query("UPDATE couplet.table_mappings SET deletion_conflict = 'propagate'")
            #expect(try await f.sync(.full)[.toIntegration]?.deleted == 1)
            #expect(try await f.errorRows(of: "2").map(\.closedReason) == ["deleted"])
            #expect(try await f.errorHealth().open == 0)
        }
    }

    @Test("messages group: one line per kind with its records, the record's own text beside it; couplet errors' groups agree")
    func messagesGroup() async throws {
        try await SyncFixture.with { f in
            try await f.addSalespersonLookup()
            try await f.erp.runScript(
                """
                INSERT INTO customer (no, name, salesperson_code, credit_limit)
                VALUES ('1', 'a', 'JR', '1'), ('2', 'b', 'RM', '1'), ('3', 'c', 'JR', '1'), ('4', 'd', 'PS', 'lots'), ('5', 'e', 'PS', 'many')
                """, name: "customers")
            try await f.sync(.full)
            try await f.sync()
            let kinds = try await f.coordination.query(
                "SELECT message, count(*) FROM couplet.sync_errors WHERE closed_at IS NULL GROUP BY 1 ORDER BY 2 DESC"
            ).map { try $0.decode((String, Int).self) }
            #expect(kinds.map(\.1) == [3, 2], "\(kinds)")
            #expect(kinds.allSatisfy { !$0.0.contains("customer 1") && !$0.0.contains("\"JR\"") && !$0.0.contains("lots") })
            #expect(kinds.first?.0.contains("its salesperson_code is not coupled in mapping SALESPEOPLE. Couple that record in SALESPEOPLE") == true)
            let own = try await f.errorRows(of: "2")
            #expect(own.count == 1)
            let recordMessage = try await f.coordination.query("SELECT record_message FROM couplet.sync_errors WHERE local_id = '2'")
                .single().decode(String.self, at: 0)
            #expect(recordMessage.contains("customer 2") && recordMessage.contains("\"RM\""), "\(recordMessage)")

            let groups = try await ErrorLog.openGroups(ErrorLog.Filter(mapping: "CUSTOMER"), examples: 2, on: f.coordination)
            #expect(groups.map { "\($0.failureClass) \($0.records) \($0.occurrences) \($0.examples.count)" }
                == ["uncoupled_reference:salesperson_code 3 6 2", "write_refused:22P02:credit_limit 2 4 2"])
            #expect(groups.first?.examples.map(\.localID) == ["1", "2"], "those failing longest first")
            let byKind = try await ErrorLog.openGroups(ErrorLog.Filter(failureClass: "write_refused"), on: f.coordination)
            #expect(byKind.map(\.records) == [2])
            let byRecord = try await ErrorLog.openGroups(ErrorLog.Filter(record: "3"), on: f.coordination)
            #expect(byRecord.map { "\($0.records) \($0.examples.map(\.localID))" } == ["1 [Optional(\"3\")]"])
        }
    }
}
