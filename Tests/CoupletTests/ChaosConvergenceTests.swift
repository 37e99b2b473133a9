import Foundation
import Postgres
import PostgresTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

// The process-level companion of Tests/SyncTests/ConvergenceTests.swift: the same ERP debtor ↔ CRM
// client schemas (OwnSchemaFixture's), synced by real `couplet worker` processes while one worker is
// SIGKILLed mid-sync and the coordination server (a private cluster) is restarted under them.

/// The DEBTOR mapping as a mappings file: debtor.id ↔ client.number, names trimmed on the way to the ERP, blocked debtors filtered out.
/// Batches of 50 records, so that the rounds' imports of a few hundred rows are read in pages.
private func debtorMappingsYAML(updateConflict: String = "fail", deletionConflict: String = "fail", batchSize: Int = 50) -> String {
    """
    endpoints:
      - name: erp
      - name: crm
    mappings:
      - name: DEBTOR
        direction: bidirectional
        local: {endpoint: erp, table: debtor, key: id, modified: modified_at, filter: "blocked = false"}
        integration: {endpoint: crm, table: client, key: id, modified: modified_at}
        sync_only_coupled: false
        update_conflict: \(updateConflict)
        deletion_conflict: \(deletionConflict)
        batch_size: \(batchSize)
        fields:
          - {local: id, integration: number}
          - {local: name, integration: name, from_integration: trim}
          - {local: country, integration: country}
          - {local: credit_limit, integration: credit, comparison: numeric}
          - {local: manager, integration: manager}
    """
}

/// One seeded round against real processes: random edits on both sides while two workers sync,
/// a worker SIGKILLed mid-sync and replaced, the coordination server restarted once; then
/// quiescence and the invariants.
private struct ChaosRound {
    let seed: UInt64
    let cluster: PrivateCluster
    let erp: PostgresConnection
    let crm: PostgresConnection
    let environment: [String: String]
    let coordinationURL: String
    var coordination: PostgresConnection
    var rng: SplitMix64
    let updateConflict: String
    let deletionConflict: String
    var workers: [CoupletProcess.Running] = []
    var killed: Set<Int32> = []
    var log: [String] = []
    var problems: [String] = []
    var nameCounter = 0
    /// Records a person inserted (the rest were created by the engine).
    var personDebtors: Set<String> = []
    var personClients: Set<String> = []
    /// Each blocked debtor's whole row as a person last left it: the engine must never change it.
    var blockedSnapshots: [String: String] = [:]
    let started = ContinuousClock.now

    static let countries: [String?] = [nil, "DE", "GB", "US", "FR"]
    static let credits: [String?] = [nil, "0", "100.50", "2500", "99999.99"]
    static let managers: [String?] = [nil, "ANNA", "BOB", "CARL"]

    init(seed: UInt64, cluster: PrivateCluster, coordinationURL: String, coordination: PostgresConnection,
         erp: PostgresConnection, crm: PostgresConnection, environment: [String: String]) {
        self.seed = seed
        self.cluster = cluster
        self.coordinationURL = coordinationURL
        self.coordination = coordination
        self.erp = erp
        self.crm = crm
        self.environment = environment
        var generator = SplitMix64(seed: seed)
        updateConflict = generator.pick(["fail", "send_to_integration", "get_from_integration"])
        deletionConflict = generator.pick(["fail", "remove_coupling", "propagate", "restore"])
        rng = generator
    }

    var settings: String { "bidirectional, update_conflict \(updateConflict), deletion_conflict \(deletionConflict)" }

    mutating func note(_ line: String) {
        log.append(String(format: "%6.2fs ", (ContinuousClock.now - started).seconds) + line)
    }

    mutating func fail(_ message: String) {
        problems.append(message)
        note("PROBLEM: " + message)
    }

    var mappingsYAML: String { debtorMappingsYAML(updateConflict: updateConflict, deletionConflict: deletionConflict) }

    // MARK: the round

    mutating func run() async throws {
        let migrated = try await CoupletProcess.run(["migrate"], environment: environment)
        guard migrated.status == 0 else { return fail("couplet migrate exited \(migrated.status): \(migrated.standardError)") }
        let file = FileManager.default.temporaryDirectory.appending(path: "chaos-\(UUID().uuidString).yaml")
        try mappingsYAML.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let applied = try await CoupletProcess.run(["mappings", "apply", file.path], environment: environment)
        guard applied.status == 0 else {
            return fail("couplet mappings apply exited \(applied.status): \(applied.standardOutput)\(applied.standardError)")
        }
        note("mapping applied: \(settings)")
        defer { for worker in workers where !killed.contains(worker.pid) { worker.kill() } }
        for _ in 0..<2 { try startWorker() }

        let steps = 8 + rng.below(4)
        let killStep = 2 + rng.below(steps - 2)
        var restartStep = 2 + rng.below(steps - 2)
        if restartStep == killStep { restartStep = restartStep == steps ? 2 : restartStep + 1 }
        for step in 1...steps {
            note("step \(step):")
            try await checkBlocked("before step \(step)")
            for _ in 0...rng.below(3) { try await randomOperation() }
            if step == killStep {
                try await killWorkerMidSync()
            } else if step == restartStep {
                try await restartCoordinationMidSync()
            } else {
                try await enqueue(full: rng.chance(25))
            }
            try await Task.sleep(for: .milliseconds(50 + rng.below(350)))
        }
        try await checkBlocked("after the edits")
        try await quiesce()
        try await checkInvariants()
        try await stopWorkers()
    }

    mutating func startWorker() throws {
        let worker = try CoupletProcess.start(["worker", "--queues", "sync", "--lease", "2s"], environment: environment)
        workers.append(worker)
        note("worker \(worker.pid) started")
    }

    /// `couplet sync DEBTOR [--full]` without waiting: the job queues behind the one running.
    @discardableResult
    mutating func enqueue(full: Bool) async throws -> Int64? {
        let outcome = try await CoupletProcess.run(["sync", "DEBTOR"] + (full ? ["--full"] : []), environment: environment)
        guard outcome.status == 0 else {
            fail("couplet sync DEBTOR\(full ? " --full" : "") exited \(outcome.status): \(outcome.standardError)")
            return nil
        }
        let job = Self.jobID(outcome.standardOutput)
        note("enqueued \(full ? "full" : "delta") sync as job \(job.map(String.init) ?? "?")")
        return job
    }

    static func jobID(_ output: String) -> Int64? {
        guard let range = output.range(of: "as job ") else { return nil }
        return Int64(output[range.upperBound...].prefix { $0.isNumber })
    }

    /// A person imports a batch of debtors, so that the next sync runs long enough to be interrupted.
    mutating func importBatch() async throws {
        let count = 150 + rng.below(250)
        let first = nameCounter + 1
        nameCounter += count
        let ids = try await erp.query(
            """
            INSERT INTO debtor (name, country, credit_limit, manager)
            SELECT 'Import ' || n, (ARRAY['DE', 'GB', NULL])[1 + n % 3], (n % 7) * 100, (ARRAY['ANNA', NULL])[1 + n % 2]
            FROM generate_series(\(first), \(first + count - 1)) n RETURNING id::text
            """).map { try $0.decode(String.self, at: 0) }
        personDebtors.formUnion(ids)
        note("  import \(count) debtors \(ids.first ?? "")…\(ids.last ?? "")")
    }

    /// Waits (bounded) until a sync job runs on a worker; returns the job and that worker's pid.
    mutating func runningSync(within timeout: Duration = .seconds(15)) async throws -> (job: Int64, pid: Int32)? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let rows = try await coordination.query(
                """
                SELECT j.id, w.pid FROM couplet.jobs j JOIN couplet.workers w ON w.id = j.worker_id
                WHERE j.state = 'running' AND j.kind LIKE 'sync.%' ORDER BY j.id LIMIT 1
                """).map { try $0.decode((Int64, Int32).self) }
            if let row = rows.first { return (row.0, row.1) }
            try await Task.sleep(for: .milliseconds(5))
        }
        return nil
    }

    mutating func killWorkerMidSync() async throws {
        try await importBatch()
        try await enqueue(full: rng.chance(50))
        guard let (job, pid) = try await runningSync() else { return fail("no sync job was seen running to kill its worker") }
        try await Task.sleep(for: .milliseconds(rng.below(150)))
        guard let victim = workers.first(where: { $0.pid == pid }) else { return fail("job \(job) runs on pid \(pid), not one of ours") }
        let state = try await coordination.query("SELECT state FROM couplet.jobs WHERE id = \(job)").single().decode(String.self, at: 0)
        victim.kill()
        killed.insert(pid)
        note("  SIGKILLed worker \(pid) running job \(job) (job \(state) at the kill)")
        try startWorker()
    }

    mutating func restartCoordinationMidSync() async throws {
        try await importBatch()
        try await enqueue(full: rng.chance(50))
        let running = try await runningSync()
        try await Task.sleep(for: .milliseconds(rng.below(150)))
        coordination.close()
        let began = ContinuousClock.now
        try cluster.restart()
        note("  restarted the coordination server (pg_ctl restart -m fast, \((ContinuousClock.now - began).seconds)s) while job \(running.map { String($0.job) } ?? "none seen") ran")
        coordination = try await PostgresConnection.connect(try PostgresConfiguration(coordinationURL), applicationName: "couplet chaos test")
    }

    // MARK: a person's edits

    mutating func randomOperation() async throws {
        switch rng.below(100) {
        case 0..<22: try await insertDebtor()
        case 22..<40: try await insertClient()
        case 40..<52: try await updateDebtor()
        case 52..<64: try await updateClient()
        case 64..<72: try await deleteDebtor()
        case 72..<80: try await deleteClient()
        case 80..<88: try await blockDebtor()
        case 88..<94: try await negativeClientCredit()
        default: try await updateBoth()
        }
    }

    mutating func freshName() -> String {
        nameCounter += 1
        return "Acme \(nameCounter)"
    }

    mutating func insertDebtor() async throws {
        let name = freshName()
        let (country, credit, manager) = (rng.pick(Self.countries), rng.pick(Self.credits), rng.pick(Self.managers))
        let blocked = rng.chance(20)
        let id = try await erp.query(
            """
            INSERT INTO debtor (name, country, credit_limit, manager, blocked)
            VALUES (\(name), \(country), \(credit)::numeric, \(manager), \(blocked)) RETURNING id::text
            """).single().decode(String.self, at: 0)
        personDebtors.insert(id)
        note("  insert debtor \(id) '\(name)' \(country ?? "-") \(credit ?? "-") \(manager ?? "-")\(blocked ? " BLOCKED" : "")")
        if blocked { try await snapshotBlocked(id) }
    }

    mutating func insertClient() async throws {
        let name = rng.pick(["", " "]) + freshName() + rng.pick(["", "  "])
        let (country, credit, manager) = (rng.pick(Self.countries), rng.pick(Self.credits), rng.pick(Self.managers))
        let id = try await crm.query(
            "INSERT INTO client (name, country, credit, manager) VALUES (\(name), \(country), \(credit)::numeric, \(manager)) RETURNING id::text"
        ).single().decode(String.self, at: 0)
        personClients.insert(id)
        note("  insert client \(id) '\(name)' \(country ?? "-") \(credit ?? "-") \(manager ?? "-")")
    }

    /// A random unblocked debtor (a person never touches blocked ones, so any change to them is the engine's).
    mutating func someDebtor() async throws -> String? {
        let ids = try await erp.query("SELECT id::text FROM debtor WHERE NOT blocked ORDER BY id").map { try $0.decode(String.self, at: 0) }
        return ids.isEmpty ? nil : rng.pick(ids)
    }

    /// A random client, chosen in an order independent of the random uuids.
    mutating func someClient() async throws -> String? {
        let ids = try await crm.query("SELECT id::text FROM client ORDER BY btrim(name), number, id").map { try $0.decode(String.self, at: 0) }
        return ids.isEmpty ? nil : rng.pick(ids)
    }

    /// A person changes one random field of a debtor (not a blocked one: those stay as they are).
    mutating func updateDebtor(_ given: String? = nil) async throws {
        var chosen = given
        if chosen == nil { chosen = try await someDebtor() }
        guard let id = chosen else { return try await insertDebtor() }
        let (column, value) = randomField(name: freshName(), credit: "credit_limit")
        try await erp.query("UPDATE debtor SET \(try PostgresIdentifier(column)) = \(value)::text::\(typeOf(column)) WHERE id = \(id)::int AND NOT blocked")
        note("  debtor \(id): \(column) = \(value.map { "'\($0)'" } ?? "NULL")")
    }

    /// A person changes one random field of a client.
    mutating func updateClient(_ given: String? = nil) async throws {
        var chosen = given
        if chosen == nil { chosen = try await someClient() }
        guard let id = chosen else { return try await insertClient() }
        let (column, value) = randomField(name: " " + freshName(), credit: "credit")
        try await crm.query("UPDATE client SET \(try PostgresIdentifier(column)) = \(value)::text::\(typeOf(column)) WHERE id = \(id)::uuid")
        note("  client \(id): \(column) = \(value.map { "'\($0)'" } ?? "NULL")")
    }

    /// One of the fields both sides hold, and a random value for it (`credit` names that side's credit column).
    mutating func randomField(name: String, credit: String) -> (column: String, value: String?) {
        switch rng.below(4) {
        case 0: ("name", name)
        case 1: ("country", rng.pick(Self.countries))
        case 2: (credit, rng.pick(Self.credits))
        default: ("manager", rng.pick(Self.managers))
        }
    }

    /// The SQL type a bound text value is cast to for `column`.
    func typeOf(_ column: String) -> PostgresQuery {
        column.hasPrefix("credit") ? "numeric" : "text"
    }

    /// Both records of a coupled pair edited between syncs: an update conflict.
    mutating func updateBoth() async throws {
        let pairs = try await coordination.query(
            "SELECT local_id, integration_id FROM couplet.couplings WHERE mapping = 'DEBTOR' ORDER BY local_id::int"
        ).map { try $0.decode((String, String).self) }
        guard !pairs.isEmpty else { return try await updateDebtor() }
        let (debtor, client) = rng.pick(pairs)
        let blocked = try await erp.query("SELECT count(*) FROM debtor WHERE id = \(debtor)::int AND blocked").single().decode(Int.self, at: 0)
        note("  both sides of pair \(debtor) ↔ \(client):")
        if blocked == 0 { try await updateDebtor(debtor) }
        try await updateClient(client)
    }

    mutating func deleteDebtor() async throws {
        guard let id = try await someDebtor() else { return }
        try await erp.query("DELETE FROM debtor WHERE id = \(id)::int AND NOT blocked")
        note("  delete debtor \(id)")
    }

    mutating func deleteClient() async throws {
        guard let id = try await someClient() else { return }
        try await crm.query("DELETE FROM client WHERE id = \(id)::uuid")
        note("  delete client \(id)")
    }

    mutating func blockDebtor() async throws {
        guard let id = try await someDebtor() else { return try await insertDebtor() }
        try await erp.query("UPDATE debtor SET blocked = true WHERE id = \(id)::int")
        note("  block debtor \(id)")
        try await snapshotBlocked(id)
    }

    /// A credit the ERP's CHECK refuses: carrying it fails that record.
    mutating func negativeClientCredit() async throws {
        guard let id = try await someClient() else { return try await insertClient() }
        try await crm.query("UPDATE client SET credit = -5 WHERE id = \(id)::uuid")
        note("  client \(id): credit = -5 (the ERP refuses it)")
    }

    mutating func snapshotBlocked(_ id: String) async throws {
        blockedSnapshots[id] = try await erp.query("SELECT debtor::text FROM debtor WHERE id = \(id)::int").single().decode(String.self, at: 0)
    }

    /// (3) No blocked debtor was changed (or deleted) since a person left it.
    mutating func checkBlocked(_ when: String) async throws {
        var now: [String: String] = [:]
        for row in try await erp.query("SELECT id::text, debtor::text FROM debtor WHERE blocked") {
            let (id, text) = try row.decode((String, String).self)
            now[id] = text
        }
        for (id, row) in blockedSnapshots.sorted(by: { $0.key < $1.key }) where now[id] != row {
            fail("(3) blocked debtor \(id) was written by the engine (\(when)): \(row) → \(now[id] ?? "deleted")")
            if let changed = now[id] { blockedSnapshots[id] = changed } else { blockedSnapshots[id] = nil }
        }
    }

    // MARK: quiescence

    struct RunCounts {
        var inserted = 0, modified = 0, deleted = 0, coupled = 0, uncoupled = 0, failed = 0, runs = 0
        var wrote: Bool { inserted + modified + deleted > 0 }
        var changedAnything: Bool { wrote || coupled + uncoupled > 0 }
        var brief: String { "i\(inserted) m\(modified) d\(deleted) c\(coupled) x\(uncoupled) f\(failed) (\(runs) runs)" }
    }

    /// `couplet sync DEBTOR [--full] --wait`, bounded; the counts of the job's runs (interrupted attempts left out).
    mutating func syncAndWait(full: Bool) async throws -> RunCounts? {
        let arguments = ["sync", "DEBTOR"] + (full ? ["--full"] : []) + ["--wait"]
        let process = try CoupletProcess.start(arguments, environment: environment)
        let watchdog = Task {
            try await Task.sleep(for: .seconds(60))
            process.kill()
        }
        let outcome = try await process.waitForExit()
        watchdog.cancel()
        guard outcome.status == 0, let job = Self.jobID(outcome.standardOutput) else {
            fail("couplet \(arguments.joined(separator: " ")) exited \(outcome.status) (killed after 60 s if 9): \(outcome.standardOutput) \(outcome.standardError)")
            return nil
        }
        var counts = RunCounts()
        for row in try await coordination.query(
            """
            SELECT inserted, modified, deleted, coupled, uncoupled, failed FROM couplet.sync_runs
            WHERE job_id = \(job) AND coalesce(message, '') NOT LIKE 'interrupted:%'
            """) {
            let (i, m, d, c, x, f) = try row.decode((Int, Int, Int, Int, Int, Int).self)
            counts.inserted += i; counts.modified += m; counts.deleted += d
            counts.coupled += c; counts.uncoupled += x; counts.failed += f; counts.runs += 1
        }
        note("\(full ? "full" : "delta") sync job \(job) --wait: \(counts.brief)")
        return counts
    }

    mutating func quiesce() async throws {
        note("quiesce:")
        var quiet = false
        for _ in 1...6 {
            guard let full = try await syncAndWait(full: true), let delta = try await syncAndWait(full: false) else { return }
            if !full.changedAnything && !delta.changedAnything {
                quiet = true
                break
            }
        }
        if !quiet { fail("no quiescence: six full + delta rounds still wrote or (un)coupled records") }
        guard let last = try await syncAndWait(full: false) else { return }
        if last.wrote { fail("(5) a final delta sync wrote: \(last.brief) (echo or no convergence)") }
    }

    // MARK: invariants

    mutating func checkInvariants() async throws {
        try await checkBlocked("after quiescence")
        let couplings = try await coordination.query(
            """
            SELECT local_id, integration_id,
                   coalesce(local_result = 'failure' OR integration_result = 'failure' OR skipped, false)
                   OR EXISTS (SELECT FROM couplet.sync_failures f WHERE f.mapping = c.mapping
                              AND ((f.side = 'local' AND f.record_id = c.local_id) OR (f.side = 'integration' AND f.record_id = c.integration_id)))
            FROM couplet.couplings c WHERE mapping = 'DEBTOR'
            """).map { try $0.decode((String, String, Bool).self) }
        let failing = Set(couplings.filter(\.2).map { "\($0.0)|\($0.1)" })
        let debtors = try await erp.query("SELECT id::text FROM debtor").map { try $0.decode(String.self, at: 0) }
        let clients = try await crm.query("SELECT id::text FROM client").map { try $0.decode(String.self, at: 0) }
        var remembered: [String: Set<String>] = ["local": [], "integration": []]
        for row in try await coordination.query("SELECT side, record_id FROM couplet.deleted_counterparts WHERE mapping = 'DEBTOR'") {
            let (side, id) = try row.decode((String, String).self)
            remembered[side, default: []].insert(id)
        }
        note("end: \(debtors.count) debtors (\(blockedSnapshots.count) blocked), \(clients.count) clients, \(couplings.count) couplings (\(failing.count) with an open failure)")

        // (1) no record coupled twice, no number on two clients, no engine-created record left uncoupled (a duplicate).
        for (id, n) in Dictionary(grouping: couplings, by: \.0).mapValues(\.count) where n > 1 { fail("(1) debtor \(id) is in \(n) couplings") }
        for (id, n) in Dictionary(grouping: couplings, by: \.1).mapValues(\.count) where n > 1 { fail("(1) client \(id) is in \(n) couplings") }
        for row in try await crm.query("SELECT number, count(*)::int8 FROM client WHERE number IS NOT NULL GROUP BY number HAVING count(*) > 1") {
            let (number, n) = try row.decode((String, Int).self)
            fail("(1) \(n) clients carry number \(number)")
        }
        let coupledLocal = Set(couplings.map(\.0)), coupledIntegration = Set(couplings.map(\.1))
        for id in debtors where !personDebtors.contains(id) && !coupledLocal.contains(id) && remembered["local"]?.contains(id) != true {
            fail("(1) debtor \(id) was created by the engine but is coupled to nothing (a duplicate?)")
        }
        for id in clients where !personClients.contains(id) && !coupledIntegration.contains(id) && remembered["integration"]?.contains(id) != true {
            fail("(1) client \(id) was created by the engine but is coupled to nothing (a duplicate?)")
        }

        // (9) every record the mapping reads was synced: coupled, or failing, or remembered as a deleted counterpart's survivor.
        let failed = try await coordination.query("SELECT side, record_id FROM couplet.sync_failures WHERE mapping = 'DEBTOR'")
            .map { try $0.decode((String, String).self) }
        let failedLocal = Set(failed.filter { $0.0 == "local" }.map(\.1)), failedIntegration = Set(failed.filter { $0.0 == "integration" }.map(\.1))
        let unblocked = try await erp.query("SELECT id::text FROM debtor WHERE NOT blocked ORDER BY id").map { try $0.decode(String.self, at: 0) }
        let neverSynced = unblocked.filter { !coupledLocal.contains($0) && !failedLocal.contains($0) && remembered["local"]?.contains($0) != true }
        if !neverSynced.isEmpty { fail("(9) \(neverSynced.count) debtors were never synced (no coupling, no failure): \(neverSynced.prefix(20))") }
        let clientsNeverSynced = clients.filter {
            !coupledIntegration.contains($0) && !failedIntegration.contains($0) && remembered["integration"]?.contains($0) != true
        }
        if !clientsNeverSynced.isEmpty { fail("(9) \(clientsNeverSynced.count) clients were never synced (no coupling, no failure): \(clientsNeverSynced.prefix(5))") }

        // (4) couplet verify: in step, or every pair it lists carries an open failure.
        let verify = try await CoupletProcess.run(["verify", "DEBTOR", "--limit", "100000"], environment: environment)
        let lines = verify.standardOutput.split(separator: "\n").map(String.init)
        note("verify exited \(verify.status): \(lines.first ?? verify.standardError)")
        switch verify.status {
        case 0: break
        case 2:
            for line in lines.dropFirst() {
                guard let pair = Self.verifyPair(line) else { continue }
                if line.contains(": outside the filter") { continue }
                guard !failing.contains("\(pair.local)|\(pair.integration)") else { continue }
                let history = try await coordination.query(
                    """
                    SELECT r.id || ' ' || r.kind || ' ' || e.direction || ' job ' || coalesce(r.job_id::text, '-') || ': ' || e.occurrences || 'x ' || e.record_message
                    FROM couplet.sync_errors e JOIN couplet.sync_runs r ON r.id = e.last_run_id
                    WHERE e.mapping = 'DEBTOR' AND (e.local_id = \(pair.local) OR e.integration_id = \(pair.integration)) ORDER BY e.id
                    """).map { try $0.decode(String.self, at: 0) }
                let remembered = try await coordination.query(
                    "SELECT side || ' ' || record_id FROM couplet.deleted_counterparts WHERE record_id IN (\(pair.local), \(pair.integration))"
                ).map { try $0.decode(String.self, at: 0) }
                let state = try await coordination.query(
                    """
                    SELECT 'coupling ' || c::text FROM couplet.couplings c WHERE mapping = 'DEBTOR' AND local_id = \(pair.local)
                    UNION ALL SELECT 'intent ' || w::text FROM couplet.write_intents w WHERE w::text LIKE '%' || \(pair.integration) || '%'
                    """).map { try $0.decode(String.self, at: 0) }
                fail("(4) verify lists a pair with no open failure: \(line.trimmingCharacters(in: .whitespaces)); its errors: \(history); remembered: \(remembered); \(state)")
            }
        default:
            fail("couplet verify DEBTOR failed (\(verify.status)): \(verify.standardError)")
        }

        // (7) the queue drains: no job left running, retryable or available; every run finished.
        let deadline = ContinuousClock.now + .seconds(15)
        var openJobs: [String] = [], openRuns: [String] = []
        repeat {
            openJobs = try await coordination.query(
                "SELECT id || ' ' || kind || ' ' || state FROM couplet.jobs WHERE state IN ('running', 'retryable', 'available') ORDER BY id"
            ).map { try $0.decode(String.self, at: 0) }
            openRuns = try await coordination.query(
                "SELECT id || ' job ' || coalesce(job_id::text, '-') || ' ' || kind || ' ' || direction FROM couplet.sync_runs WHERE state NOT IN ('succeeded', 'failed', 'cancelled') ORDER BY id"
            ).map { try $0.decode(String.self, at: 0) }
            if openJobs.isEmpty && openRuns.isEmpty { break }
            try await Task.sleep(for: .milliseconds(200))
        } while ContinuousClock.now < deadline
        if !openJobs.isEmpty { fail("(7) jobs left unfinished 15 s after quiescence: \(openJobs)") }
        if !openRuns.isEmpty { fail("(8) sync runs stuck running: \(openRuns)") }
        let failedJobs = try await coordination.query(
            "SELECT id || ' ' || kind || ': ' || coalesce(errors->-1->>'error', '') FROM couplet.jobs WHERE state = 'failed' ORDER BY id"
        ).map { try $0.decode(String.self, at: 0) }
        if !failedJobs.isEmpty { note("failed jobs: \(failedJobs)") }
        let attempts = try await coordination.query(
            "SELECT outcome || ' ' || count(*) FROM couplet.job_attempts GROUP BY outcome ORDER BY outcome"
        ).map { try $0.decode(String.self, at: 0) }
        note("job attempts: \(attempts.joined(separator: ", "))")
    }

    /// The debtor and client of a verify line `  DEBTOR 12 ↔ <uuid>: …`.
    static func verifyPair(_ line: String) -> (local: String, integration: String)? {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasPrefix("DEBTOR "), let arrow = trimmed.range(of: " ↔ "), let colon = trimmed.range(of: ": ", range: arrow.upperBound..<trimmed.endIndex) else {
            return nil
        }
        let local = String(trimmed[trimmed.index(trimmed.startIndex, offsetBy: 7)..<arrow.lowerBound])
        return (local, String(trimmed[arrow.upperBound..<colon.lowerBound]))
    }

    /// SIGTERM to the surviving workers: each must have lived through the restart and stop cleanly.
    mutating func stopWorkers() async throws {
        for worker in workers where !killed.contains(worker.pid) { worker.terminate() }
        for worker in workers where !killed.contains(worker.pid) {
            let outcome = try await worker.waitForExit()
            if outcome.status != 0 {
                fail("worker \(worker.pid) exited \(outcome.status): \(outcome.standardError.suffix(1500))")
            }
        }
        killed.formUnion(workers.map(\.pid))
    }
}

private extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

@Suite("Convergence with real processes: a worker SIGKILLed, the coordination server restarted", .serialized)
struct ChaosConvergenceTests {
    /// The fixed seed CI runs (send_to_integration, deletion fail; about 10 s); COUPLET_SEED replays
    /// another (the same edits and chaos points; the processes' timing still varies);
    /// COUPLET_SOAK_SECONDS keeps drawing new seeds that long.
    ///
    /// Open findings to replay: seed 7 loses a person's CRM edit of a client whose insert was
    /// interrupted twice (verify: "DEBTOR 149 ↔ …: differs: country", no failure; ChaosRestoreFindings
    /// holds the simpler window, which passes); seed 123239905428336 failed to quiesce in 2 of 4 runs
    /// on a loaded machine.
    static let ciSeeds: [UInt64] = [29_250_580_223_813]

    @Test("workers killed and a coordination restart mid-sync: random edits on both sides still converge")
    func chaosConvergence() async throws {
        let environment = ProcessInfo.processInfo.environment
        var seeds: () -> UInt64?
        var soak: Double?
        if let text = environment["COUPLET_SEED"] {
            var once: UInt64? = try #require(UInt64(text), "COUPLET_SEED must be an unsigned integer: \(text)")
            seeds = { defer { once = nil }; return once }
        } else if let text = environment["COUPLET_SOAK_SECONDS"] {
            let seconds = try #require(Double(text), "COUPLET_SOAK_SECONDS must be a number: \(text)")
            soak = seconds
            let end = Date().addingTimeInterval(seconds)
            var generator = SplitMix64(seed: UInt64(Date().timeIntervalSince1970 * 1000))
            seeds = { Date() < end ? generator.next() >> 16 : nil }
        } else {
            var pending = Self.ciSeeds[...]
            seeds = { pending.popFirst() }
        }
        var rounds = 0
        try await PrivateCluster.with { cluster in
            while let seed = seeds() {
                rounds += 1
                try await Self.round(seed: seed, number: rounds, cluster)
            }
        }
        if let soak { print("chaos convergence soak: \(rounds) rounds in \(Int(soak)) s") }
    }

    /// One round: a fresh coordination database in the private cluster, fresh ERP and CRM databases on the shared server.
    static func round(seed: UInt64, number: Int, _ cluster: PrivateCluster) async throws {
        let coordinationURL = try await cluster.createDatabase("couplet_\(number)")
        try await SampleEndpoints.with(erpSchema: OwnSchemaTables.erp, crmSchema: OwnSchemaTables.crm) { sample in
            var environment = sample.environment
            environment["COUPLET_DATABASE_URL"] = coordinationURL
            let coordination = try await PostgresConnection.connect(try PostgresConfiguration(coordinationURL), applicationName: "couplet chaos test")
            var round = ChaosRound(seed: seed, cluster: cluster, coordinationURL: coordinationURL, coordination: coordination,
                                   erp: sample.erp, crm: sample.crm, environment: environment)
            do {
                try await round.run()
            } catch {
                round.fail("the round threw: \(String(reflecting: error))")
            }
            round.coordination.close()
            let elapsed = (ContinuousClock.now - round.started).seconds
            print("chaos convergence seed \(seed): \(round.settings); \(String(format: "%.1f", elapsed)) s, \(round.problems.count) problems")
            guard !round.problems.isEmpty else { return }
            for problem in round.problems { Issue.record("seed \(seed) (\(round.settings)): \(problem)") }
            Issue.record("seed \(seed): replay with COUPLET_SEED=\(seed); the round:\n\(round.log.joined(separator: "\n"))\nserver log:\n\(cluster.logTail())")
        }
    }
}

/// A migrated coordination database, the debtor and client endpoints, and the DEBTOR mapping
/// applied from `yaml` by `couplet mappings apply`: where each findings scenario starts.
private func withDebtorMapping(
    _ yaml: String, _ body: (PostgresConnection, SampleEndpoints, [String: String]) async throws -> Void
) async throws {
    try await withMigratedDatabase { coordinationDatabase, coordination in
        try await SampleEndpoints.with(erpSchema: OwnSchemaTables.erp, crmSchema: OwnSchemaTables.crm) { sample in
            var environment = sample.environment
            environment["COUPLET_DATABASE_URL"] = coordinationDatabase.configuration.connectionString
            let file = FileManager.default.temporaryDirectory.appending(path: "chaos-finding-\(UUID().uuidString).yaml")
            try yaml.write(to: file, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: file) }
            let applied = try await CoupletProcess.run(["mappings", "apply", file.path], environment: environment)
            try #require(applied.status == 0, "\(applied.standardOutput)\(applied.standardError)")
            try await body(coordination, sample, environment)
        }
    }
}

/// The smallest scenarios behind what the chaos round found; each failed before its fix.
@Suite("Chaos convergence findings", .serialized)
struct ChaosFindings {
    /// Chaos seed 7: a client a person typed as " Acme 2  " is inserted into the ERP as "Acme 2"
    /// (`from_integration: trim`); every later full and delta sync leaves the pair alone (nothing to
    /// write). `couplet verify` compared the name, carried both ways, in the to-integration
    /// direction only ("Acme 2" vs " Acme 2  ") and exited 2 with "differs: name ↔ name" for a pair
    /// with no failure, for ever. A field carried both ways is now in step when it agrees either way.
    @Test("a CRM name inserted into the ERP trimmed: the pair is in step for the engine and for verify")
    func paddedCRMNameIsNotDrift() async throws {
        try await withDebtorMapping(debtorMappingsYAML()) { _, sample, environment in
            try await sample.crm.query("INSERT INTO client (name) VALUES (' Acme 2  ')")
            let worker = try CoupletProcess.start(["worker", "--queues", "sync"], environment: environment)
            let first = try await CoupletProcess.run(["sync", "DEBTOR", "--full", "--wait"], environment: environment)
            #expect(first.status == 0 && first.standardOutput.contains("1 inserted"), "\(first.standardOutput)")
            #expect(try await sample.erp.query("SELECT name FROM debtor").single().decode(String.self, at: 0) == "Acme 2")
            let again = try await CoupletProcess.run(["sync", "DEBTOR", "--full", "--wait"], environment: environment)
            #expect(!again.standardOutput.contains("modified, ") || again.standardOutput.contains("0 inserted, 0 modified"),
                    "the engine leaves the pair alone: \(again.standardOutput)")
            let verify = try await CoupletProcess.run(["verify", "DEBTOR"], environment: environment)
            #expect(verify.status == 0, "\(verify.standardOutput)")
            worker.terminate()
            _ = try await worker.waitForExit()
        }
    }
}

/// The smallest scenario behind most of what the chaos soak found (orphaned couplings no full sync
/// ever revisits, pairs left out of step, records never synced).
@Suite("Chaos convergence findings: key-ordered reads of an integer key", .serialized)
struct ChaosPagingFindings {
    /// `TableEndpoint.records(in:limit:)` selected `id::text` (output column named `id`) and ordered
    /// `ORDER BY id`, which PostgreSQL resolves to the output column: pages came in text order
    /// (1, 10, 11, …, 18), while the next page starts `WHERE id > 18` on the integer column. With
    /// 20 debtors and batch_size 10 the first full sync read 1, 10–18, then 19, 20: debtors 2–9 were
    /// never synced, by this or any later full sync. (`changes(since:after:limit:)` ordered by
    /// (modified, key) the same way, so a delta over rows sharing a modified-on — one import
    /// transaction — skipped records too.) The outputs now carry names of their own.
    @Test("a full sync of an integer-keyed table larger than batch_size carries every record")
    func fullSyncPagesByTheKeysOwnOrder() async throws {
        try await withDebtorMapping(debtorMappingsYAML(batchSize: 10)) { _, sample, environment in
            try await sample.erp.query("INSERT INTO debtor (name) SELECT 'Debtor ' || n FROM generate_series(1, 20) n")
            let worker = try CoupletProcess.start(["worker", "--queues", "sync"], environment: environment)
            let full = try await CoupletProcess.run(["sync", "DEBTOR", "--full", "--wait"], environment: environment)
            #expect(full.status == 0, "\(full.standardError)")
            let missing = try await sample.crm.query(
                "SELECT coalesce(string_agg(n::text, ',' ORDER BY n), '') FROM generate_series(1, 20) n WHERE n::text NOT IN (SELECT number FROM client WHERE number IS NOT NULL)"
            ).single().decode(String.self, at: 0)
            #expect(missing == "", "debtors never carried to the CRM: \(missing); \(full.standardOutput)")

            try await sample.erp.query("INSERT INTO debtor (name) SELECT 'Import ' || n FROM generate_series(1, 100) n")
            let delta = try await CoupletProcess.run(["sync", "DEBTOR", "--wait"], environment: environment)
            #expect(delta.status == 0, "\(delta.standardError)")
            let deltaMissing = try await sample.crm.query(
                "SELECT coalesce(string_agg(n::text, ',' ORDER BY n), '') FROM generate_series(21, 120) n WHERE n::text NOT IN (SELECT number FROM client WHERE number IS NOT NULL)"
            ).single().decode(String.self, at: 0)
            #expect(deltaMissing == "", "imported debtors (one transaction) a delta never carried: \(deltaMissing); \(delta.standardOutput)")
            worker.terminate()
            _ = try await worker.waitForExit()
        }
    }
}

/// Chaos soak seed 228030867390601 (deletion_conflict restore): a full sync restoring a deleted
/// client was interrupted (coordination restart, then its worker SIGKILLed) between the CRM insert
/// and the coupling save; afterwards the coupling still named the deleted client (orphaned) and the
/// restored client was coupled to nothing — an engine-created record left uncoupled (the rerun's
/// reconciliation now replaces the coupling to the deleted record). Reproduced here
/// as CrashRecoveryTests does it: the coupling table locked, the worker SIGKILLed once the CRM insert
/// is in, a new worker reruns the job.
@Suite("Chaos convergence findings: a sync interrupted before its coupling save", .serialized)
struct ChaosRestoreFindings {
    /// The window chaos seed 7 hit: the engine's CRM insert is in, its coupling not saved, a person
    /// edits the new client, the worker dies. The rescued rerun must not take the person's edit for
    /// its own write.
    /// With the ERP country empty (chaos seed 7, intermittently), the insert wrote no country and
    /// its intent expected none: the person's country passed for the insert's own and was lost.
    @Test("a person's edit of a client the engine inserted but had not yet coupled when it was killed is carried to the ERP",
          arguments: ["DE", nil] as [String?])
    func editAfterUnrecordedInsert(erpCountry: String?) async throws {
        try await withDebtorMapping(debtorMappingsYAML()) { coordination, sample, environment in
            try await sample.erp.query("INSERT INTO debtor (name, country) VALUES ('Acme', \(erpCountry))")

            let first = try CoupletProcess.start(["worker", "--queues", "sync", "--lease", "2s"], environment: environment)
            try await killBeforeCouplingSave(first, coordination: coordination, sync: ["sync", "DEBTOR", "--full"], environment: environment) {
                try await sample.crm.query("SELECT count(*) FROM client").single().decode(Int.self, at: 0) == 1
            } beforeKill: {
                try await sample.crm.query("UPDATE client SET country = 'US'")
            }

            let second = try CoupletProcess.start(["worker", "--queues", "sync", "--lease", "2s"], environment: environment)
            #expect(try await eventually(within: .seconds(60), every: .milliseconds(200)) {
                try await coordination.query("SELECT count(*) FROM couplet.jobs WHERE state IN ('available', 'running', 'retryable')")
                    .single().decode(Int.self, at: 0) == 0
            })
            _ = try await CoupletProcess.run(["sync", "DEBTOR", "--wait"], environment: environment)
            _ = try await CoupletProcess.run(["sync", "DEBTOR", "--full", "--wait"], environment: environment)
            let country = try await sample.erp.query("SELECT country::text FROM debtor").single().decode(String?.self, at: 0)
            let verify = try await CoupletProcess.run(["verify", "DEBTOR"], environment: environment)
            #expect(try await sample.crm.query("SELECT count(*) FROM client").single().decode(Int.self, at: 0) == 1, "no duplicate")
            #expect(country == "US", "the person's CRM edit reaches the ERP")
            #expect(verify.status == 0, "\(verify.standardOutput)")
            second.terminate()
            _ = try await second.waitForExit()
        }
    }

    @Test("a worker killed after restoring a deleted client, before saving the coupling: the rerun couples the restored client")
    func interruptedRestore() async throws {
        try await withDebtorMapping(debtorMappingsYAML(deletionConflict: "restore")) { coordination, sample, environment in
            try await sample.crm.query("INSERT INTO client (name) VALUES ('Acme')")
            let first = try CoupletProcess.start(["worker", "--queues", "sync", "--lease", "2s"], environment: environment)
            let full = try await CoupletProcess.run(["sync", "DEBTOR", "--full", "--wait"], environment: environment)
            #expect(full.status == 0 && full.standardOutput.contains("1 inserted"), "\(full.standardOutput)")
            try await sample.crm.query("DELETE FROM client")

            try await killBeforeCouplingSave(first, coordination: coordination, sync: ["sync", "DEBTOR", "--full"], environment: environment) {
                try await sample.crm.query("SELECT count(*) FROM client").single().decode(Int.self, at: 0) == 1
            }

            let second = try CoupletProcess.start(["worker", "--queues", "sync", "--lease", "2s"], environment: environment)
            #expect(try await eventually(within: .seconds(60), every: .milliseconds(200)) {
                try await coordination.query("SELECT count(*) FROM couplet.jobs WHERE state IN ('available', 'running', 'retryable')")
                    .single().decode(Int.self, at: 0) == 0
            })
            for _ in 1...2 { _ = try await CoupletProcess.run(["sync", "DEBTOR", "--full", "--wait"], environment: environment) }
            let clients = try await sample.crm.query("SELECT id::text FROM client ORDER BY id").map { try $0.decode(String.self, at: 0) }
            let coupled = try await coordination.query("SELECT integration_id FROM couplet.couplings").map { try $0.decode(String.self, at: 0) }
            #expect(clients.count == 1, "one restored client, no duplicate: \(clients)")
            let verify = try await CoupletProcess.run(["verify", "DEBTOR"], environment: environment)
            #expect(coupled == clients, "clients \(clients), coupled to \(coupled)")
            #expect(verify.status == 0, "\(verify.standardOutput)")
            second.terminate()
            _ = try await second.waitForExit()
        }
    }
}
