import Foundation
import PostgresTestSupport
import Testing

/// `deploy/monitoring/`: the Prometheus alert rules and the Grafana dashboard, checked against
/// promtool and against what real processes export.
@Suite("The monitoring artefacts of deploy/monitoring")
struct MonitoringArtefactsTests {
    static let folder = URL(filePath: #filePath).deletingLastPathComponent().appending(path: "../../deploy/monitoring").standardized

    @Test("promtool accepts the alert rules, and their unit tests (which alerts fire on which series) pass")
    func promtoolAcceptsTheRules() async throws {
        let check = try await Self.promtool(["check", "rules", "alerts.yaml"])
        #expect(check.status == 0, "\(check.output)")
        let test = try await Self.promtool(["test", "rules", "alerts-test.yaml"])
        #expect(test.status == 0 && test.output.contains("SUCCESS"), "\(test.output)")
    }

    @Test("every metric the rules and the dashboard use is one a worker or a scheduler exports, and docs/operations.md lists each one exported")
    func artefactsUseExportedNames() async throws {
        let used = try Self.metricNames(in: String(contentsOf: Self.folder.appending(path: "alerts.yaml"), encoding: .utf8))
            .union(Self.metricNames(in: String(contentsOf: Self.folder.appending(path: "grafana-dashboard.json"), encoding: .utf8)))
        #expect(used.count > 20, "\(used.sorted())")
        let exported = try await Self.exportedNames()
        #expect(used.subtracting(exported).isEmpty, "used but never exported: \(used.subtracting(exported).sorted())")
        let catalogue = try Self.metricNames(in: DocumentationPage.named("docs/operations.md").text)
        #expect(exported.subtracting(catalogue).isEmpty, "exported but not in docs/operations.md: \(exported.subtracting(catalogue).sorted())")
    }

    /// The names of the metrics a worker and a scheduler export once they have run jobs, syncs, a
    /// verify and scheduled ticks on PostgreSQL endpoints, and a worker once it has synced to the
    /// emulated Dataverse (throttled, to count 429 answers); a histogram's series count under its base name.
    static func exportedNames() async throws -> Set<String> {
        var names: Set<String> = []
        try await SyncProcessFixture.with(customers: 30) { f in
            try await f.coordination.query(
                "INSERT INTO couplet.schedules (name, expression, job_kind, queue) VALUES ('tick', '* * * * * *', 'diagnostic.noop', 'sync')")
            let processes = try [["worker", "--queues", "sync", "--lease", "2s"], ["scheduler"]].map { command in
                try CoupletProcess.start(command + ["--http-address", "127.0.0.1:0", "--gauge-interval", "200ms"], environment: f.environment)
            }
            defer { processes.forEach { $0.terminate() } }
            #expect(try await CoupletProcess.run(["sync", "CUSTOMER", "--full", "--wait"], environment: f.environment).status == 0)
            #expect(try await CoupletProcess.run(["verify", "CUSTOMER"], environment: f.environment).status == 0)
            // Either process may be the one reading the database's gauges.
            // The worker counts rescues after its first maintenance round (a quarter of its lease).
            try await scrape(processes, into: &names) { found in
                ["couplet_verify_problems", "couplet_scheduler_ticks_total", "couplet_jobs_rescued_total"].allSatisfy(found.contains)
            }
        }
        try await DataverseProcessFixture.with(debtors: 300, emulator: { $0.requestLimit = 2; $0.limitWindow = 2 }) { f in
            #expect(try await CoupletProcess.run(["mappings", "apply", "mappings.yaml"], environment: f.environment, directory: f.folder).status == 0)
            let worker = try CoupletProcess.start(["worker", "--queues", "sync", "--http-address", "127.0.0.1:0"], environment: f.environment)
            defer { worker.terminate() }
            #expect(try await CoupletProcess.run(["sync", "DEBTOR", "--full", "--wait"], environment: f.environment).status == 0)
            try await scrape([worker], into: &names) { $0.contains("couplet_connector_throttled_total") }
        }
        return names
    }

    /// Scrapes every process's /metrics into `names` until `enough` holds of them.
    static func scrape(_ processes: [CoupletProcess.Running], into names: inout Set<String>, until enough: (Set<String>) -> Bool) async throws {
        var addresses: [String] = []
        for process in processes { addresses.append(try await MonitoringProcessTests.address(of: process)) }
        var found = names
        _ = try await eventually(within: .seconds(10)) {
            for address in addresses {
                found.formUnion(PrometheusSamples(text: try await MonitoringProcessTests.get(address, "metrics").body).names.map(baseName))
            }
            return enough(found)
        }
        names = found
    }

    /// The metric names in `text`: Couplet's own and the process metrics.
    static func metricNames(in text: String) -> Set<String> {
        Set(text.matches(of: /\b(?:couplet|process)_[a-z_]+[a-z]\b/).map { baseName(String($0.output)) })
    }

    /// A histogram series' metric: its name without `_bucket`, `_count` or `_sum`.
    static func baseName(_ name: String) -> String {
        for suffix in ["_bucket", "_count", "_sum"] where name.hasSuffix(suffix) { return String(name.dropLast(suffix.count)) }
        return name
    }

    /// Runs promtool in deploy/monitoring; its exit status and output.
    static func promtool(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(filePath: "/usr/bin/env")
        process.arguments = ["promtool"] + arguments
        process.currentDirectoryURL = folder
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }
}
