import Foundation
import Postgres
import PostgresTestSupport
import Testing

/// Coordination, ERP and CRM databases of `OwnSchemaTables` with the DEBTOR mapping, one debtor
/// (`Adatum`, credit 100) synced to a client by a worker process that runs for the whole test.
struct ResolveProcessFixture {
    let coordination: PostgresConnection
    let erp: PostgresConnection
    let crm: PostgresConnection
    let environment: [String: String]
    /// The debtor's id and its client's id.
    let debtor: String
    let client: String

    static func with(deletionConflict: String = "fail", _ body: (ResolveProcessFixture) async throws -> Void) async throws {
        try await withMigratedDatabase { coordinationDatabase, coordination in
            try await SampleEndpoints.with(erpSchema: OwnSchemaTables.erp, crmSchema: OwnSchemaTables.crm) { sample in
                try await coordination.runScript("INSERT INTO couplet.endpoints (name) VALUES ('erp'), ('crm')", name: "endpoints")
                for statement in OwnSchemaTables.debtorMapping(deletionConflict: deletionConflict) { try await coordination.query(statement) }
                var environment = sample.environment
                environment["COUPLET_DATABASE_URL"] = coordinationDatabase.configuration.connectionString
                try await sample.erp.query("INSERT INTO debtor (name, credit_limit) VALUES ('Adatum', 100)")
                let worker = try CoupletProcess.start(["worker", "--queues", "sync"], environment: environment)
                let synced = try await CoupletProcess.run(["sync", "DEBTOR", "--full"], environment: environment)
                #expect(synced.status == 0, "\(synced.standardError)")
                #expect(try await eventually(within: .seconds(60)) {
                    try await coordination.query("SELECT count(*) FROM couplet.jobs WHERE state = 'completed'").single().decode(Int.self, at: 0) == 1
                }, "the worker ran the full sync, both passes")
                let (debtor, client) = try await coordination.query("SELECT local_id, integration_id FROM couplet.couplings").single()
                    .decode((String, String).self)
                do {
                    try await body(ResolveProcessFixture(
                        coordination: coordination, erp: sample.erp, crm: sample.crm, environment: environment, debtor: debtor, client: client))
                } catch {
                    worker.terminate()
                    _ = try? await worker.waitForExit()
                    throw error
                }
                worker.terminate()
                #expect(try await worker.waitForExit().status == 0)
            }
        }
    }

    func run(_ arguments: [String]) async throws -> CoupletProcess.Outcome {
        try await CoupletProcess.run(arguments, environment: environment)
    }

    func text(_ connection: PostgresConnection, _ sql: PostgresQuery) async throws -> String {
        try await connection.query(sql).single().decode(String.self, at: 0)
    }

    /// Enqueues a sync of DEBTOR (`--full` or a delta) and waits until the worker ran it and the pair's error of `errorClass` is open.
    func syncUntilFailing(_ errorClass: String, full: Bool = false) async throws {
        let enqueued = try await run(["sync", "DEBTOR"] + (full ? ["--full"] : []))
        #expect(enqueued.status == 0, "\(enqueued.standardError)")
        #expect(try await eventually(within: .seconds(60)) {
            try await text(coordination, "SELECT count(*)::text FROM couplet.sync_errors WHERE closed_at IS NULL AND error_class = \(errorClass)") != "0"
        }, "the pair fails with \(errorClass)")
    }
}

@Suite("couplet resolve and couplet sync --records --direction, carried out by a worker process", .serialized)
struct ResolveProcessTests {
    @Test("couplet resolve --use local --wait resolves a conflict; couplet errors points at it; --log shows who asked and what became of it")
    func resolveConflict() async throws {
        try await ResolveProcessFixture.with { f in
            try await f.erp.query("UPDATE debtor SET credit_limit = 200")
            try await f.crm.query("UPDATE client SET credit = 300, manager = 'BOB'")
            try await f.syncUntilFailing("update_conflict")
            let errors = try await f.run(["errors", "DEBTOR"])
            #expect(errors.standardOutput.contains("couplet resolve DEBTOR LOCAL_ID --use local|integration"), "\(errors.standardOutput)")

            let resolved = try await f.run(["resolve", "DEBTOR", f.debtor, "--use", "local", "--wait"])
            #expect(resolved.status == 0, "\(resolved.standardOutput)\(resolved.standardError)")
            #expect(resolved.standardOutput.contains("is done: updated client \(f.client) (credit, manager)"), "\(resolved.standardOutput)")
            #expect(try await f.text(f.crm, "SELECT credit::int || '/' || coalesce(manager, '-') FROM client") == "200/-")
            #expect(try await f.text(f.erp, "SELECT credit_limit::int || '/' || coalesce(manager, '-') FROM debtor") == "200/-")
            #expect(try await f.run(["errors", "DEBTOR"]).standardOutput.contains("No open errors"))

            let log = try await f.run(["resolve", "--log", "DEBTOR"])
            let line = try #require(log.standardOutput.split(separator: "\n").first { $0.contains("use_local") }, "\(log.standardOutput)")
            #expect(line.contains("postgres") && line.contains(" done ") && line.contains(f.client), "\(line)")

            let notApplicable = try await f.run(["resolve", "DEBTOR", f.debtor, "--restore", "--wait"])
            #expect(notApplicable.status != 0, "the action did not apply")
            #expect(notApplicable.standardOutput.contains("did not apply: neither debtor \(f.debtor) nor client \(f.client) was deleted"),
                    "\(notApplicable.standardOutput)")
        }
    }

    @Test("couplet resolve --restore, --uncouple, --couple and --delete on a deleted counterpart, and a refusal naming the record")
    func resolveDeletion() async throws {
        try await ResolveProcessFixture.with { f in
            try await f.crm.query("DELETE FROM client")
            try await f.syncUntilFailing("deleted_counterpart", full: true)
            let errors = try await f.run(["errors", "DEBTOR"])
            #expect(errors.standardOutput.contains("couplet resolve DEBTOR LOCAL_ID --restore"), "\(errors.standardOutput)")

            let restored = try await f.run(["resolve", "DEBTOR", f.debtor, "--restore", "--wait"])
            #expect(restored.status == 0, "\(restored.standardOutput)\(restored.standardError)")
            #expect(try await f.text(f.crm, "SELECT name || '/' || credit::int || '/' || number FROM client") == "Adatum/100/\(f.debtor)")

            let uncoupled = try await f.run(["resolve", "DEBTOR", f.client, "--side", "integration", "--uncouple"])
            #expect(uncoupled.standardOutput.hasPrefix("Uncoupled DEBTOR \(f.debtor) ↔ \(f.client)"), "\(uncoupled.standardOutput)\(uncoupled.standardError)")
            let coupled = try await f.run(["resolve", "DEBTOR", f.debtor, "--couple", f.client])
            #expect(coupled.standardOutput.hasPrefix("Coupled DEBTOR \(f.debtor) ↔ \(f.client)"), "\(coupled.standardOutput)\(coupled.standardError)")

            try await f.erp.query("DELETE FROM debtor")
            let deleted = try await f.run(["resolve", "DEBTOR", f.debtor, "--delete", "--wait"])
            #expect(deleted.status == 0, "\(deleted.standardOutput)\(deleted.standardError)")
            #expect(deleted.standardOutput.contains("is done: deleted client \(f.client)"), "\(deleted.standardOutput)")
            #expect(try await f.text(f.crm, "SELECT count(*)::text FROM client") == "0")

            let refused = try await f.run(["resolve", "DEBTOR", "999", "--restore"])
            #expect(refused.status != 0)
            #expect(refused.standardError.contains("DEBTOR: debtor 999 is not coupled, and no deleted counterpart is remembered for it"), "\(refused.standardError)")
            #expect(!refused.standardError.contains("USAGE"), "a refusal, not a usage error")
            let actions = try await f.text(f.coordination, "SELECT string_agg(action || ':' || state, ',' ORDER BY id) FROM couplet.record_actions")
            #expect(actions == "restore:done,uncouple:done,couple:done,delete:done")
        }
    }

    @Test("couplet sync --records --direction runs only that pass, and logs the request")
    func syncRecordsDirection() async throws {
        try await ResolveProcessFixture.with { f in
            try await f.crm.query("UPDATE client SET manager = 'BOB'")
            let synced = try await f.run(["sync", "DEBTOR", "--records", f.client, "--side", "integration", "--direction", "from_integration", "--wait"])
            #expect(synced.status == 0, "\(synced.standardError)")
            #expect(synced.standardOutput.contains("(from_integration) as job"), "\(synced.standardOutput)")
            #expect(synced.standardOutput.contains("← integration: 0 inserted, 1 modified"), "\(synced.standardOutput)")
            #expect(!synced.standardOutput.contains("→ integration"), "only the pass asked for")
            #expect(try await f.text(f.erp, "SELECT manager FROM debtor") == "BOB")
            let logged = try await f.text(f.coordination, "SELECT action || '/' || local_id || '/' || integration_id || '/' || requested_by FROM couplet.record_actions")
            #expect(logged == "sync/\(f.debtor)/\(f.client)/postgres")
            let alone = try await f.run(["sync", "DEBTOR", "--direction", "to_integration"])
            #expect(alone.status != 0 && alone.standardError.contains("--direction goes with --records"))
        }
    }
}

@Suite("Record actions and the database roles")
struct RecordActionRoleTests {
    /// Every record-action function, called on the CUSTOMER mapping that `seedIntegration` stores.
    private static let calls: [PostgresQuery] = [
        "SELECT couplet.couple_records('CUSTOMER', '10000', 'acc-1')",
        "SELECT couplet.resolve_conflict('CUSTOMER', '10000', 'local')",
        "SELECT couplet.restore_record('CUSTOMER', '10000')",
        "SELECT couplet.delete_survivor('CUSTOMER', '10000')",
        "SELECT couplet.sync_records('CUSTOMER', 'local', '{10000}', 'to_integration')",
        "SELECT couplet.uncouple_record('CUSTOMER', '10000')",
    ]

    @Test("couplet_admin calls every record-action function, logged as the login; couplet_reader reads the log and may call none")
    func adminCallsReaderReads() async throws {
        try await TestLogin.with { login in
            try await withMigratedDatabase { database, db in
                _ = try await db.seedIntegration()
                let url = try login.connectionString(like: database.configuration.connectionString)
                try await db.query("GRANT couplet_admin TO \(try PostgresIdentifier(login.name))")
                let admin = try await PostgresConnection.connect(try PostgresConfiguration(url), applicationName: "couplet tests")
                for call in Self.calls { _ = try await admin.query(call) }
                admin.close()
                let logged = try await db.query("SELECT string_agg(action || ':' || requested_by, ',' ORDER BY id) FROM couplet.record_actions")
                    .single().decode(String.self, at: 0)
                let name = login.name
                #expect(logged == ["couple", "use_local", "restore", "delete", "sync", "uncouple"].map { "\($0):\(name)" }.joined(separator: ","))

                try await db.query("REVOKE couplet_admin FROM \(try PostgresIdentifier(login.name))")
                try await db.query("GRANT couplet_reader TO \(try PostgresIdentifier(login.name))")
                let reader = try await PostgresConnection.connect(try PostgresConfiguration(url), applicationName: "couplet tests")
                #expect(try await reader.query("SELECT count(*) FROM couplet.record_actions").single().decode(Int.self, at: 0) == 6)
                for call in Self.calls { await reader.expectDenied(call) }
                await reader.expectDenied("INSERT INTO couplet.record_actions (mapping, action, local_id) VALUES ('CUSTOMER', 'sync', '1')")
                reader.close()
                try await db.query("REVOKE couplet_reader FROM \(try PostgresIdentifier(login.name))")
            }
        }
    }
}
