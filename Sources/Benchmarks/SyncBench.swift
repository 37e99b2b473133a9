import ArgumentParser
import CommandSupport
import CoupletSchema
import Foundation
import Postgres
import Queue
import Sync

/// `couplet bench sync`: full and delta syncs of a customer table by real worker processes, beside
/// a plain COPY pipe of the same rows between the same two databases, in the same run.
struct SyncBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Full and delta sync rates and worker memory, beside a COPY pipe of the same rows.",
        discussion: """
            Runs in scratch databases it creates and drops: an ERP with a customer table of 15 columns \
            and --rows rows (and one of 10,000), a CRM with account tables, and for each full-sync \
            measurement a fresh coordination database with the CUSTOMER mapping to the CRM (14 fields, \
            batches of 1,000). Measures a full sync run by one and by two `couplet worker` processes \
            with one job slot each, sharing the run's key-range chunks (timed by couplet.sync_runs); \
            the same rows piped with COPY (SELECT …) TO STDOUT into COPY … FROM STDIN; a delta of \
            --changed rows in the 10,000-row table and in the big one; the workers' peak resident \
            memory and CPU; and EXPLAIN ANALYZE of the read statements the engine prepares. Use a \
            release build on a quiet machine: the figures follow the load.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: "Customer rows in the big ERP table.")
    var rows = 1_000_000

    @Option(help: "ERP rows changed before each delta sync.")
    var changed = 1_000

    @Flag(help: "Also time a second full sync of the unchanged, fully coupled big table (a nightly full sync); slow.")
    var fullAgain = false

    @Flag(help: "Also print the full EXPLAIN ANALYZE output of the engine's reads.")
    var showPlans = false

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        guard changed >= 1, changed <= SyncBenchRun.smallRows, changed <= rows else {
            throw ValidationError("--changed must be between 1 and the smaller table's rows (\(min(rows, SyncBenchRun.smallRows)))")
        }
    }

    func run() async throws {
        let server = try BenchSupport.server(global)
        let figures = try await BenchSupport.withScratchDatabase(on: server) { erp in
            try await BenchSupport.withScratchDatabase(on: server) { crm in
                let run = try await SyncBenchRun(
                    server: server, erpDatabase: erp, crmDatabase: crm, rows: rows, changed: changed, fullAgain: fullAgain)
                defer { run.close() }
                return try await run.measure()
            }
        }
        print(json ? figures.json : figures.text)
        if showPlans {
            for plan in figures.plans { print("\n\(plan.statement), \(plan.mode) plan:\n\(plan.abbreviatedOutput)") }
        }
    }
}

/// One ERP table, its CRM counterpart and the mapping between them.
struct BenchTablePair {
    let mapping: String
    let customer: String
    let account: String
    let rows: Int
}

/// The databases of one `couplet bench sync` run, and the measurements on them.
struct SyncBenchRun {
    static let smallRows = 10_000
    /// The 13 data columns both sides share; the ERP adds `no`, the CRM `account_number`.
    static let dataColumns = [
        "name", "address", "city", "post_code", "country", "phone", "email", "currency", "payment_terms", "credit_limit",
        "blocked", "salesperson_code", "created_on",
    ]

    let server: PostgresConfiguration
    let erpDatabase: PostgresConfiguration
    let crmDatabase: PostgresConfiguration
    let erp: PostgresConnection
    let crm: PostgresConnection
    let rows: Int
    let changed: Int
    let fullAgain: Bool
    let large: BenchTablePair
    let small: BenchTablePair

    init(
        server: PostgresConfiguration, erpDatabase: PostgresConfiguration, crmDatabase: PostgresConfiguration,
        rows: Int, changed: Int, fullAgain: Bool
    ) async throws {
        self.server = server
        self.erpDatabase = erpDatabase
        self.crmDatabase = crmDatabase
        self.erp = try await PostgresConnection.connect(erpDatabase, applicationName: "couplet bench")
        self.crm = try await PostgresConnection.connect(crmDatabase, applicationName: "couplet bench")
        self.rows = rows
        self.changed = changed
        self.fullAgain = fullAgain
        self.large = BenchTablePair(mapping: "CUSTOMER", customer: "customer", account: "account", rows: rows)
        self.small = BenchTablePair(
            mapping: "CUSTOMER_SMALL", customer: "customer_small", account: "account_small", rows: Self.smallRows)
    }

    func close() {
        erp.close()
        crm.close()
    }

    /// Everything, in an order where each step starts from a known state.
    ///
    /// Each full-sync measurement gets a coordination database of its own, as a first full sync
    /// after installing would: emptying `couplet.couplings` with TRUNCATE keeps the planner
    /// statistics the previous run gathered on it, and those change the plan of the engine's
    /// coupling lookups, so the second measurement would not start where the first did.
    func measure() async throws -> SyncFigures {
        var figures = SyncFigures(rows: rows, changed: changed, smallRows: Self.smallRows)
        progress("setting up: \(rows) + \(Self.smallRows) ERP rows")
        try await setUpEndpoints()

        progress("baseline: COPY TO STDOUT piped into COPY FROM STDIN")
        figures.baselineSeconds = try await measureBaseline()

        progress("full sync, 1 worker")
        try await withCoordination { coordination in
            try await empty(large)
            let one = try await startWorkers(1, coordination)
            defer { stop(one) }
            figures.workerIdleRSSMegabytes = try await residentAfterSettling(one)
            let cpu = cpuSeconds(one)
            let statements = await StatementCounter(
                on: coordination.connection, databases: [erpDatabase, crmDatabase, coordination.database])
            let alone = try await sync(large, kind: .full, coordination)
            figures.fullOneWorker = try checkedFull(alone, of: large)
            figures.workerCPUSecondsOneWorker = cpuSeconds(one) - cpu
            // The bench's own statements during the run: the enqueue, each poll, the run's summary.
            figures.statementsOneWorker = try await statements?.count(excluding: alone.polls + 2)
            figures.workerPeakRSSMegabytes = peak(one)
        }

        progress("full sync, 2 workers")
        try await withCoordination { coordination in
            try await empty(large)
            let two = try await startWorkers(2, coordination)
            defer { stop(two) }
            try await Task.sleep(for: .seconds(1))
            let cpu = cpuSeconds(two)
            let pair = try await sync(large, kind: .full, coordination)
            figures.fullTwoWorkers = try checkedFull(pair, of: large)
            figures.workerCPUSecondsTwoWorkers = cpuSeconds(two) - cpu
            figures.workerPeakRSSMegabytes = max(figures.workerPeakRSSMegabytes, peak(two))

            progress("delta of \(changed) changed rows in the table of \(rows)")
            let watermarkBeforeDelta = try await watermark(of: large, coordination)
            figures.deltaLarge = try await measureDelta(large, coordination)

            if fullAgain {
                progress("full sync again, nothing changed, 2 workers")
                let again = try await sync(large, kind: .full, coordination)
                guard again.unchanged == rows, again.failed == 0 else {
                    throw ValidationError("the second full sync found \(again.unchanged) of \(rows) rows unchanged, \(again.failed) failed")
                }
                figures.fullAgain = again
            }

            progress("full sync, then a delta of \(changed) changed rows, in the table of \(Self.smallRows)")
            figures.smallFull = try checkedFull(try await sync(small, kind: .full, coordination), of: small)
            figures.deltaSmall = try await measureDelta(small, coordination)
            stop(two)

            progress("EXPLAIN ANALYZE of the engine's reads")
            figures.plans = try await explainEngineReads(since: watermarkBeforeDelta, coordination)
        }
        return figures
    }

    private func progress(_ step: String) {
        FileHandle.standardError.write(Data("couplet bench sync: \(step)…\n".utf8))
    }

    // MARK: Setup

    /// Both ERP tables filled in the database, their CRM counterparts empty.
    func setUpEndpoints() async throws {
        let touch = "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.modified_at := now(); RETURN NEW; END $$"
        try await erp.runScript(touch, name: "touch")
        try await crm.runScript(touch, name: "touch")
        for pair in [large, small] {
            try await erp.runScript(
                """
                CREATE TABLE \(pair.customer) (
                    no text PRIMARY KEY, name text NOT NULL, address text, city text, post_code text, country text, phone text,
                    email text, currency text, payment_terms text, credit_limit numeric(12, 2), blocked boolean NOT NULL DEFAULT false,
                    salesperson_code text, created_on date, modified_at timestamptz NOT NULL DEFAULT now());
                CREATE TRIGGER touch BEFORE UPDATE ON \(pair.customer) FOR EACH ROW EXECUTE FUNCTION touch();
                """, name: "create \(pair.customer)")
            // Ten years of history, one row a millisecond apart, then the index deltas read by.
            try await erp.query(
                """
                INSERT INTO \(try PostgresIdentifier(pair.customer)) (no, \(try Self.identifiers(Self.dataColumns)), modified_at)
                SELECT 'C' || lpad(n::text, 8, '0'), 'Customer ' || n, n || ' Main Street', 'City ' || n % 500,
                       (1000 + n % 9000)::text, (ARRAY['NO', 'SE', 'DK', 'DE', 'GB'])[1 + n % 5],
                       '+47 ' || lpad((n * 7919 % 100000000)::text, 8, '0'), 'customer' || n || '@example.com',
                       (ARRAY['NOK', 'SEK', 'DKK', 'EUR', 'GBP'])[1 + n % 5], (ARRAY['14 DAYS', '30 DAYS', '60 DAYS'])[1 + n % 3],
                       (n % 1000) * 100, n % 97 = 0, 'SP' || lpad((n % 40)::text, 2, '0'), date '2015-01-01' + (n % 3650)::int,
                       timestamptz '2025-01-01 00:00:00+00' + n * interval '1 millisecond'
                FROM generate_series(1, \(pair.rows)) AS n
                """, name: "fill \(pair.customer)")
            try await erp.runScript(
                "CREATE INDEX \(pair.customer)_modified ON \(pair.customer) (modified_at, no)", name: "index \(pair.customer)")
            try await erp.runScript("VACUUM ANALYZE \(pair.customer)", name: "vacuum \(pair.customer)")
            try await crm.runScript(
                """
                CREATE TABLE \(pair.account) (
                    id uuid PRIMARY KEY DEFAULT gen_random_uuid(), account_number text, name text NOT NULL, address text, city text,
                    post_code text, country text, phone text, email text, currency text, payment_terms text,
                    credit_limit numeric(12, 2), blocked boolean NOT NULL DEFAULT false, salesperson_code text, created_on date,
                    modified_at timestamptz NOT NULL DEFAULT now());
                CREATE TRIGGER touch BEFORE UPDATE ON \(pair.account) FOR EACH ROW EXECUTE FUNCTION touch();
                """, name: "create \(pair.account)")
        }
    }

    /// A coordination database of its own, migrated, with the two mappings; dropped afterwards.
    func withCoordination(
        isolation: isolated (any Actor)? = #isolation, _ body: (BenchCoordination) async throws -> Void
    ) async throws {
        try await BenchSupport.withScratchDatabase(on: server) { database in
            let connection = try await PostgresConnection.connect(database, applicationName: "couplet bench")
            defer { connection.close() }
            try await CoupletSchema.migrator.migrate(on: connection)
            let fields = (["no"] + Self.dataColumns).enumerated().map { position, local in
                "(\(position + 1), '\(local)', '\(local == "no" ? "account_number" : local)', '\(local == "credit_limit" ? "numeric" : "text")')"
            }
            try await connection.runScript(
                """
                INSERT INTO couplet.endpoints (name) VALUES ('erp'), ('crm');
                INSERT INTO couplet.table_mappings (name, local_endpoint, local_table, local_key, local_modified,
                    integration_endpoint, integration_table, integration_key, integration_modified, direction, batch_size,
                    sync_only_coupled)
                VALUES \([large, small].map { "('\($0.mapping)', 'erp', '\($0.customer)', 'no', 'modified_at', 'crm', '\($0.account)', 'id', 'modified_at', 'to_integration', \(SyncFigures.batchSize), false)" }.joined(separator: ", "));
                INSERT INTO couplet.field_mappings (mapping, position, local_field, integration_field, comparison)
                SELECT m.name, f.position, f.local_field, f.integration_field, f.comparison
                FROM (VALUES ('\(large.mapping)'), ('\(small.mapping)')) AS m (name),
                     (VALUES \(fields.joined(separator: ", "))) AS f (position, local_field, integration_field, comparison);
                """, name: "mappings")
            try await body(BenchCoordination(database: database, connection: connection))
        }
    }

    static func identifiers(_ names: [String]) throws -> [PostgresIdentifier] {
        try names.map { try PostgresIdentifier($0) }
    }

    /// An empty CRM table, and a checkpoint, so that one measurement does not pay for the WAL of
    /// the one before.
    private func empty(_ pair: BenchTablePair) async throws {
        try await crm.runScript("TRUNCATE \(pair.account)", name: "empty \(pair.account)")
        try? await crm.runScript("CHECKPOINT", name: "checkpoint")
    }

    // MARK: The baseline

    /// The big table's 14 mapped columns piped from the ERP to the CRM: COPY TO STDOUT into COPY FROM STDIN.
    func measureBaseline() async throws -> Double {
        let seconds = try await pipeCustomersToAccounts()
        try await crm.runScript("TRUNCATE \(large.account)", name: "empty \(large.account)")
        return seconds
    }

    /// Pipes the big table's 14 mapped columns into the empty CRM table; returns the seconds it took.
    func pipeCustomersToAccounts() async throws -> Double {
        try? await crm.runScript("CHECKPOINT", name: "checkpoint")
        let source = try Self.identifiers(["no"] + Self.dataColumns)
        let target = try Self.identifiers(["account_number"] + Self.dataColumns)
        let customer = try PostgresIdentifier(large.customer)
        let start = ContinuousClock.now
        let copied = try await crm.copy(into: PostgresIdentifier(large.account), columns: target) { writer in
            try await erp.copyOut("SELECT \(source) FROM \(customer)", name: "copy customers out") { try await writer.send($0) }
        }
        let seconds = BenchSupport.seconds(since: start)
        guard copied == rows else { throw ValidationError("the baseline copied \(copied) of \(rows) rows") }
        return seconds
    }

    // MARK: Workers and sync runs

    /// `couplet worker --queues sync --concurrency 1` processes (one job each, so that the figures
    /// compare one stream of batches with two), with the endpoints' connection strings in their
    /// environment, once each has registered.
    private func startWorkers(_ count: Int, _ coordination: BenchCoordination) async throws -> [Process] {
        let environment = [
            EndpointDirectory.variable(for: "erp"): erpDatabase.connectionString,
            EndpointDirectory.variable(for: "crm"): crmDatabase.connectionString,
        ]
        let processes = try (0..<count).map { _ in
            try BenchSupport.startChild(["worker", "--queues", "sync", "--concurrency", "1"], database: coordination.database, environment: environment)
        }
        let pids = processes.map { Int($0.processIdentifier) }
        let deadline = ContinuousClock.now + .seconds(60)
        while try await coordination.connection.query("SELECT count(*) FROM couplet.workers WHERE pid = ANY(\(pids))").single()
            .decode(Int.self, at: 0) < count
        {
            guard ContinuousClock.now < deadline, processes.allSatisfy(\.isRunning) else {
                stop(processes)
                throw ValidationError("the worker processes did not start")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return processes
    }

    /// The largest resident memory of the processes, once they have idled for a second.
    private func residentAfterSettling(_ processes: [Process]) async throws -> Double {
        try await Task.sleep(for: .seconds(1))
        return processes.map { BenchSupport.memory(of: $0.processIdentifier).resident }.max() ?? 0
    }

    /// The CPU time the processes have used so far, together.
    private func cpuSeconds(_ processes: [Process]) -> Double {
        processes.map { BenchSupport.cpuSeconds(of: $0.processIdentifier) }.reduce(0, +)
    }

    /// The largest peak resident memory (VmHWM) of the processes so far.
    private func peak(_ processes: [Process]) -> Double {
        processes.map { BenchSupport.memory(of: $0.processIdentifier).peak }.max() ?? 0
    }

    private func stop(_ processes: [Process]) {
        for process in processes where process.isRunning { process.terminate() }
        for process in processes { process.waitUntilExit() }
    }

    /// Enqueues a sync of `pair`'s mapping, waits until a worker has completed it, and returns its
    /// runs as `couplet.sync_runs` logged them.
    private func sync(_ pair: BenchTablePair, kind: SyncKind, _ coordination: BenchCoordination) async throws -> SyncRunFigures {
        let db = coordination.connection
        let job = try await JobQueue.enqueue(SyncJobs.job(for: pair.mapping, kind: kind), on: db)
        let deadline = ContinuousClock.now + .seconds(4 * 3600)
        var load = BenchSupport.loadAverage()
        var polls = 0
        while true {
            polls += 1
            if polls % 50 == 0 { load = max(load, BenchSupport.loadAverage()) }
            let (state, error) = try await db.query(
                "SELECT state, errors->-1->>'error' FROM couplet.jobs WHERE id = \(job)", name: "job state"
            ).single().decode((String, String?).self)
            if state == "completed" { break }
            guard ["available", "scheduled", "running"].contains(state) else {
                throw ValidationError("the \(kind.rawValue) sync of \(pair.mapping) is \(state): \(error ?? "no error recorded")")
            }
            guard ContinuousClock.now < deadline else { throw ValidationError("the \(kind.rawValue) sync of \(pair.mapping) took over 4 hours") }
            try await Task.sleep(for: .milliseconds(20))
        }
        let run = try await db.query(
            """
            SELECT extract(epoch FROM max(finished_at) - min(started_at))::float8, sum(inserted)::int8, sum(modified)::int8,
                   sum(unchanged)::int8, sum(failed)::int8,
                   (SELECT count(DISTINCT a.worker_id) FROM couplet.job_attempts a
                    WHERE a.job_id = \(job) OR a.job_id IN (SELECT c.job_id FROM couplet.sync_chunks c
                                                          JOIN couplet.sync_runs r ON r.id = c.run_id WHERE r.job_id = \(job)))
            FROM couplet.sync_runs WHERE job_id = \(job)
            """, name: "sync run"
        ).single().decode((Double, Int, Int, Int, Int, Int).self)
        return SyncRunFigures(
            seconds: run.0, inserted: run.1, modified: run.2, unchanged: run.3, failed: run.4, workers: run.5,
            loadAverage: max(load, BenchSupport.loadAverage()), polls: polls)
    }

    /// The run, once it is certain that it inserted every row and failed none.
    private func checkedFull(_ run: SyncRunFigures, of pair: BenchTablePair) throws -> SyncRunFigures {
        guard run.inserted == pair.rows, run.failed == 0 else {
            throw ValidationError("the full sync of \(pair.mapping) inserted \(run.inserted) of \(pair.rows) rows, \(run.failed) failed")
        }
        return run
    }

    private func watermark(of pair: BenchTablePair, _ coordination: BenchCoordination) async throws -> Date {
        guard let watermark = try await coordination.connection.query(
            "SELECT local_watermark FROM couplet.table_mappings WHERE name = \(pair.mapping)"
        ).single().decode(Date?.self, at: 0) else { throw ValidationError("\(pair.mapping) has no watermark after its full sync") }
        return watermark
    }

    /// Changes `changed` rows spread evenly over `pair`'s ERP table (the update trigger stamps them)
    /// and times the delta sync that follows.
    private func measureDelta(_ pair: BenchTablePair, _ coordination: BenchCoordination) async throws -> SyncRunFigures {
        let updated = try await erp.query(
            """
            UPDATE \(try PostgresIdentifier(pair.customer)) SET name = name || ' (changed)', credit_limit = credit_limit + 1
            WHERE no IN (SELECT 'C' || lpad((k * \(pair.rows / changed))::text, 8, '0') FROM generate_series(1, \(changed)) AS k)
            """, name: "change customers"
        ).affectedRows
        guard updated == changed else { throw ValidationError("changed \(updated) rows, not \(changed)") }
        let run = try await sync(pair, kind: .delta, coordination)
        guard run.modified == changed, run.failed == 0 else {
            throw ValidationError("the delta of \(pair.mapping) modified \(run.modified) of \(changed) rows, \(run.failed) failed")
        }
        return run
    }

    // MARK: Plans

    /// EXPLAIN ANALYZE, with custom and with generic plans, of the read statements the engine
    /// prepares — taken from `pg_prepared_statements` after a `PostgresTableEndpoint` of the
    /// CUSTOMER mapping ran them on a session of ours, so they are its statements, not copies.
    private func explainEngineReads(since: Date, _ coordination: BenchCoordination) async throws -> [PlanFigures] {
        let mapping = try await MappingStore.load(large.mapping, on: coordination.connection)
        let erpProbe = try await PostgresConnection.connect(erpDatabase, applicationName: "couplet bench explain")
        let crmProbe = try await PostgresConnection.connect(crmDatabase, applicationName: "couplet bench explain")
        defer {
            erpProbe.close()
            crmProbe.close()
        }
        for probe in [erpProbe, crmProbe] { try await probe.runScript("SET TimeZone TO 'UTC'", name: "session time zone") }
        let source = try PostgresTableEndpoint(connection: erpProbe, side: mapping.local, columns: mapping.columns(on: .local))
        let target = try PostgresTableEndpoint(
            connection: crmProbe, side: mapping.integration, columns: mapping.columns(on: .integration))

        let delta = try await source.changes(since: since, after: nil, limit: mapping.batchSize)
        let localIDs = delta.map(\.id)
        let range = KeyRange(after: localIDs.min(), upTo: localIDs.max())
        _ = try await source.records(in: range, limit: mapping.batchSize)
        _ = try await source.records(ids: localIDs)
        let integrationIDs = try await coordination.connection.query(
            "SELECT integration_id FROM couplet.couplings WHERE mapping = \(large.mapping) AND local_id = ANY(\(localIDs))"
        ).map { try $0.decode(String.self, at: 0) }
        _ = try await target.records(ids: integrationIDs)

        let localKey = mapping.local.key.parts[0]
        var plans: [PlanFigures] = []
        for (probe, statements) in [
            (erpProbe, [
                ("ERP delta batch", [PostgresBinding(since), PostgresBinding(mapping.batchSize)], "> $1"),
                ("ERP full batch (key range)", [
                    PostgresBinding(localKey), PostgresBinding(range.after), PostgresBinding(localKey), PostgresBinding(range.upTo),
                    PostgresBinding(mapping.batchSize),
                ], "json_build_object"),
                ("ERP records by id", [PostgresBinding(try keysJSON(localKey, localIDs))], "json_populate_recordset"),
            ]),
            (crmProbe, [
                ("CRM coupled targets by id", [PostgresBinding(try keysJSON(mapping.integration.key.parts[0], integrationIDs))],
                 "json_populate_recordset"),
            ]),
        ] {
            let prepared = try await probe.query(
                """
                SELECT name, statement, cardinality(parameter_types) FROM pg_prepared_statements
                WHERE statement LIKE 'SELECT%' AND statement NOT LIKE '%pg_prepared_statements%'
                """, name: "prepared statements"
            ).map { try $0.decode((String, String, Int).self) }
            for (label, arguments, marker) in statements {
                // The one read with this many parameters and the marker: delta and full reads differ in `> $1`.
                guard let (name, statement, _) = prepared.first(where: { $0.2 == arguments.count && $0.1.contains(marker) }) else {
                    plans.append(PlanFigures(statement: label, mode: "custom", output: "(the engine's statement was not found)"))
                    continue
                }
                // EXECUTE inside EXPLAIN takes no parameters: the server quotes each value as a literal.
                var literals: [String] = []
                for argument in arguments {
                    literals.append(
                        try await probe.query("SELECT quote_nullable(\(argument))", name: "quote").single().decode(String.self, at: 0))
                }
                for mode in ["custom", "generic"] {
                    try await probe.query("SELECT set_config('plan_cache_mode', \("force_\(mode)_plan"), false)")
                    let output = try await probe.query(
                        PostgresQuery(
                            unsafeSQL: "EXPLAIN (ANALYZE, BUFFERS) EXECUTE \(try PostgresIdentifier(name).quoted)(\(literals.joined(separator: ", ")))"),
                        name: "explain"
                    ).map { try $0.decode(String.self, at: 0) }.joined(separator: "\n")
                    plans.append(PlanFigures(statement: label, mode: mode, output: "\(statement)\n\(output)"))
                }
            }
            try await probe.query("SELECT set_config('plan_cache_mode', 'auto', false)")
        }
        return plans
    }
}

/// The JSON array of `{key: id}` objects through which the engine binds ids in their key's own type.
private func keysJSON(_ key: String, _ ids: [String]) throws -> String {
    String(decoding: try JSONSerialization.data(withJSONObject: ids.map { [key: $0] }), as: UTF8.self)
}

/// A coordination database of one measurement.
struct BenchCoordination {
    let database: PostgresConfiguration
    let connection: PostgresConnection
}

/// What `couplet.sync_runs` logged for one job.
struct SyncRunFigures {
    var seconds = 0.0
    var inserted = 0, modified = 0, unchanged = 0, failed = 0
    /// Worker processes that ran an attempt of the job.
    var workers = 0
    /// The highest 1-minute load average of the machine seen while the job ran.
    var loadAverage = 0.0
    /// How often the bench asked for the job's state.
    var polls = 0
}

/// The statements the databases of a run executed, from pg_stat_statements: with its default
/// `track = top`, one per client round trip.
struct StatementCounter {
    let connection: PostgresConnection
    let databases: [String]

    /// Resets the statistics; nil when pg_stat_statements is not loaded (shared_preload_libraries)
    /// or may not be reset by this login.
    init?(on connection: PostgresConnection, databases: [PostgresConfiguration]) async {
        self.connection = connection
        self.databases = databases.compactMap(\.database)
        do {
            try await connection.runScript(
                "CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT pg_stat_statements_reset()", name: "reset statements")
        } catch {
            return nil
        }
    }

    /// Statements executed in the databases since the reset, less `excluding` of the bench's own.
    func count(excluding: Int) async throws -> Int {
        let total = try await connection.query(
            """
            SELECT coalesce(sum(s.calls), 0)::int8 FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
            WHERE d.datname = ANY(\(databases))
            """, name: "count statements"
        ).single().decode(Int.self, at: 0)
        return max(0, total - excluding)
    }
}

/// One EXPLAIN ANALYZE of an engine statement.
struct PlanFigures {
    var statement: String
    var mode: String
    /// The statement's text, then the plan.
    var output: String

    /// The plan's nodes, top down, without costs and timings: `Limit → Index Scan using … on customer`.
    var nodes: String {
        output.split(separator: "\n").dropFirst().compactMap { line -> String? in
            let text = line.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "->  ", with: "")
            guard let cut = text.range(of: "  (cost=") else { return nil }
            return String(text[..<cut.lowerBound])
        }.joined(separator: " → ")
    }

    /// The output with long lines (a thousand ids) cut in the middle.
    var abbreviatedOutput: String {
        output.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.count <= 240 ? String(line) : "\(line.prefix(200)) … \(line.suffix(30))"
        }.joined(separator: "\n")
    }

    /// The server's execution time in milliseconds.
    var milliseconds: Double {
        guard let line = output.split(separator: "\n").last(where: { $0.hasPrefix("Execution Time:") }) else { return 0 }
        return Double(line.split(separator: " ")[2]) ?? 0
    }
}

/// The figures `couplet bench sync` reports.
struct SyncFigures {
    var rows: Int
    var changed: Int
    var smallRows: Int
    var baselineSeconds = 0.0
    var fullOneWorker = SyncRunFigures()
    var fullTwoWorkers = SyncRunFigures()
    var fullAgain: SyncRunFigures?
    var smallFull = SyncRunFigures()
    var deltaSmall = SyncRunFigures()
    var deltaLarge = SyncRunFigures()
    var workerIdleRSSMegabytes = 0.0
    var workerPeakRSSMegabytes = 0.0
    /// CPU the worker process used for the 1-worker full sync: the engine's own cost, which other
    /// work on the machine disturbs less than the elapsed time.
    var workerCPUSecondsOneWorker = 0.0
    /// The same for the 2-worker full sync, both processes together.
    var workerCPUSecondsTwoWorkers = 0.0
    /// Statements (round trips) the 1-worker full sync sent to the three databases; nil without pg_stat_statements.
    var statementsOneWorker: Int?
    /// The engine's batch size in the bench's mappings.
    static let batchSize = 1000
    /// Round trips per batch of the 1-worker full sync.
    var roundTripsPerBatch: Double? { statementsOneWorker.map { Double($0) / (Double(rows) / Double(Self.batchSize)) } }
    var plans: [PlanFigures] = []

    var fullRateOneWorker: Double { Double(rows) / fullOneWorker.seconds }
    var fullRateTwoWorkers: Double { Double(rows) / fullTwoWorkers.seconds }
    var baselineRate: Double { Double(rows) / baselineSeconds }

    /// The highest 1-minute load average seen while the syncs ran; the worker and the server
    /// process it keeps busy add about 1, so well above the core count other work competed for
    /// the CPU and the figures are pessimistic.
    var loadAverage: Double {
        ([fullOneWorker, fullTwoWorkers, smallFull, deltaSmall, deltaLarge] + (fullAgain.map { [$0] } ?? [])).map(\.loadAverage).max() ?? 0
    }

    /// Whether every plan of the delta's read uses the (modified_at, no) index.
    var deltaReadUsesIndex: Bool {
        let delta = plans.filter { $0.statement == "ERP delta batch" }
        return !delta.isEmpty && delta.allSatisfy { $0.nodes.contains("using customer_modified") }
    }

    var json: String {
        func rounded(_ value: Double, _ places: Double = 10) -> Double { (value * places).rounded() / places }
        var object: [String: Any] = [
            "rows": rows, "changed_rows": changed, "small_table_rows": smallRows,
            "full_rows_per_s_1_worker": rounded(fullRateOneWorker), "full_rows_per_s_2_workers": rounded(fullRateTwoWorkers),
            "full_seconds_1_worker": rounded(fullOneWorker.seconds, 1000), "full_seconds_2_workers": rounded(fullTwoWorkers.seconds, 1000),
            "full_sync_workers_used_of_2": fullTwoWorkers.workers,
            "baseline_copy_rows_per_s": rounded(baselineRate), "baseline_copy_seconds": rounded(baselineSeconds, 1000),
            "engine_to_baseline_ratio": rounded(fullRateOneWorker / baselineRate, 10_000),
            "delta_seconds_small_table": rounded(deltaSmall.seconds, 1000), "delta_seconds_large_table": rounded(deltaLarge.seconds, 1000),
            "worker_idle_rss_mb": rounded(workerIdleRSSMegabytes), "worker_peak_rss_mb": rounded(workerPeakRSSMegabytes),
            "worker_cpu_seconds_full_1_worker": rounded(workerCPUSecondsOneWorker, 100),
            "worker_cpu_seconds_full_2_workers": rounded(workerCPUSecondsTwoWorkers, 100),
            "delta_read_uses_modified_index": deltaReadUsesIndex, "max_load_average": rounded(loadAverage, 100),
            "cpu_cores": ProcessInfo.processInfo.activeProcessorCount,
        ]
        if let fullAgain { object["full_again_seconds"] = rounded(fullAgain.seconds, 1000) }
        if let roundTripsPerBatch { object["round_trips_per_batch_1_worker"] = rounded(roundTripsPerBatch, 100) }
        object["plans"] = plans.map { ["statement": $0.statement, "mode": $0.mode, "nodes": $0.nodes, "ms": rounded($0.milliseconds, 1000)] }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    var text: String {
        func rate(_ value: Double) -> String { "\(Int(value.rounded())) rows/s" }
        func seconds(_ value: Double) -> String { String(format: "%.3f s", value) }
        func percent(_ value: Double) -> String { String(format: "%.1f %% of baseline", value * 100) }
        func label(_ text: String) -> String { "  " + text.padded(to: 34) }
        var lines = [
            "couplet bench sync: \(rows) ERP customers (15 columns) → CRM accounts, 14 fields, batches of \(Self.batchSize)",
            label("full sync, 1 worker") + "\(rate(fullRateOneWorker).padded(to: 16)) \(seconds(fullOneWorker.seconds).padded(to: 12)) \(percent(fullRateOneWorker / baselineRate))",
            label("full sync, 2 workers") + "\(rate(fullRateTwoWorkers).padded(to: 16)) \(seconds(fullTwoWorkers.seconds).padded(to: 12)) \(percent(fullRateTwoWorkers / baselineRate)); ran on \(fullTwoWorkers.workers) of 2 workers (key-range chunks of \(SyncJobs.defaultChunkRows) rows)",
            label("baseline COPY pipe") + "\(rate(baselineRate).padded(to: 16)) \(seconds(baselineSeconds).padded(to: 12)) COPY (SELECT 14 columns) TO STDOUT → COPY account FROM STDIN",
            label("delta, \(changed) changed of \(smallRows)") + "\(seconds(deltaSmall.seconds).padded(to: 16)) \(deltaSmall.modified) modified",
            label("delta, \(changed) changed of \(rows)") + "\(seconds(deltaLarge.seconds).padded(to: 16)) \(deltaLarge.modified) modified",
        ]
        if let fullAgain {
            lines.append(
                label("full sync again, unchanged") + "\(rate(Double(rows) / fullAgain.seconds).padded(to: 16)) \(seconds(fullAgain.seconds).padded(to: 12)) \(fullAgain.unchanged) unchanged")
        }
        lines += [
            label("worker CPU, full sync, 1 worker") + String(
                format: "%.2f s (%.1f µs a row) of the %.2f s elapsed", workerCPUSecondsOneWorker,
                workerCPUSecondsOneWorker / Double(rows) * 1e6, fullOneWorker.seconds),
            label("worker CPU, full sync, 2 workers") + String(
                format: "%.2f s (%.1f µs a row) of the %.2f s elapsed, both processes", workerCPUSecondsTwoWorkers,
                workerCPUSecondsTwoWorkers / Double(rows) * 1e6, fullTwoWorkers.seconds),
            label("round trips, full sync, 1 worker") + (roundTripsPerBatch.map {
                String(format: "%.1f a batch of %d (%d statements in the three databases, pg_stat_statements)", $0, Self.batchSize, statementsOneWorker ?? 0)
            } ?? "not measured: load pg_stat_statements (shared_preload_libraries) to count them"),
            label("worker resident memory") + "idle \(String(format: "%.1f", workerIdleRSSMegabytes)) MB, peak during the full syncs \(String(format: "%.1f", workerPeakRSSMegabytes)) MB",
            label("machine load") + String(
                format: "1-minute load average up to %.2f on %d cores (the sync itself adds about 1)", loadAverage,
                ProcessInfo.processInfo.activeProcessorCount)
                + (loadAverage > Double(ProcessInfo.processInfo.activeProcessorCount) + 1 ? ": other work competed for the CPU" : ""),
            "  plans of the engine's reads (EXPLAIN ANALYZE of its prepared statements):",
        ]
        for plan in plans {
            lines.append("    \(plan.statement), \(plan.mode) plan:".padded(to: 46) + "\(plan.nodes) (\(String(format: "%.2f", plan.milliseconds)) ms)")
        }
        return lines.joined(separator: "\n")
    }
}
