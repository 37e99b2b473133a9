import ArgumentParser
import CommandSupport
import CoupletSchema
import Foundation
import Postgres
import Queue

/// `couplet bench queue`: the queue's throughput and latency beside two independent baselines on the
/// same server in the same run: the canonical minimal queue in plain SQL (pgbench) and PgQueuer.
struct QueueBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "Enqueue and processing rates, wake-up latency and worker memory, beside the minimal SQL queue and PgQueuer.",
        discussion: """
            Runs in a scratch database it creates and drops. Enqueue: JobQueue.enqueue in batches of \
            --baseline-batch on one connection, against the minimal queue's INSERT of as many rows per \
            statement (pgbench). Processing: no-op jobs drained by real `couplet worker` processes, \
            interleaved round by round with two baselines: the minimal queue in plain SQL (a table with a \
            partial index on available jobs; --workers pgbench clients each claim --baseline-batch jobs \
            with FOR UPDATE SKIP LOCKED, commit, mark them completed, commit) and PgQueuer's drain \
            benchmark (deploy/bench/pgqueuer-drain: --workers processes dequeuing batches of \
            --baseline-batch; installed from PyPI on first use). Medians of --rounds rounds and their \
            ratios are printed, with each round's figures. Also: the same claim and finish statements in \
            plain Swift loops (what the worker around them costs), the enqueue-to-start latency while the \
            workers idle (the NOTIFY path), and worker memory. Use a release build, from the repository.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: "Jobs per measurement.")
    var jobs = 50_000

    @Option(help: "Worker processes (and baseline clients).")
    var workers = 2

    @Option(help: "Slots per worker process, the most a claim takes (and the plain loops' claim batch); by default as many as the baselines' batch.")
    var concurrency = 100

    @Option(help: "Rounds of processing, each running Couplet and the baselines in turn.")
    var rounds = 3

    @Option(help: "Jobs per claim and per INSERT for the baselines, and per enqueue call for Couplet.")
    var baselineBatch = 100

    @Option(help: "The pgbench that drives the minimal queue.")
    var pgbench = "pgbench"

    @Option(help: "The script that runs PgQueuer's drain benchmark.")
    var pgqueuerScript = "deploy/bench/pgqueuer-drain"

    @Flag(help: "Leave PgQueuer out (no Python, no PyPI).")
    var skipPgqueuer = false

    @Option(help: "Single jobs enqueued one by one for the latency figures.")
    var latencySamples = 200

    @Flag(help: "Also measure what serving /metrics, scraped every second, costs: --rounds pairs of rounds with fresh workers without and with --http-address, interleaved; medians compared.")
    var scrapeCost = false

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1") }
        guard (1...10_000).contains(baselineBatch), jobs >= baselineBatch else {
            throw ValidationError("--baseline-batch must be from 1 to 10000, and --jobs at least as many")
        }
        guard skipPgqueuer || FileManager.default.isExecutableFile(atPath: pgqueuerScript) else {
            throw ValidationError("\(pgqueuerScript) is missing: run from the repository, pass --pgqueuer-script or --skip-pgqueuer")
        }
    }

    func run() async throws {
        let server = try BenchSupport.server(global)
        let figures = try await BenchSupport.withScratchDatabase(on: server) { database in
            let db = try await PostgresConnection.connect(database, applicationName: "couplet bench")
            try await CoupletSchema.migrator.migrate(on: db)
            let baselines = QueueBaselines(
                database: database, jobs: jobs, clients: workers, batch: baselineBatch, pgbench: pgbench,
                pgQueuerScript: skipPgqueuer ? nil : pgqueuerScript)
            try await baselines.prepare(on: db)
            var figures = QueueFigures()
            figures.enqueueJobsPerSecond = try await measureEnqueue(on: db)
            figures.baselineEnqueueJobsPerSecond = try await baselines.minimalQueueEnqueue(on: db)
            try await measureWorkers(database: database, db: db, baselines: baselines, into: &figures)
            figures.plainLoopJobsPerSecond = try await measurePlainLoops(database: database, db: db)
            if scrapeCost { figures.scrapeCost = try await measureScrapeCost(database: database, db: db) }
            return figures
        }
        print(json ? figures.json : figures.text(workers: workers, concurrency: concurrency, jobs: jobs, batch: baselineBatch))
    }

    /// How the benchmark starts each worker process.
    var workerArguments: [String] { ["worker", "--concurrency", "\(concurrency)", "--poll-interval", "5s"] }

    private var noopJobs: [NewJob] { (0..<jobs).map { _ in NewJob(kind: "diagnostic.noop") } }

    private func reset(_ db: PostgresConnection) async throws {
        try await db.runScript("TRUNCATE couplet.jobs, couplet.job_attempts", name: "reset")
    }

    /// Couplet's enqueue rate in batches of `baselineBatch` on one connection.
    private func measureEnqueue(on db: PostgresConnection) async throws -> Double {
        let batches = stride(from: 0, to: jobs, by: baselineBatch).map { Array(noopJobs[$0..<min($0 + baselineBatch, jobs)]) }
        let start = ContinuousClock.now
        for batch in batches { try await JobQueue.enqueue(batch, on: db) }
        let rate = Double(jobs) / BenchSupport.seconds(since: start)
        try await reset(db)
        return rate
    }

    /// Real worker processes: idle memory, drain rate in rounds interleaved with the baselines',
    /// wake-up latency, peak memory.
    private func measureWorkers(
        database: PostgresConfiguration, db: PostgresConnection, baselines: QueueBaselines, into figures: inout QueueFigures
    ) async throws {
        let processes = try (0..<workers).map { _ in try BenchSupport.startChild(workerArguments, database: database) }
        defer { for process in processes where process.isRunning { process.terminate() } }
        try await waitUntil(db, "SELECT count(*) = \(workers) FROM couplet.workers")
        try await Task.sleep(for: .seconds(1))
        figures.workerIdleRSSMegabytes = processes.map { BenchSupport.memory(of: $0.processIdentifier).resident }.max() ?? 0

        for _ in 0..<rounds {
            figures.rounds.append(try await measureRound(database: database, db: db))
            figures.minimalQueueRounds.append(try await baselines.minimalQueueDrain(on: db))
            if let rate = try await baselines.pgQueuerDrain() { figures.pgQueuerRounds.append(rate) }
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

    /// Couplet's own claim and finish statements in plain loops, one connection per worker: what the
    /// worker process around them costs (not a baseline of the design, which the statements are).
    private func measurePlainLoops(database: PostgresConfiguration, db: PostgresConnection) async throws -> Double {
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

    /// Waits until `condition` holds, asking every 200 ms: the conditions count the jobs table, and
    /// asked more often they would take the CPU from the workers measured (the rates come from the
    /// jobs' own timestamps, so the waiting does not lengthen them).
    func waitUntil(_ db: PostgresConnection, _ condition: PostgresQuery) async throws {
        let deadline = ContinuousClock.now + .seconds(600)
        while try await !db.query(condition).single().decode(Bool.self, at: 0) {
            guard ContinuousClock.now < deadline else { throw ValidationError("the benchmark did not finish within 10 minutes") }
            try await Task.sleep(for: .milliseconds(200))
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
    /// Couplet's enqueue rate, batch after batch on one connection.
    var enqueueJobsPerSecond = 0.0
    /// The minimal queue's, one multi-row INSERT after another.
    var baselineEnqueueJobsPerSecond = 0.0
    /// Couplet's rounds, in order.
    var rounds: [QueueRound] = []
    /// The minimal queue's drain rate in each round.
    var minimalQueueRounds: [Double] = []
    /// PgQueuer's drain rate in each round (empty when it was left out).
    var pgQueuerRounds: [Double] = []
    /// Couplet's claim and finish statements in plain loops.
    var plainLoopJobsPerSecond = 0.0
    var latencyP50Milliseconds = 0.0
    var latencyP99Milliseconds = 0.0
    var workerIdleRSSMegabytes = 0.0
    var workerPeakRSSMegabytes = 0.0
    /// With `--scrape-cost`: what serving /metrics costs.
    var scrapeCost: ScrapeCost?

    /// Couplet's median round.
    var processJobsPerSecond: Double { BenchSupport.quantile(rounds.map(\.jobsPerSecond), 0.5) }
    /// The minimal queue's median round.
    var minimalQueueJobsPerSecond: Double { BenchSupport.quantile(minimalQueueRounds, 0.5) }
    /// PgQueuer's median round, nil when it was left out.
    var pgQueuerJobsPerSecond: Double? { pgQueuerRounds.isEmpty ? nil : BenchSupport.quantile(pgQueuerRounds, 0.5) }

    var json: String {
        let fields: [(String, Double?)] = [
            ("enqueue_jobs_per_s", enqueueJobsPerSecond), ("minimal_queue_enqueue_jobs_per_s", baselineEnqueueJobsPerSecond),
            ("process_jobs_per_s", processJobsPerSecond), ("minimal_queue_process_jobs_per_s", minimalQueueJobsPerSecond),
            ("pgqueuer_process_jobs_per_s", pgQueuerJobsPerSecond), ("plain_loop_process_jobs_per_s", plainLoopJobsPerSecond),
            ("latency_p50_ms", latencyP50Milliseconds), ("latency_p99_ms", latencyP99Milliseconds),
            ("worker_idle_rss_mb", workerIdleRSSMegabytes), ("worker_peak_rss_mb", workerPeakRSSMegabytes),
        ]
        func number(_ value: Double) -> String { "\((value * 10).rounded() / 10)" }
        let perRound = [
            ("round_jobs_per_s", rounds.map { number($0.jobsPerSecond) }),
            ("round_minimal_queue_jobs_per_s", minimalQueueRounds.map(number)),
            ("round_pgqueuer_jobs_per_s", pgQueuerRounds.map(number)),
            ("round_slowest_finish_ms", rounds.map { number($0.slowestFinishSeconds * 1000) }),
        ] + (scrapeCost.map { cost in
            [("scraped_round_jobs_per_s", cost.with.map { number($0.jobsPerSecond) }), ("unscraped_round_jobs_per_s", cost.without.map { number($0.jobsPerSecond) }),
             ("scraped_round_cpu_us_per_job", cost.with.map { number($0.cpuMicrosecondsPerJob) }),
             ("unscraped_round_cpu_us_per_job", cost.without.map { number($0.cpuMicrosecondsPerJob) }),
             ("failed_scrapes", [String(cost.failedScrapes)])]
        } ?? [])
        return "{" + (fields.map { "\"\($0.0)\": \($0.1.map(number) ?? "null")" } + perRound.map { "\"\($0.0)\": [\($0.1.joined(separator: ", "))]" })
            .joined(separator: ", ") + "}"
    }

    func text(workers: Int, concurrency: Int, jobs: Int, batch: Int) -> String {
        func rate(_ value: Double) -> String { "\(Int(value.rounded())) jobs/s" }
        func row(_ label: String, _ value: Double, couplet: Double? = nil) -> String {
            label.padded(to: 56) + rate(value).padded(to: 16) + (couplet.map { String(format: "Couplet %.2f ×", $0 / value) } ?? "")
        }
        let pgQueuer = pgQueuerJobsPerSecond.map {
            row("    PgQueuer drain, \(workers) processes × batches of \(batch)", $0, couplet: processJobsPerSecond)
        } ?? "    PgQueuer".padded(to: 56) + "left out (--skip-pgqueuer)"
        let perRound = rounds.indices.map { index in
            "    round \(index + 1)".padded(to: 16) + "Couplet \(rate(rounds[index].jobsPerSecond).padded(to: 14))"
                + "minimal queue \(rate(minimalQueueRounds[index]).padded(to: 14))"
                + (pgQueuerRounds.indices.contains(index) ? "PgQueuer \(rate(pgQueuerRounds[index]).padded(to: 14))" : "")
                + "slowest finish statement \(String(format: "%.1f", rounds[index].slowestFinishSeconds * 1000)) ms"
        }
        return ([
            "couplet bench queue: \(jobs) jobs, \(workers) worker processes × \(concurrency) slots; medians of \(rounds.count) interleaved rounds",
            row("  enqueue, batches of \(batch)", enqueueJobsPerSecond),
            row("    minimal queue, INSERT of \(batch) rows (pgbench)", baselineEnqueueJobsPerSecond, couplet: enqueueJobsPerSecond),
            row("  process no-op jobs", processJobsPerSecond),
            row("    minimal queue, \(workers) pgbench clients × claim \(batch)", minimalQueueJobsPerSecond, couplet: processJobsPerSecond),
            pgQueuer,
            row("    Couplet's statements in plain loops", plainLoopJobsPerSecond, couplet: processJobsPerSecond),
        ] + perRound + [
            "  enqueue → start when idle    p50 \(String(format: "%.1f", latencyP50Milliseconds)) ms, p99 \(String(format: "%.1f", latencyP99Milliseconds)) ms",
            "  worker resident memory       idle \(String(format: "%.1f", workerIdleRSSMegabytes)) MB, peak under load \(String(format: "%.1f", workerPeakRSSMegabytes)) MB",
        ]).joined(separator: "\n") + (scrapeCost.map { "\n" + $0.text } ?? "")
    }
}
