import ArgumentParser
import CommandSupport
import Foundation
import Postgres
import Sync

/// `couplet bench verify`: `couplet verify` over a mapping of --rows coupled pairs, beside a COPY
/// pipe of the same rows between the same two databases, in the same run.
struct VerifyBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "couplet verify's rate and peak memory over N coupled pairs, beside a COPY pipe of the same rows.",
        discussion: """
            Runs in scratch databases it creates and drops, seeded as couplet bench sync seeds them: \
            an ERP customer table of --rows rows (15 columns), the same rows piped with COPY into a \
            CRM account table (the baseline, timed), and a coordination database with the CUSTOMER \
            mapping (14 fields) whose couplings pair every customer with its account, stamped as a \
            full sync would leave them, and no ↔ account_number as its match field (so verify also walks \
            every record for uncoupled ones and groups duplicates). --drifted accounts are then changed with their trigger off \
            (modified-on kept). Times a `couplet verify CUSTOMER` process end to end, checks that it \
            found exactly the drifted pairs, and reports its peak resident memory.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: "Coupled pairs.")
    var rows = 1_000_000

    @Option(help: "Pairs drifted apart (changed on the CRM with its trigger off) that verify must find.")
    var drifted = 100

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        guard rows >= 1, drifted >= 1, drifted <= rows else { throw ValidationError("--drifted must be between 1 and --rows") }
    }

    func run() async throws {
        let server = try BenchSupport.server(global)
        let figures = try await BenchSupport.withScratchDatabase(on: server) { erp in
            try await BenchSupport.withScratchDatabase(on: server) { crm in
                let run = try await SyncBenchRun(
                    server: server, erpDatabase: erp, crmDatabase: crm, rows: rows, changed: 1, fullAgain: false)
                defer { run.close() }
                return try await VerifyBenchRun(run: run, drifted: drifted).measure()
            }
        }
        print(json ? figures.json : figures.text)
    }
}

/// The steps of one `couplet bench verify`.
struct VerifyBenchRun {
    let run: SyncBenchRun
    let drifted: Int

    private var rows: Int { run.rows }

    func measure() async throws -> VerifyFigures {
        var figures = VerifyFigures(rows: rows, drifted: drifted)
        progress("setting up: \(rows) ERP rows")
        try await run.setUpEndpoints()
        progress("baseline: COPY TO STDOUT piped into COPY FROM STDIN")
        figures.baselineSeconds = try await run.measureBaseline()
        progress("seeding: the CRM rows by the same pipe, then \(rows) couplings")
        _ = try await run.pipeCustomersToAccounts()
        try await run.crm.runScript("VACUUM ANALYZE \(run.large.account)", name: "vacuum accounts")
        try await run.withCoordination { coordination in
            try await couple(coordination.connection)
            // Coupled by number, as Business Central's CUSTOMER mapping is: verify also walks the uncoupled records and duplicates.
            try await coordination.connection.query(
                "UPDATE couplet.field_mappings SET match_priority = 1 WHERE mapping = \(run.large.mapping) AND local_field = 'no'",
                name: "match field")
            try await drift()
            progress("couplet verify \(run.large.mapping)")
            try await verify(coordination, into: &figures)
        }
        return figures
    }

    private func progress(_ step: String) {
        FileHandle.standardError.write(Data("couplet bench verify: \(step)…\n".utf8))
    }

    /// Couples every customer to its account with both modified-on stamps, as a full sync leaves them:
    /// both sides' keys and stamps piped into staging tables, joined into `couplet.couplings`.
    private func couple(_ db: PostgresConnection) async throws {
        try await db.runScript(
            """
            CREATE UNLOGGED TABLE bench_local (id text, modified_at timestamptz);
            CREATE UNLOGGED TABLE bench_integration (local_id text, id text, modified_at timestamptz);
            """, name: "staging")
        let local = try PostgresIdentifier(run.large.customer)
        let integration = try PostgresIdentifier(run.large.account)
        try await db.copy(into: PostgresIdentifier("bench_local"), columns: SyncBenchRun.identifiers(["id", "modified_at"])) { writer in
            try await run.erp.copyOut("SELECT no, modified_at FROM \(local)", name: "copy keys out") { try await writer.send($0) }
        }
        try await db.copy(
            into: PostgresIdentifier("bench_integration"), columns: SyncBenchRun.identifiers(["local_id", "id", "modified_at"])
        ) { writer in
            try await run.crm.copyOut("SELECT account_number, id, modified_at FROM \(integration)", name: "copy keys out") {
                try await writer.send($0)
            }
        }
        let coupled = try await db.query(
            """
            INSERT INTO couplet.couplings (mapping, local_id, integration_id, local_modified_at, local_result,
                                           integration_modified_at, integration_result)
            SELECT \(run.large.mapping), l.id, i.id, l.modified_at, 'success', i.modified_at, 'success'
            FROM bench_local l JOIN bench_integration i ON i.local_id = l.id
            """, name: "couple"
        ).affectedRows
        guard coupled == rows else { throw ValidationError("coupled \(coupled) of \(rows) rows") }
        try await db.runScript("DROP TABLE bench_local, bench_integration", name: "drop staging")
        try await db.runScript("VACUUM ANALYZE couplet.couplings", name: "analyze couplings")
    }

    /// Changes `drifted` accounts, spread evenly, with the trigger off: their modified-on stays as coupled.
    private func drift() async throws {
        let account = try PostgresIdentifier(run.large.account)
        try await run.crm.runScript("ALTER TABLE \(account.quoted) DISABLE TRIGGER touch", name: "trigger off")
        let changed = try await run.crm.query(
            """
            UPDATE \(account) SET name = name || ' (drifted)'
            WHERE account_number IN (SELECT 'C' || lpad((k * \(rows / drifted))::text, 8, '0') FROM generate_series(1, \(drifted)) AS k)
            """, name: "drift"
        ).affectedRows
        try await run.crm.runScript("ALTER TABLE \(account.quoted) ENABLE TRIGGER touch", name: "trigger on")
        guard changed == drifted else { throw ValidationError("drifted \(changed) of \(drifted) accounts") }
    }

    /// Runs `couplet verify` as its own process (so its memory is its own), timed end to end.
    private func verify(_ coordination: BenchCoordination, into figures: inout VerifyFigures) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = ["verify", run.large.mapping, "--limit", "0"]
        var environment = ProcessInfo.processInfo.environment
        environment["COUPLET_DATABASE_URL"] = coordination.database.connectionString
        environment[EndpointDirectory.variable(for: "erp")] = run.erpDatabase.connectionString
        environment[EndpointDirectory.variable(for: "crm")] = run.crmDatabase.connectionString
        environment["COUPLET_LOG_LEVEL"] = "warning"
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        let load = BenchSupport.loadAverage()
        let start = ContinuousClock.now
        try process.run()
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        figures.verifySeconds = BenchSupport.seconds(since: start)
        figures.loadAverage = max(load, BenchSupport.loadAverage())
        var usage = rusage()
        getrusage(RUSAGE_CHILDREN.rawValue, &usage)
        figures.peakRSSMegabytes = Double(usage.ru_maxrss) / 1024
        figures.cpuSeconds = BenchSupport.seconds(usage.ru_utime) + BenchSupport.seconds(usage.ru_stime)
        figures.summary = printed.split(separator: "\n").first.map(String.init) ?? ""
        let expected = "\(rows) coupled pairs checked: \(rows - drifted) in step, \(drifted) differ, 0 pending, 0 orphaned"
        let uncoupled = "Uncoupled records: 0 checked, 0 would couple by match; 0 groups of duplicates."
        guard process.terminationStatus == ExitStatus.problemsFound, figures.summary.contains(expected), figures.summary.contains(uncoupled) else {
            throw ValidationError("couplet verify exited \(process.terminationStatus) and printed: \(printed)")
        }
    }
}

/// The figures `couplet bench verify` reports.
struct VerifyFigures {
    var rows: Int
    var drifted: Int
    var baselineSeconds = 0.0
    var verifySeconds = 0.0
    var peakRSSMegabytes = 0.0
    /// User and system CPU time of the verify process.
    var cpuSeconds = 0.0
    var loadAverage = 0.0
    /// The summary line couplet verify printed.
    var summary = ""

    var verifyRate: Double { Double(rows) / verifySeconds }
    var baselineRate: Double { Double(rows) / baselineSeconds }

    var json: String {
        func rounded(_ value: Double, _ places: Double = 10) -> Double { (value * places).rounded() / places }
        let object: [String: Any] = [
            "rows": rows, "drifted": drifted, "verify_rows_per_s": rounded(verifyRate), "verify_seconds": rounded(verifySeconds, 1000),
            "baseline_copy_rows_per_s": rounded(baselineRate), "baseline_copy_seconds": rounded(baselineSeconds, 1000),
            "verify_to_baseline_ratio": rounded(verifyRate / baselineRate, 10_000), "verify_peak_rss_mb": rounded(peakRSSMegabytes),
            "verify_cpu_us_per_row": rounded(cpuSeconds / Double(rows) * 1_000_000),
            "max_load_average": rounded(loadAverage, 100), "cpu_cores": ProcessInfo.processInfo.activeProcessorCount, "summary": summary,
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    var text: String {
        func label(_ text: String) -> String { "  " + text.padded(to: 34) }
        func rate(_ value: Double) -> String { "\(Int(value.rounded())) rows/s".padded(to: 16) }
        func seconds(_ value: Double) -> String { String(format: "%.3f s", value).padded(to: 12) }
        return [
            "couplet bench verify: \(rows) coupled pairs (ERP customers ↔ CRM accounts, 14 fields), \(drifted) drifted",
            label("couplet verify, 1 process") + rate(verifyRate) + seconds(verifySeconds)
                + String(format: "%.1f %% of baseline", verifyRate / baselineRate * 100),
            label("baseline COPY pipe") + rate(baselineRate) + seconds(baselineSeconds)
                + "COPY (SELECT 14 columns) TO STDOUT → COPY account FROM STDIN",
            label("verify peak resident memory") + String(format: "%.1f MB", peakRSSMegabytes),
            label("verify CPU time") + String(format: "%.2f s user + system, %.1f µs a pair", cpuSeconds, cpuSeconds / Double(rows) * 1_000_000),
            label("verify printed") + summary,
            label("machine load") + String(
                format: "1-minute load average up to %.2f on %d cores", loadAverage, ProcessInfo.processInfo.activeProcessorCount),
        ].joined(separator: "\n")
    }
}
