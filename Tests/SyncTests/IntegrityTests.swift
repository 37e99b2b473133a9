import Foundation
import Logging
import Postgres
import PostgresTestSupport
import Testing

@testable import Sync

/// `OwnSchemaTables`' ERP and CRM, unlike the demo's. The DEBTOR mapping pairs `debtor.id ↔ client.number` (the ERP assigns the
/// number), names trimmed on the way to the ERP. The CRM is a PostgreSQL endpoint or, for a test that asks, behind the Dataverse
/// emulator (`CRMService`): the test's SQL on `client` reads and writes the same records either way.
struct OwnSchemaFixture {
    /// The coordination database, for processes' own connections.
    let database: TestDatabase
    let coordination: PostgresConnection
    let erp: PostgresConnection
    let crm: PostgresConnection
    /// How the engine reaches both endpoints, and the CRM's key and modified-on columns.
    let crmEndpoint: CRMService.Endpoint
    var endpoints: EndpointDirectory { crmEndpoint.endpoints }

    static func with(
        crm service: CRMService = .postgres,
        isolation: isolated (any Actor)? = #isolation, _ body: (OwnSchemaFixture) async throws -> Void
    ) async throws {
        try await withMigratedDatabase { database, coordination in
            let crmSchema = service == .dataverse ? OwnSchemaTables.dataverseCRM : OwnSchemaTables.crm
            try await SampleEndpoints.with(erpSchema: OwnSchemaTables.erp, crmSchema: crmSchema) { sample in
                try await service.serve(sample, table: "client", coordination: coordination) { crm in
                    try await body(OwnSchemaFixture(
                        database: database, coordination: coordination, erp: sample.erp, crm: sample.crm, crmEndpoint: crm))
                }
            }
        }
    }

    /// The DEBTOR mapping; `match` names a field (`name`, `id`) used for match-based coupling.
    func addMapping(
        direction: String = "bidirectional", updateConflict: String = "fail", deletionConflict: String = "fail",
        match: String? = nil, batchSize: Int = 1000
    ) async throws {
        let statements = OwnSchemaTables.debtorMapping(
            direction: direction, updateConflict: updateConflict, deletionConflict: deletionConflict, match: match, batchSize: batchSize,
            crmKey: crmEndpoint.key, crmModified: crmEndpoint.modified)
        for statement in statements { try await coordination.query(statement) }
    }

    @discardableResult
    func sync(_ kind: SyncKind = .delta, records: ChosenRecords? = nil) async throws -> [SyncDirection: SyncCounts] {
        try await SyncEngine(coordination: coordination, endpoints: endpoints, logger: Logger(label: "test"))
            .run(mapping: "DEBTOR", kind: kind, records: records)
    }

    func value<T: PostgresDecodable>(_ connection: PostgresConnection, _ sql: PostgresQuery, as type: T.Type = T.self) async throws -> T {
        try await connection.query(sql).single().decode(T.self, at: 0)
    }

    /// The error log's rows, oldest first: each record's own message and its failure class.
    func errors() async throws -> [(message: String, errorClass: String)] {
        try await coordination.query("SELECT record_message, error_class FROM couplet.sync_errors ORDER BY id").map { try $0.decode((String, String).self) }
    }
}

@Suite("Sync integrity on a schema unlike the demo's")
struct IntegrityTests {
    @Test("1. an insert never changes a record it did not create: a key held by a filtered-out record fails, naming both", arguments: CRMService.allCases)
    func insertNeverOverwrites(crm: CRMService) async throws {
        try await OwnSchemaFixture.with(crm: crm) { f in
            try await f.addMapping()
            try await f.erp.query("INSERT INTO debtor (id, name, manager, blocked) VALUES (3, 'Blocked Ltd', 'ANNA', true)")
            try await f.erp.query("SELECT setval('debtor_id_seq', 10)")
            try await f.crm.query("INSERT INTO client (number, name, manager) VALUES ('3', 'Crm Three', 'BOB')")
            for run in 1...3 {
                let counts = try await f.sync(.full)[.fromIntegration]
                #expect(counts?.inserted == 0, "run \(run): \(String(describing: counts))")
                #expect(try await f.value(f.erp, "SELECT manager || '/' || name FROM debtor WHERE id = 3", as: String.self) == "ANNA/Blocked Ltd")
            }
            #expect(try await f.value(f.erp, "SELECT count(*) FROM debtor", as: Int.self) == 1)
            let (message, errorClass) = try #require(try await f.errors().first)
            #expect(message.contains("Mapping DEBTOR cannot create client") && message.contains("as debtor 3"), "\(message)")
            #expect(message.contains("couplet couple DEBTOR 3 "), "says how to couple them: \(message)")
            #expect(errorClass == "key_collision:uncoupled")
            let skipped = try await f.value(f.coordination, "SELECT skipped FROM couplet.sync_failures", as: Bool.self)
            #expect(skipped, "the same cause twice: skipped, not logged for ever")
        }
    }

    @Test("1. a key still held by a coupling (its record deleted, the policy pending) is taken: the insert fails, one record is never paired twice", arguments: CRMService.allCases)
    func coupledKeyIsTaken(crm: CRMService) async throws {
        try await OwnSchemaFixture.with(crm: crm) { f in
            try await f.addMapping()
            try await f.erp.query("INSERT INTO debtor (name) VALUES ('Deleted later')")
            try await f.sync(.full)
            try await f.erp.query("DELETE FROM debtor")
            try await f.crm.query("INSERT INTO client (number, name) VALUES ('1', 'Wants key 1')")
            let counts = try await f.sync(.full)[.fromIntegration]
            #expect(counts?.inserted == 0 && counts?.failed == 2, "the deleted pair's failure and the collision: \(String(describing: counts))")
            #expect(try await f.value(f.erp, "SELECT count(*) FROM debtor", as: Int.self) == 0)
            #expect(try await f.errors().map(\.errorClass).contains("key_collision:coupled"))
        }
    }

    @Test("integer keys are paged in their own order: full and delta runs larger than a batch carry every record", arguments: CRMService.allCases)
    func integerKeysPageInOrder(crm: CRMService) async throws {
        try await OwnSchemaFixture.with(crm: crm) { f in
            try await f.addMapping(direction: "to_integration", batchSize: 10)
            try await f.erp.query("INSERT INTO debtor (name) SELECT 'Debtor ' || n FROM generate_series(1, 20) n")
            #expect(try await f.sync(.full)[.toIntegration]?.inserted == 20)
            try await f.erp.query("INSERT INTO debtor (name) SELECT 'Imported ' || n FROM generate_series(1, 100) n")
            #expect(try await f.sync()[.toIntegration]?.inserted == 100, "one transaction's rows share a modified-on: ties go by the key")
            #expect(try await f.value(f.crm, "SELECT count(DISTINCT number) FROM client", as: Int.self) == 120)
        }
    }

    @Test("a batch whose records write different columns is written all or nothing: one refused record leaves no other behind uncoupled", arguments: CRMService.allCases)
    func batchIsAtomicAcrossColumnGroups(crm: CRMService) async throws {
        try await OwnSchemaFixture.with(crm: crm) { f in
            try await f.addMapping(direction: "from_integration")
            // Read in key order: the record without a credit (its own column group) is written first.
            try await f.crm.query(
                """
                INSERT INTO client (id, name, credit) VALUES
                    ('00000000-0000-0000-0000-000000000001', 'No credit', NULL), ('00000000-0000-0000-0000-000000000002', 'Refused', -5)
                """)
            let counts = try await f.sync(.full)[.fromIntegration]
            #expect(counts?.inserted == 1 && counts?.failed == 1, "\(String(describing: counts))")
            #expect(try await f.value(f.erp, "SELECT count(*) FROM debtor", as: Int.self) == 1)
            #expect(try await f.value(f.coordination, "SELECT count(*) FROM couplet.couplings", as: Int.self) == 1)
            #expect(try await f.errors().map(\.errorClass) == ["write_refused:23514:credit_not_negative"], "no key collision with itself")
        }
    }

    @Test("2. coupling by match copies nothing: differing pairs meet the update-conflict policy (fail → conflict, values kept)", arguments: CRMService.allCases)
    func matchCopiesNothing(crm: CRMService) async throws {
        try await OwnSchemaFixture.with(crm: crm) { f in
            try await f.addMapping(match: "name")
            try await f.erp.query("INSERT INTO debtor (name, credit_limit, manager) VALUES ('Adatum', 7000, 'ANNA')")
            try await f.crm.query("INSERT INTO client (name, credit, manager) VALUES ('Adatum', 99999, 'BOB')")
            let counts = try await f.sync(.full)
            #expect(counts[.toIntegration]?.coupled == 1)
            #expect(try await f.value(f.erp, "SELECT credit_limit::text || '/' || manager FROM debtor", as: String.self) == "7000.00/ANNA")
            #expect(try await f.value(f.crm, "SELECT credit::text || '/' || manager FROM client", as: String.self) == "99999/BOB")
            #expect(try await f.errors().map(\.errorClass).contains("update_conflict"))
            #expect(try await f.value(f.crm, "SELECT count(*) FROM client", as: Int.self) == 1)
            #expect(try await f.value(f.erp, "SELECT count(*) FROM debtor", as: Int.self) == 1)
        }
    }

    @Test("2. with get_from_integration the CRM wins the matched pair, every field of it", arguments: CRMService.allCases)
    func matchFollowsWinningPolicy(crm: CRMService) async throws {
        try await OwnSchemaFixture.with(crm: crm) { f in
            try await f.addMapping(updateConflict: "get_from_integration", match: "name")
            try await f.erp.query("INSERT INTO debtor (name, credit_limit, manager) VALUES ('Adatum', 7000, 'ANNA')")
            try await f.crm.query("INSERT INTO client (name, credit, manager) VALUES ('Adatum', 99999, 'BOB')")
            try await f.sync(.full)
            #expect(try await f.value(f.erp, "SELECT credit_limit::text || '/' || manager FROM debtor", as: String.self) == "99999.00/BOB")
            let quiet = try await f.sync()
            #expect(quiet.values.allSatisfy { $0.modified == 0 && $0.inserted == 0 }, "in step: \(quiet)")
        }
    }

    @Test("3. a match compares both sides alike (trim, inner spaces, case): the same pair matches from either side",
          arguments: ["to_integration", "from_integration"], CRMService.allCases)
    func matchFromEitherSide(direction: String, crm: CRMService) async throws {
        try await OwnSchemaFixture.with(crm: crm) { f in
            try await f.addMapping(direction: direction, match: "name")
            try await f.erp.query("INSERT INTO debtor (name) VALUES ('  Fabrikam   Inc ')")
            try await f.crm.query("INSERT INTO client (name) VALUES ('fabrikam inc')")
            let counts = try await f.sync(.full)
            #expect(counts.values.map(\.coupled).reduce(0, +) == 1, "\(counts)")
            #expect(counts.values.map(\.inserted).reduce(0, +) == 0, "no duplicate: \(counts)")
            #expect(try await f.value(f.erp, "SELECT count(*) FROM debtor", as: Int.self) == 1)
            #expect(try await f.value(f.crm, "SELECT count(*) FROM client", as: Int.self) == 1)
        }
    }

    @Test("4. remove_coupling remembers the deletion: the survivor is not created again until a person asks", arguments: CRMService.allCases)
    func deletionIsNotUndone(crm: CRMService) async throws {
        try await OwnSchemaFixture.with(crm: crm) { f in
            try await f.addMapping(deletionConflict: "remove_coupling")
            try await f.erp.query("INSERT INTO debtor (name) VALUES ('Keep'), ('Gone')")
            try await f.sync(.full)
            #expect(try await f.value(f.crm, "SELECT count(*) FROM client", as: Int.self) == 2)
            try await f.crm.query("DELETE FROM client WHERE name = 'Gone'")
            let first = try await f.sync(.full)
            #expect(first[.toIntegration]?.uncoupled == 1 && first[.toIntegration]?.inserted == 0, "\(first)")
            for _ in 1...2 {
                let again = try await f.sync(.full)
                #expect(again.values.allSatisfy { $0.inserted == 0 }, "not re-created: \(again)")
            }
            #expect(try await f.value(f.crm, "SELECT count(*) FROM client", as: Int.self) == 1)
            let gone = try await f.value(f.erp, "SELECT id::text FROM debtor WHERE name = 'Gone'", as: String.self)
            let asked = try await f.sync(.records, records: ChosenRecords(side: .local, ids: [gone]))
            #expect(asked[.toIntegration]?.inserted == 1, "a person asked: \(asked)")
        }
    }

    @Test("4. propagate deletes the counterpart — unless it changed since the last sync", arguments: CRMService.allCases)
    func propagateDeletion(crm: CRMService) async throws {
        try await OwnSchemaFixture.with(crm: crm) { f in
            try await f.addMapping(deletionConflict: "propagate")
            try await f.erp.query("INSERT INTO debtor (name) VALUES ('Quiet'), ('Edited')")
            try await f.sync(.full)
            try await f.crm.query("UPDATE client SET manager = 'BOB' WHERE name = 'Edited'")
            try await f.erp.query("DELETE FROM debtor")
            let counts = try await f.sync(.full)
            #expect(counts[.toIntegration]?.deleted == 1, "\(counts)")
            #expect(try await f.value(f.crm, "SELECT string_agg(name, ',') FROM client", as: String.self) == "Edited")
            #expect(try await f.errors().contains { $0.message.contains("changed after the last sync") })
            #expect(try await f.value(f.erp, "SELECT count(*) FROM debtor", as: Int.self) == 0, "nothing resurrected")
        }
    }

    @Test("5. a key the ERP's sequence assigns is written back to the CRM record in the same run", arguments: CRMService.allCases)
    func assignedKeyIsWrittenBack(crm: CRMService) async throws {
        try await OwnSchemaFixture.with(crm: crm) { f in
            try await f.addMapping()
            try await f.erp.query("SELECT setval('debtor_id_seq', 41)")
            try await f.crm.query("INSERT INTO client (name) VALUES ('From the CRM')")
            let counts = try await f.sync(.full)
            #expect(counts[.fromIntegration]?.inserted == 1)
            #expect(try await f.value(f.crm, "SELECT number FROM client", as: String?.self) == "42")
            let quiet = try await f.sync()
            #expect(quiet.values.allSatisfy { $0.modified == 0 && $0.inserted == 0 }, "no echo of the write-back: \(quiet)")
        }
    }

    @Test("5. a write-back blocked by a person's edit committed meanwhile is written by a later run; the pair stays in step (propagate still deletes)", arguments: CRMService.allCases)
    func writeBackAfterConcurrentEdit(crm: CRMService) async throws {
        try await OwnSchemaFixture.with(crm: crm) { f in
            try await f.addMapping(direction: "from_integration", deletionConflict: "propagate")
            try await f.crm.query("INSERT INTO client (name) VALUES ('Late')")
            let person = try await PostgresConnection.connect(f.endpoints.configuration(of: "crm"))
            defer { person.close() }
            try await person.runScript("BEGIN; UPDATE client SET manager = 'ANNA'", name: "a person's open edit")
            let run = Task { try await f.sync(.full) }
            // The write-back waits for the person's row lock; the person commits then.
            guard try await someoneWaitsForLock(on: f.crm) else {
                run.cancel()
                Issue.record("the run never waited for the person's lock: \(await run.result)")
                return
            }
            try await person.runScript("COMMIT", name: "commit")
            _ = try await run.value
            #expect(try await f.value(f.crm, "SELECT number FROM client", as: String?.self) == nil, "the write-back found the record changed")
            try await f.sync()
            #expect(try await f.value(f.crm, "SELECT number FROM client", as: String?.self) == "1", "the next run wrote it")
            #expect(try await f.value(f.erp, "SELECT manager FROM debtor", as: String?.self) == "ANNA")
            try await f.crm.query("DELETE FROM client")
            #expect(try await f.sync(.full)[.fromIntegration]?.deleted == 1, "the ERP record was not taken for changed by a person")
        }
    }

    @Test("6. a CHECK violation is classified by constraint, names mapping, both keys and the column, and is skipped after two runs", arguments: CRMService.allCases)
    func failureClassification(crm: CRMService) async throws {
        try await OwnSchemaFixture.with(crm: crm) { f in
            try await f.addMapping()
            try await f.erp.query("INSERT INTO debtor (name) VALUES ('Adatum')")
            try await f.sync(.full)
            let id = try await f.value(f.crm, "SELECT id::text FROM client", as: String.self)
            try await f.crm.query("UPDATE client SET credit = -5")
            for _ in 1...3 { try await f.sync() }
            let errors = try await f.errors()
            #expect(errors.count == 1, "one error for the record, however often it failed: \(errors.map(\.message))")
            #expect(try await f.value(f.coordination, "SELECT occurrences FROM couplet.sync_errors", as: Int.self) == 2, "logged twice, then skipped")
            let message = try #require(errors.first?.message)
            #expect(message.contains("Mapping DEBTOR could not write client \(id) to debtor 1"), "\(message)")
            #expect(message.contains("column credit_limit") && message.contains("credit_not_negative") && message.contains("Correct credit on client"), "\(message)")
            #expect(errors.allSatisfy { $0.errorClass == "write_refused:23514:credit_not_negative" })
            let detail = try await f.value(f.coordination, "SELECT detail FROM couplet.sync_errors LIMIT 1", as: String.self)
            #expect(!detail.contains("-5"), "no row values in the detail: \(detail)")
            #expect(try await f.value(f.coordination, "SELECT skipped FROM couplet.couplings", as: Bool.self))
            let causes = try await f.coordination.query("SELECT error_class, count(*), sum(occurrences) FROM couplet.sync_errors GROUP BY 1")
                .map { try $0.decode((String, Int, Int).self) }
            #expect(causes.map { "\($0.0) \($0.1) \($0.2)" } == ["write_refused:23514:credit_not_negative 1 2"], "one line per cause")
        }
    }

    /// The DEBTOR mapping (to the CRM) from an ERP database in SQL_ASCII, which stores any bytes
    /// unchecked, as some legacy ERPs do.
    private func withSQLASCIIERP(_ body: (OwnSchemaFixture) async throws -> Void) async throws {
        try await withMigratedDatabase { database, coordination in
            try await TestDatabase.with(encoding: "SQL_ASCII") { ascii in
                try await SampleEndpoints.with(erpSchema: nil, crmSchema: OwnSchemaTables.crm) { sample in
                    let erp = try await ascii.connect()
                    defer { erp.close() }
                    try await erp.runScript(OwnSchemaTables.erp, name: "erp")
                    var environment = sample.environment
                    environment["COUPLET_ENDPOINT_ERP_URL"] = ascii.configuration.connectionString
                    try await coordination.runScript("INSERT INTO couplet.endpoints (name) VALUES ('erp'), ('crm')", name: "endpoints")
                    let f = OwnSchemaFixture(
                        database: database, coordination: coordination, erp: erp, crm: sample.crm,
                        crmEndpoint: CRMService.Endpoint(endpoints: EndpointDirectory(environment: environment), key: "id", modified: "modified_at"))
                    try await f.addMapping(direction: "to_integration")
                    try await body(f)
                }
            }
        }
    }

    @Test("8. text that is not valid UTF-8 in a SQL_ASCII source fails its record; nothing is written altered")
    func invalidTextFails() async throws {
        try await withSQLASCIIERP { f in
            try await f.erp.runScript("INSERT INTO debtor (name) VALUES (E'Caf\\xe9'), ('Plain')", name: "latin-1 bytes")
            let counts = try await f.sync(.full)[.toIntegration]
            #expect(counts?.inserted == 1 && counts?.failed == 1, "\(String(describing: counts))")
            #expect(try await f.value(f.crm, "SELECT string_agg(name, ',') FROM client", as: String.self) == "Plain")
            #expect(try await f.errors().first?.message.contains("not valid UTF-8") == true)
        }
    }

    @Test("8. verify never counts a pair in step on text that is not valid UTF-8, even where the replaced text equals the other side's")
    func invalidTextIsNotComparable() async throws {
        try await withSQLASCIIERP { f in
            try await f.erp.runScript("INSERT INTO debtor (name) VALUES ('Cafe')", name: "debtor")
            #expect(try await f.sync(.full)[.toIntegration]?.inserted == 1)
            // The ERP's name becomes a Latin-1 byte; the CRM's, the character a lenient decoder would put in its place.
            try await f.erp.runScript("UPDATE debtor SET name = E'Caf\\xe9'", name: "latin-1 byte")
            try await f.crm.runScript("UPDATE client SET name = 'Caf\u{FFFD}'", name: "replacement character")
            let report = try await MappingVerifier(coordination: f.coordination, endpoints: f.endpoints, logger: Logger(label: "test"))
                .verify(mapping: "DEBTOR")
            #expect(report.checked == 1 && report.inStep == 0 && report.foundProblems, "\(report)")
            guard case .notComparable(let reason)? = report.findings.first?.state else {
                Issue.record("expected a pair that is not comparable: \(report.findings)")
                return
            }
            #expect(reason.contains("not valid UTF-8"))
        }
    }
}

@Suite("A cancelled sync run")
struct CancelledRunTests {
    @Test("9. a run cancelled mid-write is recorded as cancelled, and the mapping's lock is released for the next run", arguments: CRMService.allCases)
    func cancelledRunIsRecorded(crm: CRMService) async throws {
        try await OwnSchemaFixture.with(crm: crm) { f in
            try await f.addMapping(direction: "to_integration")
            try await f.erp.query("INSERT INTO debtor (name) VALUES ('Waits')")
            let blocker = try await PostgresConnection.connect(f.endpoints.configuration(of: "crm"))
            defer { blocker.close() }
            try await blocker.runScript("BEGIN; LOCK TABLE client IN ACCESS EXCLUSIVE MODE", name: "block the CRM")
            let run = Task { try await f.sync(.full) }
            guard try await someoneWaitsForLock(on: f.crm) else {
                run.cancel()
                Issue.record("the run never waited for the lock: \(await run.result)")
                return
            }
            run.cancel()
            _ = await run.result
            try await blocker.runScript("ROLLBACK", name: "release")
            #expect(try await f.value(f.coordination, "SELECT state FROM couplet.sync_runs", as: String.self) == "cancelled")
            let next = try await f.sync(.full)
            #expect(next[.toIntegration]?.coupled == 1, "the mapping lock was released: \(next)")
            // Rolled back and inserted now, or (over HTTP, where a request cannot be called back) written
            // by the service once the lock went and recognised as Couplet's own: the record once.
            #expect(try await f.value(f.crm, "SELECT count(*) FROM client", as: Int.self) == 1)
        }
    }

    @Test("9. a run its dead worker left running is ended by the mapping's next run, even when its own job never runs again")
    func deadWorkersRunIsEnded() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping(direction: "to_integration")
            // What a worker SIGKILLed mid-run leaves, its job since failed by lease expiry (chaos seed 129806917553787).
            try await f.coordination.query(
                "INSERT INTO couplet.sync_runs (mapping, kind, direction, job_id) VALUES ('DEBTOR', 'full', 'to_integration', 42)")
            try await f.sync(.delta)
            let runs = try await f.coordination.query("SELECT job_id, state, message FROM couplet.sync_runs ORDER BY id")
                .map { try $0.decode((Int64?, String, String?).self) }
            #expect(runs.count == 2 && runs[0].0 == 42 && runs[0].1 == "failed" && runs[0].2?.hasPrefix("interrupted:") == true, "\(runs)")
            #expect(runs.count == 2 && runs[1].1 == "succeeded", "\(runs)")
        }
    }
}

@Suite("Sync only coupled records, as Business Central")
struct SyncOnlyCoupledTests {
    /// DEBTOR with `sync_only_coupled` on and one uncoupled debtor and client.
    private func withUncoupledRecords(crm: CRMService, _ body: (OwnSchemaFixture) async throws -> Void) async throws {
        try await OwnSchemaFixture.with(crm: crm) { f in
            try await f.addMapping(match: "name")
            try await f.coordination.query("UPDATE couplet.table_mappings SET sync_only_coupled = true")
            try await f.erp.query("INSERT INTO debtor (name) VALUES ('Adatum')")
            try await f.crm.query("INSERT INTO client (name) VALUES ('Fabrikam')")
            try await body(f)
        }
    }

    @Test("a delta leaves uncoupled records alone; a full run creates them across, as Business Central's full synchronization", arguments: CRMService.allCases)
    func fullRunCreates(crm: CRMService) async throws {
        try await withUncoupledRecords(crm: crm) { f in
            let delta = try await f.sync()
            #expect(delta.values.allSatisfy { $0.inserted == 0 && $0.skipped == 1 }, "\(delta)")
            let full = try await f.sync(.full)
            #expect(full.values.allSatisfy { $0.inserted == 1 }, "\(full)")
            #expect(try await f.value(f.erp, "SELECT string_agg(name, ',' ORDER BY name) FROM debtor", as: String.self) == "Adatum,Fabrikam")
            #expect(try await f.value(f.crm, "SELECT string_agg(name, ',' ORDER BY name) FROM client", as: String.self) == "Adatum,Fabrikam")
            try await f.erp.query("INSERT INTO debtor (name) VALUES ('Contoso')")
            let later = try await f.sync()
            #expect(later[.toIntegration]?.inserted == 0, "later deltas create nothing: \(later)")
        }
    }

    @Test("a records run creates the chosen uncoupled record: a person asked for it", arguments: CRMService.allCases)
    func recordsRunCreates(crm: CRMService) async throws {
        try await withUncoupledRecords(crm: crm) { f in
            let id = try await f.value(f.erp, "SELECT id::text FROM debtor", as: String.self)
            let counts = try await f.sync(.records, records: ChosenRecords(side: .local, ids: [id]))
            #expect(counts[.toIntegration]?.inserted == 1, "\(counts)")
        }
    }

    @Test("a record a full run failed to create (its salesperson not coupled yet) is created by a later delta once it can be", arguments: CRMService.allCases)
    func deltaRetriesFailedCreation(crm: CRMService) async throws {
        try await SyncFixture.with(crm: crm) { f in
            try await f.addSalespersonLookup()
            try await f.coordination.query("UPDATE couplet.table_mappings SET sync_only_coupled = true WHERE name = 'CUSTOMER'")
            try await f.erp.query("INSERT INTO customer (no, name, salesperson_code) VALUES ('C1', 'Adatum', 'PS'), ('C2', 'Fabrikam', 'JR')")
            let full = try await f.sync(.full)
            #expect(full[.toIntegration]?.inserted == 1 && full[.toIntegration]?.failed == 1, "\(full)")
            try await f.coupleSalesperson("JR")
            let delta = try await f.sync()
            #expect(delta[.toIntegration]?.inserted == 1, "\(delta)")
            #expect(try await f.count(f.coordination, "SELECT count(*) FROM couplet.sync_errors WHERE closed_at IS NULL") == 0)
        }
    }

    @Test("match-based coupling couples uncoupled records whatever the setting", arguments: CRMService.allCases)
    func matchCouples(crm: CRMService) async throws {
        try await withUncoupledRecords(crm: crm) { f in
            try await f.crm.query("INSERT INTO client (name) VALUES ('Adatum')")
            let counts = try await f.sync(.match)
            #expect(counts[.toIntegration]?.coupled == 1 && counts[.toIntegration]?.inserted == 0, "\(counts)")
        }
    }
}
