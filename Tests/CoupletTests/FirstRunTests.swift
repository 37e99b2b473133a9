import Foundation
import Postgres
import PostgresTestSupport
import Testing

/// The rough edges a new user met on a first run (issue 13), each as the user saw it.
@Suite("A new user's first run", .serialized)
struct FirstRunTests {
    @Test("--wait says at once that no live worker claims the sync queue; a plain couplet worker claims every queue")
    func plainWorkerClaimsEveryQueue() async throws {
        try await SyncProcessFixture.with(customers: 20) { f in
            let started = ContinuousClock.now
            let unserved = try await CoupletProcess.run(["match", "CUSTOMER", "--wait"], environment: f.environment, killedAfter: .seconds(20))
            #expect(unserved.status != 0)
            #expect(unserved.standardError.contains("no live worker claims queue sync"), "\(unserved.standardOutput)\(unserved.standardError)")
            #expect(ContinuousClock.now - started < .seconds(15), "said at once, not after waiting")
            try await f.coordination.query("DELETE FROM couplet.jobs")

            let worker = try CoupletProcess.start(["worker"], environment: f.environment)
            let noop = try await f.coordination.query("SELECT couplet.enqueue('diagnostic.noop')").single().decode(Int64.self, at: 0)
            let synced = try await CoupletProcess.run(["sync", "CUSTOMER", "--full", "--wait"], environment: f.environment, killedAfter: .seconds(60))
            #expect(synced.status == 0, "\(synced.standardError)")
            #expect(synced.standardOutput.contains("20 inserted"), "\(synced.standardOutput)")
            #expect(try await eventually(within: .seconds(30)) {
                try await f.count(f.coordination, "SELECT count(*) FROM couplet.jobs WHERE id = \(noop) AND state = 'completed'") == 1
            }, "the default queue is claimed too")
            let status = try await CoupletProcess.run(["status"], environment: f.environment)
            #expect(status.standardOutput.contains(" all "), "the worker's queues read all: \(status.standardOutput)")
            worker.terminate()
            #expect(try await worker.waitForExit().status == 0)
        }
    }

    @Test("status and mappings show summarise both passes of a full run of a bidirectional mapping")
    func bothDirectionsSummarised() async throws {
        try await SyncProcessFixture.with(customers: 20) { f in
            try await f.coordination.query("UPDATE couplet.table_mappings SET direction = 'bidirectional' WHERE name = 'CUSTOMER'")
            try await f.crm.query("INSERT INTO account (name) VALUES ('Only In The CRM')")
            let worker = try CoupletProcess.start(["worker", "--queues", "sync"], environment: f.environment)
            let synced = try await CoupletProcess.run(["sync", "CUSTOMER", "--full", "--wait"], environment: f.environment, killedAfter: .seconds(60))
            #expect(synced.status == 0, "\(synced.standardError)")
            worker.terminate()
            _ = try await worker.waitForExit()

            let status = try await CoupletProcess.run(["status"], environment: f.environment)
            #expect(status.standardOutput.contains("→ integration 20 inserted"), "\(status.standardOutput)")
            #expect(status.standardOutput.contains("← integration 1 inserted"), "\(status.standardOutput)")
            let show = try await CoupletProcess.run(["mappings", "show", "CUSTOMER"], environment: f.environment)
            #expect(show.standardOutput.contains("→ integration 20 inserted; ← integration 1 inserted"), "\(show.standardOutput)")
        }
    }

    @Test("mappings show names each match field's priority and case sensitivity; jobs list names the mapping; jobs show a sync job's counts")
    func mappingAndJobDetails() async throws {
        try await SyncProcessFixture.with(customers: 20) { f in
            try await f.coordination.query(
                "UPDATE couplet.field_mappings SET match_priority = 1, match_case_sensitive = true WHERE mapping = 'CUSTOMER' AND local_field = 'no'")
            try await f.coordination.query(
                "UPDATE couplet.field_mappings SET match_priority = 2 WHERE mapping = 'CUSTOMER' AND local_field = 'name'")
            let show = try await CoupletProcess.run(["mappings", "show", "CUSTOMER"], environment: f.environment)
            #expect(show.standardOutput.contains("match 1 case-sensitive"), "\(show.standardOutput)")
            #expect(show.standardOutput.contains("match 2 case-insensitive"), "\(show.standardOutput)")

            let worker = try CoupletProcess.start(["worker"], environment: f.environment)
            let synced = try await CoupletProcess.run(["sync", "CUSTOMER", "--full", "--wait"], environment: f.environment, killedAfter: .seconds(60))
            #expect(synced.status == 0, "\(synced.standardError)")
            worker.terminate()
            _ = try await worker.waitForExit()
            let job = try await f.coordination.query("SELECT id FROM couplet.jobs WHERE kind = 'sync.full'").single().decode(Int64.self, at: 0)

            let list = try await CoupletProcess.run(["jobs", "list"], environment: f.environment)
            let line = list.standardOutput.split(separator: "\n").first { $0.hasPrefix("\(job) ") }
            #expect(line?.contains("CUSTOMER") == true, "\(list.standardOutput)")
            #expect(list.standardOutput.contains("MAPPING"))
            let jobShow = try await CoupletProcess.run(["jobs", "show", String(job)], environment: f.environment)
            let runLine = jobShow.standardOutput.split(separator: "\n").first { $0.contains("to_integration") }
            #expect(runLine?.contains("succeeded") == true && runLine?.contains(" 20 ") == true, "\(jobShow.standardOutput)")
        }
    }

    @Test("migrating as a database owner without CREATEROLE names each applied migration and says who creates the roles; after couplet roles create it migrates and grants")
    func migrateWithoutCreateRole() async throws {
        try await PrivateCluster.with { cluster in
            let admin = try await PostgresConnection.connect(try PostgresConfiguration(cluster.url()), applicationName: "couplet tests")
            defer { admin.close() }
            try await admin.runScript("CREATE ROLE owner LOGIN; CREATE ROLE worker_1 LOGIN", name: "logins")
            try await admin.runScript("CREATE DATABASE couplet OWNER owner", name: "database")
            let asOwner = ["COUPLET_DATABASE_URL": "postgres://owner@127.0.0.1:\(cluster.port)/couplet?sslmode=disable"]
            let asSuperuser = ["COUPLET_DATABASE_URL": cluster.url(database: "couplet")]

            let refused = try await CoupletProcess.run(["migrate"], environment: asOwner)
            #expect(refused.status != 0)
            #expect(refused.standardOutput.contains("Applied 0001_create_schema.sql") && refused.standardOutput.contains("Applied 0005_sync.sql"),
                    "what was applied before the failure: \(refused.standardOutput)")
            #expect(!refused.standardOutput.contains("0006_roles.sql"))
            #expect(refused.standardError.contains("0006_roles.sql") && refused.standardError.contains("couplet roles create"),
                    "\(refused.standardError)")

            let created = try await CoupletProcess.run(["roles", "create"], environment: asSuperuser)
            #expect(created.status == 0, "\(created.standardError)")
            #expect(created.standardOutput.contains("Created couplet_admin, couplet_worker, couplet_reader, couplet_availability, couplet_definer"),
                    "\(created.standardOutput)")
            let migrated = try await CoupletProcess.run(["migrate"], environment: asOwner)
            #expect(migrated.status == 0, "\(migrated.standardError)")
            #expect(migrated.standardOutput.contains("Applied 0006_roles.sql"), "\(migrated.standardOutput)")
            let granted = try await CoupletProcess.run(["roles", "grant", "couplet_worker", "worker_1"], environment: asOwner)
            #expect(granted.status == 0, "the owner may grant the roles: \(granted.standardError)")
        }
    }
}
