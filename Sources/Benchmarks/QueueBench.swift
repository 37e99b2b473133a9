import ArgumentParser
import CommandSupport
import CoupletSchema
import Foundation
import Postgres
import Queue

/// `couplet bench queue`: the queue's throughput and latency beside a baseline of the same SQL
/// driven by plain loops, on the same server in the same run.
struct QueueBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "Enqueue and processing rates, wake-up latency and worker memory, beside a plain-SQL baseline.",
        discussion: """
            Runs in a scratch database it creates and drops. Enqueue: batches of 5,000 through \
            JobQueue.enqueue, against COPY of the same rows. Processing: no-op jobs drained by real \
            `couplet worker` processes, against plain loops that run the same claim and finish \
            statements on as many connections with no framework around them, in --rounds rounds with \
            the same workers, each with its rate and its slowest finish statement (the longest a workers' \
            finish statement was seen running in pg_stat_activity, sampled every 10 ms). Latency: single \
            jobs enqueued while the workers idle, from enqueue to start (the NOTIFY path). Use a release build.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: "Jobs per measurement.")
    var jobs = 50_000

    @Option(help: "Worker processes (and baseline loops).")
    var workers = 2

    @Option(help: "Slots per worker process (and the baseline's claim batch).")
    var concurrency = 16

    @Option(help: "Rounds of processing with the same worker processes, each reported on its own.")
    var rounds = 1

    @Option(help: "Single jobs enqueued one by one for the latency figures.")
    var latencySamples = 200

    @Flag(help: "Also measure what serving /metrics, scraped every second, costs: --rounds pairs of rounds with fresh workers without and with --http-address, interleaved; medians compared.")
    var scrapeCost = false

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1") }
    }

    func run() async throws {
        let server = try BenchSupport.server(global)
        let figures = try await BenchSupport.withScratchDatabase(on: server) { database in
            let db = try await PostgresConnection.connect(database, applicationName: "couplet bench")
            try await CoupletSchema.migrator.migrate(on: db)
            var figures = QueueFigures()
            figures.enqueueJobsPerSecond = try await measureEnqueue(on: db)
            figures.baselineEnqueueJobsPerSecond = try await measureCopy(on: db)
            try await measureWorkers(database: database, db: db, into: &figures)
            figures.baselineProcessJobsPerSecond = try await measureBaselineProcessing(database: database, db: db)
            if scrapeCost { figures.scrapeCost = try await measureScrapeCost(database: database, db: db) }
            return figures
        }
        print(json ? figures.json : figures.text(workers: workers, concurrency: concurrency, jobs: jobs))
    }

    /// How the benchmark starts each worker process.
    var workerArguments: [String] { ["worker", "--concurrency", "\(concurrency)", "--poll-interval", "5s"] }

    private var noopJobs: [NewJob] { (0..<jobs).map { _ in NewJob(kind: "diagnostic.noop") } }

    private func reset(_ db: PostgresConnection) async throws {
        try await db.runScript("TRUNCATE couplet.jobs, couplet.job_attempts", name: "reset")
    }

    private func measureEnqueue(on db: PostgresConnection) async throws -> Double {
        let batches = stride(from: 0, to: jobs, by: 5000).map { Array(noopJobs[$0..<min($0 + 5000, jobs)]) }
        let start = ContinuousClock.now
        for batch in batches { try await JobQueue.enqueue(batch, on: db) }
        let rate = Double(jobs) / BenchSupport.seconds(since: start)
        try await reset(db)
        return rate
    }

    private func measureCopy(on db: PostgresConnection) async throws -> Double {
        let columns = try ["kind", "args", "queue"].map { try PostgresIdentifier($0) }
        let rows = (0..<jobs).lazy.map { _ -> [any PostgresEncodable] in ["diagnostic.noop", "{}", "default"] }
        let start = ContinuousClock.now
        try await db.copy(into: PostgresIdentifier("jobs", schema: "couplet"), columns: columns, rows: rows)
        let rate = Double(jobs) / BenchSupport.seconds(since: start)
        try await reset(db)
        return rate
    }

    /// Real worker processes: idle memory, drain rate, wake-up latency, peak memory.
    private func measureWorkers(database: PostgresConfiguration, db: PostgresConnection, into figures: inout QueueFigures) async throws {
        let processes = try (0..<workers).map { _ in try BenchSupport.startChild(workerArguments, database: database) }
        defer { for process in processes where process.isRunning { process.terminate() } }
        try await waitUntil(db, "SELECT count(*) = \(workers) FROM couplet.workers")
        try await Task.sleep(for: .seconds(1))
        figures.workerIdleRSSMegabytes = processes.map { BenchSupport.memory(of: $0.processIdentifier).resident }.max() ?? 0

        for _ in 0..<rounds {
            figures.rounds.append(try await measureRound(database: database, db: db))
        }

        for _ in 0..<latencySamples {
            try await JobQueue.enqueue(NewJob(kind: "diagnostic.noop"), on: db)
            try await Task.sleep(for: .milliseconds(10))
        }
        try await waitUntil(db, "SELECT count(*) = 0 FROM couplet.jobs WHERE state <> 'completed'")
        let (p50, p99) = try await db.query(
            """
            SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY latency), percentile_cont(0.99) WITHIN GROUP (ORDER BY latency)
            FROM (SELECT extract(epoch FROM attempted_at - created_at)::float8 * 1000 AS latency FROM couplet.jobs) l
            """
        ).single().decode((Double, Double).self)
        figures.latencyP50Milliseconds = p50
        figures.latencyP99Milliseconds = p99
        figures.workerPeakRSSMegabytes = processes.map { BenchSupport.memory(of: $0.processIdentifier).peak }.max() ?? 0
        for process in processes { process.terminate() }
        for process in processes { process.waitUntilExit() }
        try await reset(db)
    }

    /// One round of processing: enqueues the jobs, waits until the workers completed them all, and
    /// watches their finish statements meanwhile.
    func measureRound(database: PostgresConfiguration, db: PostgresConnection) async throws -> QueueRound {
        for start in stride(from: 0, to: jobs, by: 5000) {
            try await JobQueue.enqueue(Array(noopJobs[start..<min(start + 5000, jobs)]), on: db)
        }
        let watcher = try await PostgresConnection.connect(database, applicationName: "couplet bench watcher")
        defer { watcher.close() }
        let slowestFinish = Task { try await Self.slowestFinish(on: watcher) }
        do {
            try await waitUntil(db, "SELECT count(*) = 0 FROM couplet.jobs WHERE state <> 'completed'")
        } catch {
            slowestFinish.cancel()
            throw error
        }
        slowestFinish.cancel()
        let duration = try await db.query(
            "SELECT extract(epoch FROM max(finished_at) - min(attempted_at))::float8 FROM couplet.jobs"
        ).single().decode(Double.self, at: 0)
        try await reset(db)
        return QueueRound(jobsPerSecond: Double(jobs) / duration, slowestFinishSeconds: try await slowestFinish.value)
    }

    /// Until cancelled, samples every 10 ms how long the workers' finish statements in this database
    /// have been running (waiting on locks included), and returns the longest seen, in seconds.
    private static func slowestFinish(on connection: PostgresConnection) async throws -> Double {
        var slowest = 0.0
        while !Task.isCancelled {
            do {
                slowest = max(slowest, try await connection.query(
                    """
                    SELECT coalesce(max(extract(epoch FROM clock_timestamp() - query_start)), 0)::float8
                    FROM pg_stat_activity
                    WHERE datname = current_database() AND application_name = 'couplet worker finisher' AND state = 'active'
                    """, name: "slowest finish"
                ).single().decode(Double.self, at: 0))
                try await Task.sleep(for: .milliseconds(10))
            } catch where Task.isCancelled {
                break
            }
        }
        return slowest
    }

    /// The same claim and finish statements in plain loops, one connection per worker.
    private func measureBaselineProcessing(database: PostgresConfiguration, db: PostgresConnection) async throws -> Double {
        for start in stride(from: 0, to: jobs, by: 5000) {
            try await JobQueue.enqueue(Array(noopJobs[start..<min(start + 5000, jobs)]), on: db)
        }
        let batch = concurrency
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<workers {
                group.addTask {
                    let connection = try await PostgresConnection.connect(database, applicationName: "couplet bench baseline")
                    try await connection.runScript(JobWorker.queueSessionSettings, name: "queue session settings")  // as workers do
                    let worker = UUID()
                    while true {
                        let claimed = try await JobQueue.claim(
                            limit: batch, queue: "default", workerID: worker, on: connection)
                        if claimed.isEmpty { break }
                        try await JobQueue.finish(
                            claimed.map { JobOutcome(jobID: $0.id, attempt: $0.attempt, state: .completed) }, on: connection)
                    }
                }
            }
            try await group.waitForAll()
        }
        return Double(jobs) / BenchSupport.seconds(since: start)
    }

    func waitUntil(_ db: PostgresConnection, _ condition: PostgresQuery) async throws {
        let deadline = ContinuousClock.now + .seconds(600)
        while try await !db.query(condition).single().decode(Bool.self, at: 0) {
            guard ContinuousClock.now < deadline else { throw ValidationError("the benchmark did not finish within 10 minutes") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// One round of `couplet bench queue`'s processing.
struct QueueRound {
    /// Jobs completed per second, from the first start to the last finish.
    var jobsPerSecond: Double
    /// The longest any finish statement was seen running.
    var slowestFinishSeconds: Double
}

/// The figures `couplet bench queue` reports.
struct QueueFigures {
    var enqueueJobsPerSecond = 0.0
    var baselineEnqueueJobsPerSecond = 0.0
    var rounds: [QueueRound] = []
    var baselineProcessJobsPerSecond = 0.0
    var latencyP50Milliseconds = 0.0
    var latencyP99Milliseconds = 0.0
    var workerIdleRSSMegabytes = 0.0
    var workerPeakRSSMegabytes = 0.0
    /// With `--scrape-cost`: what serving /metrics costs.
    var scrapeCost: ScrapeCost?

    /// The processing rate over all rounds: each round's jobs over its duration, averaged by time.
    var processJobsPerSecond: Double {
        Double(rounds.count) / rounds.map { 1 / $0.jobsPerSecond }.reduce(0, +)
    }

    var json: String {
        let fields: [(String, Double)] = [
            ("enqueue_jobs_per_s", enqueueJobsPerSecond), ("baseline_enqueue_jobs_per_s", baselineEnqueueJobsPerSecond),
            ("process_jobs_per_s", processJobsPerSecond), ("baseline_process_jobs_per_s", baselineProcessJobsPerSecond),
            ("latency_p50_ms", latencyP50Milliseconds), ("latency_p99_ms", latencyP99Milliseconds),
            ("worker_idle_rss_mb", workerIdleRSSMegabytes), ("worker_peak_rss_mb", workerPeakRSSMegabytes),
        ]
        func number(_ value: Double) -> String { "\((value * 10).rounded() / 10)" }
        let perRound = [
            ("round_jobs_per_s", rounds.map { number($0.jobsPerSecond) }),
            ("round_slowest_finish_ms", rounds.map { number($0.slowestFinishSeconds * 1000) }),
        ] + (scrapeCost.map { cost in
            [("scraped_round_jobs_per_s", cost.with.map { number($0.jobsPerSecond) }), ("unscraped_round_jobs_per_s", cost.without.map { number($0.jobsPerSecond) }),
             ("scraped_round_cpu_us_per_job", cost.with.map { number($0.cpuMicrosecondsPerJob) }),
             ("unscraped_round_cpu_us_per_job", cost.without.map { number($0.cpuMicrosecondsPerJob) }),
             ("failed_scrapes", [String(cost.failedScrapes)])]
        } ?? [])
        return "{" + (fields.map { "\"\($0.0)\": \(number($0.1))" } + perRound.map { "\"\($0.0)\": [\($0.1.joined(separator: ", "))]" })
            .joined(separator: ", ") + "}"
    }

    func text(workers: Int, concurrency: Int, jobs: Int) -> String {
        func rate(_ value: Double) -> String { "\(Int(value.rounded())) jobs/s" }
        func ratio(_ framework: Double, _ baseline: Double) -> String { "\(Int((framework / baseline * 100).rounded())) % of baseline" }
        return """
            couplet bench queue: \(jobs) jobs, \(workers) worker processes × \(concurrency) slots
              enqueue (batches of 5,000)   \(rate(enqueueJobsPerSecond).padded(to: 16)) baseline COPY \(rate(baselineEnqueueJobsPerSecond).padded(to: 16)) \(ratio(enqueueJobsPerSecond, baselineEnqueueJobsPerSecond))
              process no-op jobs           \(rate(processJobsPerSecond).padded(to: 16)) baseline loop \(rate(baselineProcessJobsPerSecond).padded(to: 16)) \(ratio(processJobsPerSecond, baselineProcessJobsPerSecond))
            \(rounds.enumerated().map { "    round \($0 + 1)".padded(to: 31) + "\(rate($1.jobsPerSecond).padded(to: 16)) slowest finish statement \(String(format: "%.1f", $1.slowestFinishSeconds * 1000)) ms" }.joined(separator: "\n"))
              enqueue → start when idle    p50 \(String(format: "%.1f", latencyP50Milliseconds)) ms, p99 \(String(format: "%.1f", latencyP99Milliseconds)) ms
              worker resident memory       idle \(String(format: "%.1f", workerIdleRSSMegabytes)) MB, peak under load \(String(format: "%.1f", workerPeakRSSMegabytes)) MB
            """ + (scrapeCost.map { "\n" + $0.text } ?? "")
    }
}
