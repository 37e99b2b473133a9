import Foundation
import Postgres
import PostgresTestSupport
import Testing

@Suite("A worker killed between its target write and the coupling save", .serialized)
struct CrashRecoveryTests {
    /// The worker is held after its CRM write (the coupling table is locked), SIGKILLed, and the
    /// ERP record edited again before the rescued job reruns. The rerun must recognise the CRM value
    /// as its own write — not as a person's change that `get_from_integration` would copy back over
    /// the newer ERP edit.
    @Test("10. the rerun recognises the integration's own unrecorded write and carries the newer edit")
    func unrecordedWriteIsRecognised() async throws {
        try await SyncProcessFixture.with(customers: 1) { f in
            try await f.coordination.runScript(
                "UPDATE couplet.table_mappings SET direction = 'bidirectional', update_conflict = 'get_from_integration'", name: "policy")
            let first = try CoupletProcess.start(["worker", "--queues", "sync", "--lease", "2s"], environment: f.environment)
            let full = try await CoupletProcess.run(["sync", "CUSTOMER", "--full", "--wait"], environment: f.environment)
            #expect(full.status == 0, "\(full.standardError)")
            try await f.erp.query("UPDATE customer SET name = 'First edit' WHERE no = '1'")
            try await kill(first, beforeCouplingSave: f) { try await f.count(f.crm, "SELECT count(*) FROM account WHERE name = 'First edit'") == 1 }
            try await f.erp.query("UPDATE customer SET name = 'Second edit' WHERE no = '1'")

            let second = try CoupletProcess.start(["worker", "--queues", "sync", "--lease", "2s"], environment: f.environment)
            try await waitUntil("the rescued job reran and carried the second edit") {
                try await f.count(f.crm, "SELECT count(*) FROM account WHERE name = 'Second edit'") == 1
            }
            let erpName = try await f.erp.query("SELECT name FROM customer WHERE no = '1'").single().decode(String.self, at: 0)
            #expect(erpName == "Second edit", "the newer ERP edit is not overwritten by the engine's own earlier write")
            try await waitUntil("the intents were reconciled and the rerun's own save cleared its intent") {
                try await f.count(f.coordination, "SELECT count(*) FROM couplet.write_intents") == 0
            }
            second.terminate()
            _ = try await second.waitForExit()
        }
    }

    /// In a two-way mapping the rerun's first pass (ERP → CRM) runs before the pass that inserted
    /// the record (CRM → ERP). Before it reads, it must record that insert as the integration's
    /// own, or it takes the new ERP customer for a person's and sends a copy back (chaos seed
    /// 157322081931121: two CRM clients carrying one number).
    @Test("10. a record the other pass inserted before the kill is coupled before the rerun's first pass reads: no copy travels back")
    func otherPassInsertIsRecognised() async throws {
        try await SyncProcessFixture.with(customers: 0) { f in
            try await f.coordination.runScript("UPDATE couplet.table_mappings SET direction = 'bidirectional'", name: "two-way")
            try await f.crm.query("INSERT INTO account (account_number, name) VALUES ('C100', 'From the CRM')")
            let first = try CoupletProcess.start(["worker", "--queues", "sync", "--lease", "2s"], environment: f.environment)
            try await kill(first, beforeCouplingSave: f) { try await f.count(f.erp, "SELECT count(*) FROM customer WHERE no = 'C100'") == 1 }

            let second = try CoupletProcess.start(["worker", "--queues", "sync", "--lease", "2s"], environment: f.environment)
            try await waitUntil("the rescued job reran") {
                try await f.count(f.coordination, "SELECT count(*) FROM couplet.jobs WHERE state = 'completed'") == 1
            }
            second.terminate()
            _ = try await second.waitForExit()
            #expect(try await f.count(f.crm, "SELECT count(*) FROM account") == 1, "no copy of the engine's own ERP customer went back")
            #expect(try await f.count(f.erp, "SELECT count(*) FROM customer") == 1)
            #expect(try await f.count(f.coordination, "SELECT count(*) FROM couplet.couplings") == 1)
            #expect(try await f.count(f.coordination, "SELECT count(*) FROM couplet.write_intents") == 0)
        }
    }

    /// Enqueues a delta sync and SIGKILLs `worker`, which runs it, once `written` holds and it waits
    /// to save the coupling.
    private func kill(
        _ worker: CoupletProcess.Running, beforeCouplingSave f: SyncProcessFixture, written: () async throws -> Bool
    ) async throws {
        try await killBeforeCouplingSave(
            worker, coordination: f.coordination, sync: ["sync", "CUSTOMER"], environment: f.environment, written: written)
    }

    private func waitUntil(_ what: String, timeout: Duration = .seconds(60), _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("timed out waiting until \(what)")
        throw CancellationError()
    }
}
