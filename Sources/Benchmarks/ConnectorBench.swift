import ArgumentParser
import AsyncHTTPClient
import CommandSupport
import CoupletSchema
import Foundation
import NIOCore
import Postgres
import Queue
import Sync

/// `couplet bench connector`: a full sync of accounts from the ERP to a CRM behind the Dataverse
/// Web API (the emulator, over HTTP) and back, beside the same rows synced from PostgreSQL to
/// PostgreSQL, by one real worker process each, in the same run.
struct ConnectorBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connector",
        abstract: "Full sync rates over the Dataverse Web API, HTTP requests per 1,000 records and worker memory.",
        discussion: """
            Runs in scratch databases it creates and drops: an ERP with a customer table of --rows rows \
            (11 mapped columns), a CRM database served by `couplet-emulator dataverse` (the binary beside \
            this one) and a second CRM database reached as PostgreSQL. One `couplet worker` syncs the \
            customers to the emulated Dataverse in full (\\$batch writes), then every account back into an \
            empty ERP table (paged reads), then the same customers to the PostgreSQL CRM: the baseline. \
            Prints records per second, HTTP requests per 1,000 records and 429 answers (the emulator's \
            counts), the time the worker waited for the limits and the most requests served at once, and \
            the worker's peak resident memory. The emulator keeps Dataverse's documented service \
            protection limits unless --requests-per-window or --limit-window is given: a small budget in \
            a short window makes a storm of 429 answers, which the run must wait out with no failed record.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: "Customer rows in the ERP table.")
    var rows = 100_000

    @Option(help: "The emulator's request limit per window (Dataverse's documented 6,000 by default).")
    var requestsPerWindow = 6_000

    @Option(help: "The emulator's service protection window in seconds (Dataverse's documented 300 by default).")
    var limitWindow = 300

    func validate() throws {
        guard rows >= 1 else { throw ValidationError("--rows must be at least 1") }
        guard requestsPerWindow >= 1, (1...86_400).contains(limitWindow) else {
            throw ValidationError("--requests-per-window must be at least 1 and --limit-window between 1 and 86400 seconds")
        }
    }

    func run() async throws {
        let server = try BenchSupport.server(global)
        let figures = try await BenchSupport.withScratchDatabase(on: server) { erp in
            try await BenchSupport.withScratchDatabase(on: server) { dataverseCRM in
                try await BenchSupport.withScratchDatabase(on: server) { postgresCRM in
                    try await ConnectorBenchRun(
                        server: server, erp: erp, dataverseCRM: dataverseCRM, postgresCRM: postgresCRM, rows: rows,
                        requestsPerWindow: requestsPerWindow, limitWindow: limitWindow
                    ).measure()
                }
            }
        }
        print(figures.joined(separator: "\n"))
    }
}

/// The databases and processes of one `couplet bench connector` run.
struct ConnectorBenchRun {
    let server: PostgresConfiguration
    let erp: PostgresConfiguration
    let dataverseCRM: PostgresConfiguration
    let postgresCRM: PostgresConfiguration
    let rows: Int
    let requestsPerWindow: Int
    let limitWindow: Int
    static let secret = "couplet-bench-secret"
    static let clientID = "51f81489-12ee-4a9e-aaae-a2591f45987d"

    /// ERP customer column → CRM account column.
    static let fields: KeyValuePairs<String, String> = [
        "no": "accountnumber", "name": "name", "address": "address1_line1", "city": "address1_city", "post_code": "address1_postalcode",
        "country": "address1_country", "phone": "telephone1", "email": "emailaddress1", "credit_limit": "creditlimit",
        "payment_terms": "description", "created_on": "createdon",
    ]

    func measure() async throws -> [String] {
        try await setUp()
        let emulator = try startEmulator()
        defer { emulator.process.terminate() }
        var lines = ["couplet bench connector: \(rows) accounts, 1 worker, \(Self.fields.count) mapped columns"]
        let overHTTP = try await withCoordination(crm: .dataverse(port: emulator.port)) { coordination in
            let out = try await timedRun("CUSTOMER", coordination, port: emulator.port)
            let back = try await timedRun("ACCOUNT-BACK", coordination, port: emulator.port)
            return (out, back)
        }
        let baseline = try await withCoordination(crm: .postgres) { coordination in
            try await timedRun("CUSTOMER", coordination, port: nil)
        }
        lines.append(overHTTP.0.line("ERP → Dataverse (emulated), full", rows: rows))
        lines.append(overHTTP.1.line("Dataverse (emulated) → ERP, full", rows: rows))
        lines.append(baseline.line("ERP → PostgreSQL CRM, full (baseline)", rows: rows))
        lines.append(String(format: "  ratio to the baseline: out %.2f ×, back %.2f ×",
                            overHTTP.0.rate(rows) / baseline.rate(rows), overHTTP.1.rate(rows) / baseline.rate(rows)))
        return lines
    }

    // MARK: Setup

    private static let accountTable = """
        CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.modifiedon := now(); RETURN NEW; END $$;
        CREATE TABLE account (
            accountid uuid PRIMARY KEY DEFAULT gen_random_uuid(), accountnumber text, name text NOT NULL, address1_line1 text,
            address1_city text, address1_postalcode text, address1_country text, telephone1 text, emailaddress1 text,
            creditlimit numeric(12, 2), description text, createdon date, modifiedon timestamptz NOT NULL DEFAULT now());
        CREATE TRIGGER stamp BEFORE UPDATE ON account FOR EACH ROW EXECUTE FUNCTION stamp();
        """

    /// The ERP's customers (and an empty table for the way back), and both CRMs' empty account tables.
    private func setUp() async throws {
        let db = try await PostgresConnection.connect(erp, applicationName: "couplet bench")
        defer { db.close() }
        try await db.runScript(
            """
            CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.modified_at := now(); RETURN NEW; END $$;
            CREATE TABLE customer (
                no text PRIMARY KEY, name text NOT NULL, address text, city text, post_code text, country text, phone text, email text,
                credit_limit numeric(12, 2), payment_terms text, created_on date, modified_at timestamptz NOT NULL DEFAULT now());
            CREATE TABLE customer_back (LIKE customer INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
            ALTER TABLE customer_back ADD PRIMARY KEY (no);
            INSERT INTO customer
            SELECT 'C' || lpad(n::text, 8, '0'), 'Customer ' || n, n || ' Main Street', 'City ' || n % 500, (1000 + n % 9000)::text,
                   (ARRAY['NO', 'SE', 'DK', 'DE', 'GB'])[1 + n % 5], '+47 ' || lpad((n * 7919 % 100000000)::text, 8, '0'),
                   'customer' || n || '@example.com', (n % 1000) * 100, (ARRAY['14 DAYS', '30 DAYS', '60 DAYS'])[1 + n % 3],
                   date '2015-01-01' + (n % 3650)::int, timestamptz '2025-01-01 00:00:00+00' + n * interval '1 millisecond'
            FROM generate_series(1, \(rows)) AS n;
            """, name: "erp")
        try await db.runScript("VACUUM ANALYZE customer", name: "vacuum")
        for crm in [dataverseCRM, postgresCRM] {
            let connection = try await PostgresConnection.connect(crm, applicationName: "couplet bench")
            defer { connection.close() }
            try await connection.runScript(Self.accountTable, name: "crm")
        }
    }

    /// `couplet-emulator dataverse` over the Dataverse CRM database, once it listens.
    private func startEmulator() throws -> (process: Process, port: Int) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            .deletingLastPathComponent().appending(path: "couplet-emulator")
        process.arguments = ["dataverse", "--database", dataverseCRM.connectionString, "--port", "0",
                             "--request-limit", "\(requestsPerWindow)", "--limit-window", "\(limitWindow)"]
        process.environment = ProcessInfo.processInfo.environment.merging(["COUPLET_EMULATOR_CLIENT_SECRET": Self.secret]) { $1 }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var text = ""
        while !text.contains("\n") {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw ValidationError("couplet-emulator stopped before it listened") }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard let port = text.split(separator: ":").last.flatMap({ Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) else {
            throw ValidationError("couplet-emulator said \(text), not where it listens")
        }
        return (process, port)
    }

    private enum CRM {
        case dataverse(port: Int)
        case postgres
    }

    /// The mappings file: CUSTOMER to the CRM, ACCOUNT-BACK from it into the empty ERP table.
    private func mappings(_ crm: CRM) -> String {
        let endpoint = switch crm {
        case .dataverse(let port):
            "{name: crm, kind: dataverse, url: \"http://127.0.0.1:\(port)\", tenant: bench, client_id: \(Self.clientID), authority: \"http://127.0.0.1:\(port)/\"}"
        case .postgres: "{name: crm}"
        }
        let fields = Self.fields.map { "      - {local: \($0.key), integration: \($0.value)\($0.key == "credit_limit" ? ", comparison: numeric" : "")}" }
            .joined(separator: "\n")
        /// A mapping of every record between `table` and the accounts, in `direction`.
        func mapping(_ name: String, _ direction: String, _ table: String) -> String {
            """
              - name: \(name)
                direction: \(direction)
                sync_only_coupled: false
                local: {endpoint: erp, table: \(table), key: no, modified: modified_at}
                integration: {endpoint: crm, table: account, key: accountid, modified: modifiedon}
                fields:
            \(fields)
            """
        }
        return """
            endpoints:
              - {name: erp}
              - \(endpoint)
            mappings:
            \(mapping("CUSTOMER", "to_integration", "customer"))
            \(mapping("ACCOUNT-BACK", "from_integration", "customer_back"))
            """
    }

    /// A migrated coordination database with the mappings to `crm`, for `body`; dropped afterwards.
    private func withCoordination<T>(
        crm: CRM, isolation: isolated (any Actor)? = #isolation, _ body: (ConnectorCoordination) async throws -> T
    ) async throws -> T {
        try await BenchSupport.withScratchDatabase(on: server) { database in
            let connection = try await PostgresConnection.connect(database, applicationName: "couplet bench")
            defer { connection.close() }
            try await CoupletSchema.migrator.migrate(on: connection)
            try await MappingStore.apply(try MappingFile.parse(mappings(crm), file: "bench.yaml"), prune: false, on: connection)
            var environment = [EndpointDirectory.variable(for: "erp"): erp.connectionString]
            if case .postgres = crm { environment[EndpointDirectory.variable(for: "crm")] = postgresCRM.connectionString }
            if case .dataverse = crm { environment["COUPLET_ENDPOINT_CRM_SECRET"] = Self.secret }
            return try await body(ConnectorCoordination(database: database, connection: connection, environment: environment))
        }
    }

    /// A full sync of `mapping` by one fresh worker, with its time, requests and memory.
    private func timedRun(_ mapping: String, _ coordination: ConnectorCoordination, port: Int?) async throws -> ConnectorRunFigures {
        let before = try await emulatorStats(port)
        let worker = try BenchSupport.startChild(
            ["worker", "--queues", "sync", "--concurrency", "1"], database: coordination.database, environment: coordination.environment)
        defer {
            worker.terminate()
            worker.waitUntilExit()
        }
        let db = coordination.connection
        let job = try await JobQueue.enqueue(SyncJobs.job(for: mapping, kind: .full), on: db)
        while true {
            let (state, error) = try await db.query("SELECT state, errors->-1->>'error' FROM couplet.jobs WHERE id = \(job)").single()
                .decode((String, String?).self)
            if state == "completed" { break }
            guard ["available", "scheduled", "running"].contains(state), worker.isRunning else {
                throw ValidationError("the full sync of \(mapping) is \(state): \(error ?? "the worker stopped")")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let (seconds, inserted, failed) = try await db.query(
            "SELECT extract(epoch FROM max(finished_at) - min(started_at))::float8, sum(inserted)::int8, sum(failed)::int8 FROM couplet.sync_runs WHERE job_id = \(job)"
        ).single().decode((Double, Int, Int).self)
        guard inserted == rows, failed == 0 else { throw ValidationError("\(mapping) inserted \(inserted) of \(rows), \(failed) failed") }
        let after = try await emulatorStats(port)
        return ConnectorRunFigures(
            seconds: seconds, requests: after.requests - before.requests, throttled: after.throttled - before.throttled,
            waited: port == nil ? 0 : try await limitWaits(job: job, on: db), concurrent: after.concurrent,
            peakMB: BenchSupport.memory(of: worker.processIdentifier).peak, http: port != nil)
    }

    /// The seconds the worker's requests waited for the service protection limits, as it records
    /// them in `couplet.endpoint_limits` once they change (every 5 seconds): read once a round of
    /// recording has passed since the job ended.
    private func limitWaits(job: Int64, on db: PostgresConnection) async throws -> Double {
        try await Task.sleep(for: .seconds(6))
        return try await db.query(
            """
            SELECT extract(epoch FROM l.waited)::float8 FROM couplet.endpoint_limits l JOIN couplet.jobs j ON l.worker_id = j.worker_id
            WHERE j.id = \(job)
            """, name: "limit waits"
        ).map { try $0.decode(Double.self, at: 0) }.first ?? 0
    }

    /// The emulator's request and 429 counts so far, and the most requests it served at once (zero without an emulator).
    private func emulatorStats(_ port: Int?) async throws -> (requests: Int, throttled: Int, concurrent: Int) {
        guard let port else { return (0, 0, 0) }
        let response = try await HTTPClient.shared.get(url: "http://127.0.0.1:\(port)/_emulator/stats").get()
        guard let body = response.body,
              let stats = try JSONSerialization.jsonObject(with: Data(Array(buffer: body))) as? [String: Any],
              let routes = stats["requestsByRoute"] as? [String: Int]
        else { throw ValidationError("the emulator's stats did not read") }
        return (routes.values.reduce(0, +), stats["throttledResponses"] as? Int ?? 0, stats["maximumConcurrentRequests"] as? Int ?? 0)
    }
}

/// A coordination database of the connector benchmark and the endpoints' variables its workers get.
struct ConnectorCoordination {
    let database: PostgresConfiguration
    let connection: PostgresConnection
    let environment: [String: String]
}

/// One timed full sync.
struct ConnectorRunFigures {
    let seconds: Double
    let requests: Int
    let throttled: Int
    /// Seconds the worker's requests waited for the service protection limits.
    let waited: Double
    /// The most requests the emulator served at once.
    let concurrent: Int
    let peakMB: Double
    let http: Bool

    func rate(_ rows: Int) -> Double { Double(rows) / max(seconds, 0.001) }

    func line(_ label: String, rows: Int) -> String {
        var text = "  " + label.padded(to: 40) + String(format: "%8.0f records/s  %7.2f s  peak RSS %5.1f MB", rate(rows), seconds, peakMB)
        if http {
            text += String(
                format: "  %5.2f requests per 1,000 records, %d answered 429, %.1f s waited for limits, at most %d concurrent",
                Double(requests) * 1000 / Double(max(rows, 1)), throttled, waited, concurrent)
        }
        return text
    }
}
