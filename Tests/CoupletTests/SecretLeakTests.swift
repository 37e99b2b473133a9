import Foundation
import Postgres
import PostgresTestSupport
import Testing

/// Endpoint connection strings that once leaked their password into errors, and that password.
private let endpointProbes: [(url: String, password: String)] = [
    ("postgres://syncer:b64/Pass+Word@127.0.0.1:1/erp", "Pass+Word"),
    ("postgres://syncer:Sup3r%ZZSecret@127.0.0.1:1/erp", "Sup3r%ZZSecret"),
    ("host=127.0.0.1 port=1 user=syncer password=Kw Secret99 dbname=erp", "Secret99"),
    ("postgres://syncer:Wr0ngSecret@127.0.0.1:1/erp?sslmode=Sslm0deSecret", "Sslm0deSecret"),
]

@Suite("Passwords never reach logs, job rows, sync errors, ps or status output", .serialized)
struct SecretLeakTests {
    @Test("a sync job on a bad endpoint URL stores and logs which setting is wrong, never the password")
    func endpointProbesLeakNothing() async throws {
        try await SyncProcessFixture.with(customers: 1) { f in
            var seen: [String] = []
            for probe in endpointProbes {
                var environment = f.environment
                environment["COUPLET_ENDPOINT_ERP_URL"] = probe.url
                let worker = try CoupletProcess.start(["worker", "--queues", "sync"], environment: environment)
                let sync = try await CoupletProcess.run(["sync", "CUSTOMER"], environment: environment)
                seen += [sync.standardOutput, sync.standardError, Self.arguments(of: worker.pid)]
                seen.append(try await Self.firstJobError(on: f.coordination))
                for command in [["status"], ["jobs"]] {
                    let outcome = try await CoupletProcess.run(command, environment: f.environment)
                    seen += [outcome.standardOutput, outcome.standardError]
                }
                worker.terminate()
                let stopped = try await worker.waitForExit()
                seen += [stopped.standardOutput, stopped.standardError]
                try await f.coordination.query("DELETE FROM couplet.jobs")
            }
            seen.append(
                try await f.coordination.query(
                    "SELECT coalesce(string_agg(concat_ws(' ', message, record_message, detail), ' '), '') FROM couplet.sync_errors"
                ).single().decode(String.self, at: 0))
            let everything = seen.joined(separator: "\n")
            #expect(everything.contains("COUPLET_ENDPOINT_ERP_URL is not a valid connection string"), "\(everything)")
            for probe in endpointProbes {
                #expect(!everything.contains(probe.password), "\(probe.password) leaked: \(everything)")
            }
        }
    }

    @Test("a worker and a scheduler given a password with --database-url blank it in the process list and warn, without showing it")
    func commandLinePasswordHidden() async throws {
        try await TestLogin.with { login in
            try await withMigratedDatabase { database, _ in
                let environment = ["COUPLET_DATABASE_URL": database.configuration.connectionString]
                let granted = try await CoupletProcess.run(["roles", "grant", "couplet_worker", login.name], environment: environment)
                #expect(granted.status == 0, "\(granted.standardError)")
                let url = try login.connectionString(like: database.configuration.connectionString) + " password='\(login.password)'"
                for command in ["worker", "scheduler"] {
                    let running = try CoupletProcess.start([command, "--database-url", url])
                    try await Self.waitUntil { running.standardError.contains("password was visible in the process list until now") }
                    let shown = Self.arguments(of: running.pid)
                    running.terminate()
                    let stopped = try await running.waitForExit()
                    #expect(shown.contains("--database-url xxxxxxxx"), "\(command): \(shown)")
                    #expect(!(shown + stopped.standardError + stopped.standardOutput).contains(login.password), "\(command)")
                }
            }
        }
    }

    /// Waits until `condition` holds, at most 30 s.
    private static func waitUntil(_ condition: () -> Bool) async throws {
        for _ in 0..<300 where !condition() { try await Task.sleep(for: .milliseconds(100)) }
        #expect(condition(), "timed out")
    }

    /// The stored errors of the one job, once its first attempt has failed (at most 30 s later).
    private static func firstJobError(on coordination: PostgresConnection) async throws -> String {
        for _ in 0..<120 {
            let errors = try await coordination.query(
                "SELECT errors::text FROM couplet.jobs WHERE jsonb_array_length(errors) > 0 LIMIT 1")
            if let row = errors.first { return try row.decode(String.self, at: 0) }
            try await Task.sleep(for: .milliseconds(250))
        }
        Issue.record("the sync job never failed")
        return ""
    }

    /// The process's arguments as `ps` shows them.
    private static func arguments(of pid: Int32) -> String {
        let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") ?? Data()
        return String(decoding: data.map { $0 == 0 ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
    }
}
