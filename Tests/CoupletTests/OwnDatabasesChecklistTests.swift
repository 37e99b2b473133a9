import Foundation
import Postgres
import PostgresTestSupport
import Testing

/// The README's "Your own databases" checklist, as a reader follows it: its command lines in order,
/// each run by `bash` in a folder holding its files, on a cluster of the test's own — where its
/// logins and databases (`couplet_owner`, `couplet`, …) can be created as written.
private struct Checklist {
    /// The section of README.md.
    let section: DocumentationPage
    /// Its command lines, in order, with where each stands.
    let lines: [(location: String, line: String)]

    init() throws {
        section = try #require(DocumentationPage.named("README.md").section("Your own databases"), "README.md has a section Your own databases")
        lines = section.codeBlocks.filter { $0.language == "sh" }.flatMap { block in
            ShellLines.commands(in: block.text).map { (block.location, $0) }
        }
    }

    /// The files it shows (```yaml blocks marked `<!-- own-databases: NAME -->`), by name.
    var files: [String: String] {
        section.codeBlocks.reduce(into: [:]) { files, block in
            guard let name = block.marker?.wholeMatch(of: /own-databases: (.+)/)?.output.1 else { return }
            files[String(name)] = block.text + "\n"
        }
    }
}

/// The ERP and CRM the checklist integrates: `OwnSchemaTables` (integer keys from a sequence,
/// `char(2)` codes, a CHECK constraint), with names holding stray spaces and a blocked debtor that
/// the mapping's filter leaves out. `Nordlys AS` is in both (the CRM's spelled `  Nordlys  as `);
/// `Fjord Fisk` and the blocked one only in the ERP, `Sol & Co` only in the CRM. The ERP's and
/// CRM's administrators are superusers; the coordination server's is not.
private enum ChecklistSystems {
    static let erpRecords = """
        INSERT INTO debtor (name, country, credit_limit, blocked) VALUES
            ('Nordlys AS', 'NO', 5000, false), ('  Fjord Fisk ', 'NO', 100, false), ('Blocked Ltd', 'SE', 0, true)
        """
    static let crmRecords = "INSERT INTO client (name, country, credit) VALUES ('  Nordlys  as ', 'NO', NULL), ('Sol & Co', 'SE', 2500)"

    /// The coordination server's administrator the checklist expects (`COORDINATION_ADMIN`): not a
    /// superuser, as on a managed service, but allowed to create logins and databases.
    static let administrator = "CREATE ROLE dba LOGIN CREATEROLE CREATEDB"

    /// Creates databases `erp` and `crm` on `cluster` with their tables and records, and the administrator.
    static func create(on cluster: PrivateCluster) async throws {
        let server = try await PostgresConnection.connect(try PostgresConfiguration(cluster.url()), applicationName: "couplet tests")
        defer { server.close() }
        try await server.runScript(administrator, name: "administrator")
        for (name, schema, records) in [("erp", OwnSchemaTables.erp, erpRecords), ("crm", OwnSchemaTables.crm, crmRecords)] {
            let db = try await PostgresConnection.connect(try PostgresConfiguration(try await cluster.createDatabase(name)), applicationName: "couplet tests")
            defer { db.close() }
            try await db.runScript(schema + ";\n" + records, name: "\(name) tables")
        }
    }
}

@Suite("The README's \"Your own databases\" checklist, followed literally")
struct OwnDatabasesChecklistTests {
    @Test("followed line by line on fresh databases, it syncs both ways, leaves the filtered debtor out, keeps syncing by schedule, and status says all is well")
    func followTheChecklist() async throws {
        let checklist = try Checklist()
        let folder = try ownDatabasesFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        for name in ["mappings.yaml", "schedules.yaml"] {
            let fixture = try String(contentsOf: folder.appending(path: name), encoding: .utf8)
            #expect(checklist.files[name] == fixture, "README.md shows Tests/Fixtures/own-databases/\(name) as it is")
        }
        try await PrivateCluster.with { cluster in
            try await ChecklistSystems.create(on: cluster)
            let erp = try await PostgresConnection.connect(try PostgresConfiguration(cluster.url(database: "erp")), applicationName: "couplet tests")
            let crm = try await PostgresConnection.connect(try PostgresConfiguration(cluster.url(database: "crm")), applicationName: "couplet tests")
            defer {
                erp.close()
                crm.close()
            }
            var shell = ChecklistShell(folder: folder, host: "127.0.0.1:\(cluster.port)")
            defer { shell.stopAll() }
            for (location, line) in checklist.lines { try await shell.run(line, at: location) }
            #expect(shell.background.count == 2, "a worker and a scheduler run in the background")
            try await Self.expectRecordsTravelled(erp: erp, crm: crm)
            try await Self.expectScheduledDeltas(erp: erp, crm: crm)
            let status = try await CoupletProcess.run(["status"], environment: shell.environment, directory: folder)
            #expect(status.standardOutput.contains("All well") && status.standardOutput.contains("DEBTOR"), "\(status.standardOutput)")
            for process in shell.background {
                process.terminate()
                #expect(try await process.waitForExit().status == 0, "\(process.standardError)")
            }
        }
    }

    /// After the review: `Sol & Co` came to the ERP with the next id, and its number went back; the
    /// ERP's debtors are in the CRM, coupled by match or created trimmed; the blocked one is not.
    private static func expectRecordsTravelled(erp: PostgresConnection, crm: PostgresConnection) async throws {
        #expect(try await firstColumn(erp, "SELECT id || ' ' || name FROM debtor ORDER BY id")
            == ["1 Nordlys AS", "2   Fjord Fisk ", "3 Blocked Ltd", "4 Sol & Co"])
        #expect(try await firstColumn(crm, "SELECT number || ' ' || name FROM client ORDER BY number")
            == ["1 Nordlys AS", "2 Fjord Fisk", "4 Sol & Co"])
    }

    /// An edit on each side reaches the other through the scheduler's deltas alone.
    private static func expectScheduledDeltas(erp: PostgresConnection, crm: PostgresConnection) async throws {
        try await erp.query("UPDATE debtor SET credit_limit = 7500 WHERE id = 1")
        try await crm.query("UPDATE client SET country = 'DK' WHERE number = '4'")
        let carried = try await eventually(within: .seconds(30)) {
            let credit = try await firstColumn(crm, "SELECT credit::text FROM client WHERE number = '1'")
            let country = try await firstColumn(erp, "SELECT country FROM debtor WHERE id = 4")
            return credit == ["7500.00"] && country == ["DK"]
        }
        #expect(carried, "the scheduled deltas carry edits both ways")
    }

    /// The first column of `sql`'s rows.
    private static func firstColumn(_ db: PostgresConnection, _ sql: PostgresQuery) async throws -> [String?] {
        try await db.query(sql).map { $0.values.first ?? nil }
    }
}

/// A reader's shell: exported variables kept (the example servers' host names replaced by the test
/// cluster's), each line run by `bash` in the reader's folder, a line ending in `&` left running.
private struct ChecklistShell {
    let folder: URL
    /// `127.0.0.1:PORT`, for the README's `db.example`, `erp.example` and `crm.example`.
    let host: String
    private(set) var environment: [String: String] = [:]
    private(set) var background: [CoupletProcess.Running] = []

    init(folder: URL, host: String) {
        self.folder = folder
        self.host = host
    }

    /// Runs `line` as the reader's shell would; a line that fails fails the test with its output.
    mutating func run(_ line: String, at location: String) async throws {
        let line = line.replacing(/\b(db|erp|crm)\.example\b/, with: host)
        let words = ShellLines.words(line)
        if words.first?.text == "export" {
            for word in words.dropFirst() {
                let parts = word.text.split(separator: "=", maxSplits: 1).map(String.init)
                environment[parts[0]] = parts.count == 2 ? parts[1] : ""
            }
        } else if line.hasSuffix("&") {
            // bash runs a lone command (assignments before it included) in its own process, so SIGTERM reaches couplet.
            background.append(try CoupletProcess.startShell(String(line.dropLast()), environment: environment, directory: folder))
            try await Task.sleep(for: .milliseconds(500))  // a reader's pace before the next line
        } else {
            let outcome = try await CoupletProcess.startShell(line, environment: environment, directory: folder).waitForExit()
            #expect(outcome.status == 0, "\(location): \(line)\n\(outcome.standardOutput)\(outcome.standardError)")
            if outcome.status != 0 { throw ChecklistStepFailed(line: line) }
        }
    }

    /// Sends SIGTERM to what is still running in the background.
    func stopAll() {
        for process in background { process.terminate() }
    }
}

/// A step of the checklist failed; the steps after it would fail for that reason only.
private struct ChecklistStepFailed: Error, CustomStringConvertible {
    let line: String
    var description: String { "the checklist stopped at: \(line)" }
}
