import DataverseEmulator
import Foundation
import Logging
import Postgres
import PostgresTestSupport
import Testing

/// Real `couplet` processes with the CRM behind the Dataverse Web API (the emulator, in this test's
/// process, over HTTP on loopback): `mappings apply` signs in and checks the tables, workers sync.
struct DataverseProcessFixture {
    let coordination: PostgresConnection
    let erp: PostgresConnection
    let crm: PostgresConnection
    let environment: [String: String]
    let folder: URL

    static let secret = "process-test-secret"

    static func with(
        debtors: Int, emulator configure: (inout DataverseEmulator.Configuration) -> Void = { _ in },
        isolation: isolated (any Actor)? = #isolation, _ body: (DataverseProcessFixture) async throws -> Void
    ) async throws {
        try await withMigratedDatabase { coordinationDatabase, coordination in
            try await SampleEndpoints.with(
                erpSchema: """
                    CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.modified_at := now(); RETURN NEW; END $$;
                    CREATE TABLE debtor (id serial PRIMARY KEY, name text NOT NULL, country char(2), modified_at timestamptz NOT NULL DEFAULT now());
                    CREATE TRIGGER touch BEFORE UPDATE ON debtor FOR EACH ROW EXECUTE FUNCTION touch();
                    """,
                crmSchema: """
                    CREATE TABLE account (accountid uuid PRIMARY KEY DEFAULT gen_random_uuid(), accountnumber text, name text NOT NULL,
                                          address1_country text, modifiedon timestamptz NOT NULL DEFAULT now());
                    """
            ) { sample in
                try await sample.erp.query(
                    "INSERT INTO debtor (name, country) SELECT 'Debtor ' || n, 'DE' FROM generate_series(1, \(debtors)) n")
                var configuration = DataverseEmulator.Configuration(
                    database: try PostgresConfiguration(sample.environment["COUPLET_ENDPOINT_CRM_URL"] ?? ""), clientSecret: secret)
                configuration.databaseConnections = 4
                configure(&configuration)
                let emulator = DataverseEmulator(configuration: configuration, logger: Logger(label: "emulator", factory: { _ in SwiftLogNoOpLogHandler() }))
                _ = try await emulator.start()
                let folder = FileManager.default.temporaryDirectory.appending(path: "couplet-dataverse-\(UUID().uuidString)")
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                try mappings(emulator).write(to: folder.appending(path: "mappings.yaml"), atomically: true, encoding: .utf8)
                let environment = [
                    "COUPLET_DATABASE_URL": coordinationDatabase.configuration.connectionString,
                    "COUPLET_ENDPOINT_ERP_URL": sample.environment["COUPLET_ENDPOINT_ERP_URL"] ?? "",
                    "COUPLET_ENDPOINT_CRM_SECRET": secret,
                ]
                do {
                    try await body(DataverseProcessFixture(
                        coordination: coordination, erp: sample.erp, crm: sample.crm, environment: environment, folder: folder))
                } catch {
                    await emulator.stop()
                    throw error
                }
                await emulator.stop()
                try? FileManager.default.removeItem(at: folder)
            }
        }
    }

    static func mappings(_ emulator: DataverseEmulator) -> String {
        """
        endpoints:
          - {name: erp}
          - {name: crm, kind: dataverse, url: "\(emulator.environmentURL)", tenant: contoso.onmicrosoft.com,
             client_id: \(emulator.configuration.clientID), authority: "\(emulator.environmentURL)/"}
        mappings:
          - name: DEBTOR
            direction: to_integration
            sync_only_coupled: false
            batch_size: 100
            local: {endpoint: erp, table: debtor, key: id, modified: modified_at}
            integration: {endpoint: crm, table: account, key: accountid, modified: modifiedon}
            fields:
              - {local: id, integration: accountnumber}
              - {local: name, integration: name}
              - {local: country, integration: address1_country}
        """
    }

    func count(_ connection: PostgresConnection, _ sql: PostgresQuery) async throws -> Int {
        try await connection.query(sql).single().decode(Int.self, at: 0)
    }
}

@Suite struct DataverseProcessTests {
    @Test("a worker killed mid-sync to Dataverse: the job is rescued and rerun over the Web API, with no duplicate and nothing lost")
    func killedMidSync() async throws {
        try await DataverseProcessFixture.with(debtors: 1_000) { f in
            try await KilledWorkerRescue(
                environment: f.environment, coordination: f.coordination, target: f.crm, table: "account", distinctColumn: "accountnumber",
                records: 1_000, secret: DataverseProcessFixture.secret
            ).run(mappingsIn: f.folder)
        }
    }

    @Test("a worker that Dataverse answers 429 finishes its sync by waiting, and couplet status shows the waits")
    func throttled() async throws {
        // A budget of 2 requests per 2 seconds: reading metadata and writing 300 records in batches of 100 exceed it.
        try await DataverseProcessFixture.with(debtors: 300, emulator: { $0.requestLimit = 2; $0.limitWindow = 2 }) { f in
            let apply = try await CoupletProcess.run(["mappings", "apply", "mappings.yaml"], environment: f.environment, directory: f.folder)
            #expect(apply.status == 0, "\(apply.standardError)")
            let worker = try CoupletProcess.start(["worker", "--queues", "sync", "--http-address", "127.0.0.1:0"], environment: f.environment)
            let monitoring = try await MonitoringProcessTests.address(of: worker)
            #expect(try await CoupletProcess.run(["sync", "DEBTOR", "--full"], environment: f.environment).status == 0)
            #expect(try await eventually(within: .seconds(120), every: .milliseconds(200)) {
                try await f.count(f.coordination, "SELECT count(*) FROM couplet.jobs WHERE kind = 'sync.full' AND state = 'completed'") == 1
            })
            #expect(try await f.count(f.crm, "SELECT count(*) FROM account") == 300)
            #expect(try await f.count(f.coordination, "SELECT count(*) FROM couplet.sync_errors") == 0, "only waits, no failed record")
            #expect(try await eventually(within: .seconds(30), every: .milliseconds(200)) {
                try await f.count(f.coordination, "SELECT count(*) FROM couplet.endpoint_limits WHERE endpoint = 'crm' AND throttled > 0") == 1
            }, "the worker records the 429 answers it waited out")
            let samples = PrometheusSamples(text: try await MonitoringProcessTests.get(monitoring, "metrics").body)
            #expect((samples.value("couplet_connector_requests_total", ["endpoint": "crm", "outcome": "2xx"]) ?? 0) >= 3)
            #expect((samples.value("couplet_connector_requests_total", ["endpoint": "crm", "outcome": "429"]) ?? 0) > 0)
            #expect((samples.value("couplet_connector_throttled_total", ["endpoint": "crm"]) ?? 0) > 0)
            #expect((samples.value("couplet_connector_wait_seconds_total", ["endpoint": "crm"]) ?? 0) > 0.5, "the waits for the limits, in seconds")
            let status = try await CoupletProcess.run(["status"], environment: f.environment)
            let row = lines(status.standardOutput).first { $0.hasPrefix("  crm ") }
            #expect(status.standardOutput.contains("API limits") && row != nil, "\(status.standardOutput)")
            #expect(row.map { Int($0.split(separator: " ").last ?? "") ?? 0 } ?? 0 > 0, "its 429 answers: \(row ?? "none")")
            worker.terminate()
            #expect(try await worker.waitForExit().status == 0)
        }
    }

    @Test("couplet bench connector syncs to the emulated Dataverse and back beside PostgreSQL, and reports requests per 1,000 records")
    func bench() async throws {
        let server = try #require(ProcessInfo.processInfo.environment["COUPLET_TEST_DATABASE_URL"])
        let outcome = try await CoupletProcess.run(["bench", "connector", "--rows", "300"], environment: ["COUPLET_DATABASE_URL": server])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        let lines = outcome.standardOutput.split(separator: "\n")
        #expect(lines.filter { $0.contains("records/s") }.count == 3, "\(outcome.standardOutput)")
        #expect(lines.filter { $0.contains("requests per 1,000 records") }.count == 2, "\(outcome.standardOutput)")
    }
}
