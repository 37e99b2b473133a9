import AsyncHTTPClient
import CoupletSchema
import Foundation
import Postgres
import PostgresTestSupport
import Testing

@testable import Queue

/// Real `couplet worker` and `couplet scheduler` processes with `--http-address`: what their
/// /metrics, /livez and /readyz answer.
@Suite("The processes' monitoring endpoints")
struct MonitoringProcessTests {
    @Test("after known jobs, /metrics counts them by kind, queue and outcome, with their run times; /livez and /readyz answer 200")
    func metricsCountJobs() async throws {
        try await WorkerFixture.with { f in
            let worker = try f.startWorker(["--http-address", "127.0.0.1:0", "--poll-interval", "100ms"])
            defer { worker.terminate() }
            let monitoring = try await Self.address(of: worker)
            _ = try await f.record(5)
            var failing = NewJob(kind: "diagnostic.record", argumentsJSON: #"{"table": "no_such_table"}"#)
            failing.maxAttempts = 1
            _ = try await JobQueue.enqueue([failing], on: f.db)
            #expect(try await eventually(within: .seconds(30)) {
                try await f.count("SELECT count(*) FROM couplet.jobs WHERE state IN ('completed', 'failed')") == 6
            })
            let samples = try await eventuallySamples(monitoring) { $0.value("couplet_jobs_finished_total", ["outcome": "completed"]) == 5 }
            #expect(samples.value("couplet_jobs_finished_total", ["kind": "diagnostic.record", "queue": "default", "outcome": "completed"]) == 5)
            #expect(samples.value("couplet_job_run_duration_seconds_count", ["kind": "diagnostic.record", "queue": "default"]) == 6)
            #expect(samples.names.filter { $0.hasPrefix("couplet_jobs_finished_total") }.count >= 1)
            let failed = samples.matching("couplet_jobs_finished_total").filter { $0.labels["outcome"] != "completed" }
            #expect(failed.map(\.value) == [1], "the failing job's attempt: \(failed)")
            #expect(samples.all.allSatisfy { $0.labels["job"] == nil && $0.labels["id"] == nil }, "no job ids as labels")
            #expect(samples.value("couplet_job_queue_wait_seconds_count", ["kind": "diagnostic.record", "queue": "default"]) == 6)
            #expect((samples.value("process_resident_memory_bytes", [:]) ?? 0) > 1_000_000)
            #expect((samples.value("process_open_fds", [:]) ?? 0) > 3)
            // Control, finisher, heartbeat, maintenance, listener and gauge connections, and the jobs' pool.
            #expect((samples.value("couplet_postgres_connections", [:]) ?? 0) >= 6)
            #expect(try await Self.get(monitoring, "livez").status == 200)
            #expect(try await Self.get(monitoring, "readyz").status == 200)
        }
    }

    @Test("the queue's gauges — jobs by queue and state, the oldest due job — come from one process at a time, and another takes over when it stops")
    func queueGaugesFromOneProcess() async throws {
        try await WorkerFixture.with { f in
            // Jobs on a queue no worker claims: 3 due (the oldest due 60 s ago), 1 for later, 1 held.
            let due = try await f.record(3, configure: { job, index in job.queue = "parked"; job.runAt = Date().addingTimeInterval(-60 + Double(index)) })
            _ = try await f.record(1, configure: { job, _ in job.queue = "parked"; job.runAt = Date().addingTimeInterval(3600) })
            try await f.db.query("SELECT couplet.hold_job(\(due[2]))")
            let workers = try (0..<2).map { _ in
                try f.startWorker(["--queues", "default", "--http-address", "127.0.0.1:0", "--gauge-interval", "200ms", "--lease", "3s"])
            }
            defer { workers.forEach { $0.terminate() } }
            var addresses: [String] = []
            for worker in workers { addresses.append(try await Self.address(of: worker)) }
            var exporters: [Int] = []
            #expect(try await eventually(within: .seconds(10)) {
                exporters = []
                for (index, address) in addresses.enumerated()
                where PrometheusSamples(text: try await Self.get(address, "metrics").body).value("couplet_queue_jobs", [:]) != nil {
                    exporters.append(index)
                }
                return exporters.count == 1
            }, "exactly one of the two workers exports the queue's gauges: \(exporters)")
            let reader = try #require(exporters.first)
            // Both workers registered by the time a reading counts them.
            let samples = try await eventuallySamples(addresses[reader]) { $0.value("couplet_queue_live_workers", ["queue": "default"]) == 2 }
            #expect(samples.value("couplet_queue_jobs", ["queue": "parked", "state": "waiting"]) == 2)
            #expect(samples.value("couplet_queue_jobs", ["queue": "parked", "state": "scheduled"]) == 1)
            #expect(samples.value("couplet_queue_jobs", ["queue": "parked", "state": "on_hold"]) == 1)
            #expect(samples.value("couplet_queue_jobs", ["queue": "parked", "state": "failed"]) == 0)
            let oldest = try #require(samples.value("couplet_queue_oldest_due_seconds", ["queue": "parked"]))
            #expect((59...120).contains(oldest), "the oldest due job has waited about a minute: \(oldest)")
            #expect(samples.value("couplet_queue_live_workers", ["queue": "parked"]) == 0, "both workers claim from default only")
            #expect(samples.value("couplet_queue_live_workers", ["queue": "default"]) == 2)
            #expect(samples.value("couplet_queue_jobs", ["queue": "default", "state": "waiting"]) == 0)

            workers[reader].terminate()
            _ = try await workers[reader].waitForExit()
            let other = addresses[1 - reader]
            #expect(try await eventually(within: .seconds(10)) {
                PrometheusSamples(text: try await Self.get(other, "metrics").body).value("couplet_queue_jobs", ["queue": "parked", "state": "waiting"]) == 2
            }, "the other worker takes over reading the gauges")
        }
    }

    @Test("after a full and a delta sync, /metrics counts the records by mapping, direction and result, the runs and their time, with the mapping's gauges")
    func syncMetrics() async throws {
        try await SyncProcessFixture.with(customers: 40) { f in
            let worker = try CoupletProcess.start(
                ["worker", "--queues", "sync", "--http-address", "127.0.0.1:0", "--gauge-interval", "200ms"], environment: f.environment)
            defer { worker.terminate() }
            let monitoring = try await Self.address(of: worker)
            #expect(try await CoupletProcess.run(["sync", "CUSTOMER", "--full", "--wait"], environment: f.environment).status == 0)
            try await f.erp.query("UPDATE customer SET city = 'Elsewhere', modified_at = clock_timestamp() WHERE no IN ('1', '2', '3')")
            #expect(try await CoupletProcess.run(["sync", "CUSTOMER", "--wait"], environment: f.environment).status == 0)
            let customer = ["mapping": "CUSTOMER", "direction": "to_integration"]
            let samples = try await eventuallySamples(monitoring) { $0.value("couplet_sync_couplings", ["mapping": "CUSTOMER"]) == 40 }
            #expect(samples.value("couplet_sync_records_total", customer.merging(["result": "inserted"]) { $1 }) == 40)
            #expect(samples.value("couplet_sync_records_total", customer.merging(["result": "modified"]) { $1 }) == 3)
            #expect(samples.value("couplet_sync_records_total", customer.merging(["result": "failed"]) { $1 }) == nil, "no record failed")
            #expect(samples.value("couplet_sync_runs_total", customer.merging(["kind": "full", "outcome": "succeeded"]) { $1 }) == 1)
            #expect(samples.value("couplet_sync_runs_total", customer.merging(["kind": "delta", "outcome": "succeeded"]) { $1 }) == 1)
            #expect(samples.value("couplet_sync_run_duration_seconds_count", customer) == 2)
            #expect(samples.value("couplet_sync_open_errors", ["mapping": "CUSTOMER"]) == 0)
            #expect(samples.value("couplet_sync_skipped_records", ["mapping": "CUSTOMER"]) == 0)
            let lag = try #require(samples.value("couplet_sync_watermark_lag_seconds", ["mapping": "CUSTOMER", "side": "local"]))
            #expect((0..<60).contains(lag), "the local watermark is the last edit's modified-on: \(lag)")

            // A value drifted apart behind the sync's back: couplet verify finds it, and the gauge shows what it left.
            try await f.crm.query("ALTER TABLE account DISABLE TRIGGER USER")
            try await f.crm.query("UPDATE account SET city = 'Drifted' WHERE name = 'Customer 7'")
            #expect(try await CoupletProcess.run(["verify", "CUSTOMER"], environment: f.environment).status == 2)
            let verified = try await eventuallySamples(monitoring) { $0.value("couplet_verify_problems", ["mapping": "CUSTOMER"]) != nil }
            #expect(verified.value("couplet_verify_problems", ["mapping": "CUSTOMER"]) == 1)
            #expect(abs((verified.value("couplet_verify_timestamp_seconds", ["mapping": "CUSTOMER"]) ?? 0) - Date().timeIntervalSince1970) < 60)
        }
    }

    @Test("/readyz turns unready when the coordination database goes away, and ready again when it returns; /livez stays alive")
    func readinessFollowsTheDatabase() async throws {
        try await PrivateCluster.with { cluster in
            let url = try await cluster.createDatabase("coordination")
            let db = try await PostgresConnection.connect(url)
            try await CoupletSchema.migrator.migrate(on: db)
            try await db.query("CHECKPOINT")  // the test cluster commits asynchronously; its immediate stop must not lose the migrations
            db.close()
            let worker = try CoupletProcess.start(
                ["worker", "--http-address", "127.0.0.1:0", "--lease", "3s"], environment: ["COUPLET_DATABASE_URL": url])
            defer { worker.terminate() }
            let monitoring = try await Self.address(of: worker)
            #expect(try await eventually(within: .seconds(10)) { try await Self.get(monitoring, "readyz").status == 200 })
            cluster.stop()
            let unready = try await Self.get(monitoring, "readyz")
            #expect(unready.status == 503)
            #expect(unready.body.contains("does not answer") && !unready.body.contains("postgres://"), "\(unready.body)")
            try cluster.start()
            let ready = try await eventually(within: .seconds(20)) { try await Self.get(monitoring, "readyz").status == 200 }
            let answer = try await Self.get(monitoring, "readyz").body
            #expect(ready, "\(answer) \(cluster.logTail())")
            #expect(try await Self.get(monitoring, "livez").status == 200)
        }
    }

    @Test("a database whose schema is newer than the binary is not ready, and says why")
    func readinessWantsTheBinarysSchema() async throws {
        try await WorkerFixture.with { f in
            let worker = try f.startWorker(["--http-address", "127.0.0.1:0"])
            defer { worker.terminate() }
            let monitoring = try await Self.address(of: worker)
            #expect(try await Self.get(monitoring, "readyz").status == 200)
            try await f.db.query("INSERT INTO couplet.schema_migrations (version, name, checksum) VALUES (9999, '9999_later.sql', 'x')")
            let answer = try await Self.get(monitoring, "readyz")
            #expect(answer.status == 503 && answer.body.contains("1 unknown to it"), "\(answer.status) \(answer.body)")
        }
    }

    @Test("a scheduler's /metrics shows it leads and counts its ticks by outcome; /livez and /readyz answer 200")
    func schedulerMetrics() async throws {
        try await SchedulerFixture.with { f in
            try await f.addSchedule("every-second", "* * * * * *")
            let scheduler = try CoupletProcess.start(
                ["scheduler", "--http-address", "127.0.0.1:0"], environment: ["COUPLET_DATABASE_URL": f.database.configuration.connectionString])
            defer { scheduler.terminate() }
            let monitoring = try await Self.address(of: scheduler)
            let samples = try await eventuallySamples(monitoring) { ($0.value("couplet_scheduler_ticks_total", ["outcome": "enqueued"]) ?? 0) >= 2 }
            #expect(samples.value("couplet_scheduler_leader", [:]) == 1)
            let enqueued = try #require(samples.value("couplet_scheduler_ticks_total", ["outcome": "enqueued"]))
            #expect(enqueued >= 2)
            #expect(Double(try await f.ticks("every-second").count) >= enqueued, "each counted tick is in couplet.schedule_ticks")
            #expect(try await Self.get(monitoring, "livez").status == 200)
            #expect(try await Self.get(monitoring, "readyz").status == 200)
        }
    }

    @Test("couplet bench queue --scrape-cost drains rounds with workers scraped and not, and every scrape answers")
    func scrapeCostBench() async throws {
        let server = try #require(ProcessInfo.processInfo.environment["COUPLET_TEST_DATABASE_URL"])
        let outcome = try await CoupletProcess.run(
            ["bench", "queue", "--jobs", "300", "--workers", "1", "--rounds", "1", "--latency-samples", "3", "--scrape-cost", "--skip-pgqueuer", "--json"],
            environment: ["COUPLET_DATABASE_URL": server])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        let figures = try JSONSerialization.jsonObject(with: Data(outcome.standardOutput.utf8)) as? [String: Any]
        for key in ["scraped_round_jobs_per_s", "unscraped_round_jobs_per_s", "scraped_round_cpu_us_per_job", "unscraped_round_cpu_us_per_job"] {
            let values = figures?[key] as? [Double] ?? []
            #expect(values.count == 1 && values.allSatisfy { $0 > 0 }, "\(key): \(outcome.standardOutput)")
        }
        #expect(figures?["failed_scrapes"] as? [Double] == [0], "\(outcome.standardOutput)")
    }

    @Test("couplet bench console fills the jobs, signs in as a reader and times the overview over HTTP")
    func consoleBench() async throws {
        let server = try #require(ProcessInfo.processInfo.environment["COUPLET_TEST_DATABASE_URL"])
        let outcome = try await CoupletProcess.run(
            ["bench", "console", "--jobs", "2000", "--requests", "3"], environment: ["COUPLET_DATABASE_URL": server])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        #expect(outcome.standardOutput.contains("Overview over HTTP: median ") && outcome.standardOutput.contains("(3 requests)"),
                "\(outcome.standardOutput)")
    }

    /// The address the process logged it listens on, in the line with `message`.
    static func address(of process: CoupletProcess.Running, logged message: String = "monitoring endpoints listening") async throws -> String {
        var found: String?
        _ = try await eventually(within: .seconds(30)) {
            found = process.standardError.split(separator: "\n").first { $0.contains(message) }
                .flatMap { line in line.split(separator: " ").first { $0.hasPrefix("address=") }.map { String($0.dropFirst("address=".count)) } }
            return found != nil
        }
        return try #require(found, "the process never said where it listens: \(process.standardError.suffix(2000))")
    }

    /// GET http://`address`/`path`: the status and the body.
    static func get(_ address: String, _ path: String) async throws -> (status: Int, body: String) {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://\(address)/\(path)"), timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 8 * 1024 * 1024)
        return (Int(response.status.code), String(buffer: body))
    }

    /// Scrapes /metrics until `condition` holds (a worker records an attempt just after writing its outcome).
    func eventuallySamples(_ address: String, _ condition: (PrometheusSamples) -> Bool) async throws -> PrometheusSamples {
        var samples = PrometheusSamples(text: "")
        _ = try await eventually(within: .seconds(10)) {
            samples = PrometheusSamples(text: try await Self.get(address, "metrics").body)
            return condition(samples)
        }
        return samples
    }
}

/// Prometheus' text exposition format, parsed: each sample's name, labels and value.
struct PrometheusSamples {
    struct Sample {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    let all: [Sample]

    init(text: String) {
        all = text.split(separator: "\n").compactMap { line in
            guard !line.hasPrefix("#"), let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                return nil
            }
            let series = line[..<space]
            guard let open = series.firstIndex(of: "{") else { return Sample(name: String(series), labels: [:], value: value) }
            var labels: [String: String] = [:]
            for pair in series[series.index(after: open)..<(series.lastIndex(of: "}") ?? series.endIndex)].split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2 { labels[String(parts[0])] = String(parts[1].dropFirst().dropLast()) }
            }
            return Sample(name: String(series[..<open]), labels: labels, value: value)
        }
    }

    var names: Set<String> { Set(all.map(\.name)) }

    func matching(_ name: String) -> [Sample] { all.filter { $0.name == name } }

    /// The sum of the samples of `name` whose labels include `labels`; nil when there are none.
    func value(_ name: String, _ labels: [String: String]) -> Double? {
        let found = matching(name).filter { sample in labels.allSatisfy { sample.labels[$0.key] == $0.value } }
        return found.isEmpty ? nil : found.map(\.value).reduce(0, +)
    }
}
