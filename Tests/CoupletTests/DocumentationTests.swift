import Foundation
import Postgres
import PostgresTestSupport
import Testing

/// Pages a link may name before they exist: written by work not merged yet. Each is skipped only
/// while it is missing; once it exists its links and anchors are checked like any other.
private let awaitedPages: Set<String> = []

/// A `couplet` command line a page shows in a ```sh block, expanded from its synopsis into the
/// command lines it stands for: `[…]` optional parts included, `a|b` each alternative, a placeholder
/// (`ID`, `N`, `<account id>`, …) replaced by a sample value, environment assignments and `&` dropped.
struct DocumentedCommand: CustomStringConvertible {
    let location: String
    let arguments: [String]

    var description: String { "\(location): couplet \(arguments.joined(separator: " "))" }

    /// Sample values for the placeholders of the synopses.
    static let placeholders = [
        "KIND": "diagnostic.noop", "JSON": "{}", "Q": "default", "ID": "1", "N": "5", "SECONDS": "2", "C": "uncoupled_reference", "S": "7",
    ]

    /// The command lines of every page's ```sh blocks but the "Your own databases" checklist, which
    /// `OwnDatabasesChecklistTests` runs as written.
    static func all() throws -> [DocumentedCommand] {
        let checklist = try DocumentationPage.named("README.md").section("Your own databases")?.codeBlocks.map(\.text) ?? []
        return try DocumentationPage.all().flatMap(\.codeBlocks).filter { $0.language == "sh" && !checklist.contains($0.text) }
            .flatMap { block in ShellLines.commands(in: block.text).flatMap { expansions(of: $0, at: block.location) } }
    }

    /// The command lines `line` stands for; none when it does not run `couplet`.
    static func expansions(of line: String, at location: String) -> [DocumentedCommand] {
        var words = ShellLines.words(line.replacing(/<[^>]+>/, with: "00000000-0000-0000-0000-000000000001"))[...]
        while let first = words.first, !first.quoted, first.text.contains("="), first.text != "couplet" { words.removeFirst() }
        guard words.popFirst()?.text == "couplet" else { return [] }
        let choices = words.filter { $0.text != "&" }.compactMap { word -> [String]? in
            guard !word.quoted else { return [word.text] }
            let bare = word.text.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
            guard !bare.isEmpty, bare != "…" else { return nil }
            return bare.split(separator: "|").map { placeholders[String($0)] ?? String($0) }
        }
        return choices.reduce([[String]()]) { lines, choice in lines.flatMap { line in choice.map { line + [$0] } } }
            .map { DocumentedCommand(location: location, arguments: $0) }
    }

    /// The commands run for real, against a migrated coordination database holding the sample
    /// tables' CUSTOMER mapping and one job, in a folder holding the checklist's `schedules.yaml`;
    /// each must exit 0. Matched by their first words, unless they hold a word of `onlyParsed`.
    ///
    /// Every other documented command is only parse-checked: it runs against a database that refuses
    /// connections and must fail for that, not with a usage error (exit 64) — subcommand, arguments
    /// and options exist and parse. They are: `worker`, `scheduler`, `web` and `status --watch` (run until
    /// stopped); `sync`, `match`, `couple`, `uncouple`, `couple-salespeople`, `review run` and `verify
    /// --compare` (they wait for workers: SyncProcessTests, FirstRunTests and the checklist run them);
    /// `mappings validate|apply` (they need their file's tables: DeployFileTests, the checklist);
    /// `jobs retry|cancel|hold|resume` (JobsCommandTests); `roles create|grant|revoke` (they change
    /// the cluster: RoleTests, the checklist); `demo` (DemoTests); `availability`
    /// (SalesIntegrationProcessTests); `bench` (minutes of load).
    static let runForReal: [[String]] = [
        ["--help"], ["migrate"], ["status"], ["enqueue"], ["jobs", "list"], ["jobs", "show"], ["schedules", "validate"], ["schedules", "apply"],
        ["schedules", "list"], ["schedules", "next"], ["mappings", "list"], ["mappings", "show"], ["errors"], ["review"], ["verify"],
        ["roles", "list"],
    ]
    /// Words that make a command of `runForReal` parse-checked only: `status --watch`, `review run`, `verify --compare`.
    static let onlyParsed: Set<String> = ["--watch", "run", "--compare"]

    /// Whether the test runs this command for real rather than only parsing it.
    var runsForReal: Bool {
        Self.runForReal.contains { arguments.starts(with: $0) } && Self.onlyParsed.isDisjoint(with: arguments)
    }
}

@Suite("The documentation: links, and every couplet command it shows")
struct DocumentationTests {
    @Test("every relative link and #anchor of README.md, SECURITY.md and docs/*.md resolves")
    func linksResolve() throws {
        let pages = try DocumentationPage.all()
        var checked = 0
        for page in pages {
            for target in page.linkTargets where !target.contains("://") && !target.hasPrefix("mailto:") {
                let parts = target.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                let path = parts[0].isEmpty ? page.path : Self.resolve(parts[0], from: page.path)
                let exists = FileManager.default.fileExists(atPath: DocumentationPage.repository.appending(path: path).path)
                if !exists && awaitedPages.contains(path) { continue }
                #expect(exists, "\(page.path): the link \(target) names \(path), which does not exist")
                if exists, parts.count == 2 {
                    let anchors = try DocumentationPage.named(path).anchors
                    #expect(anchors.contains(parts[1]), "\(page.path): the link \(target): \(path) has no heading #\(parts[1])")
                }
                checked += 1
            }
        }
        #expect(checked >= 30, "the links are found: \(checked)")
    }

    @Test("README.md and docs/README.md each link every page of docs/ (and the pages still to come)")
    func indexesAreComplete() throws {
        let pages = Set(try DocumentationPage.all().map(\.path).filter { $0.hasPrefix("docs/") }).union(awaitedPages)
        for index in ["README.md", "docs/README.md"] {
            let linked = Set(try DocumentationPage.named(index).linkTargets.map {
                Self.resolve(String($0.prefix { $0 != "#" }), from: index)
            })
            #expect(pages.subtracting(linked).subtracting([index]).isEmpty, "\(index) links no \(pages.subtracting(linked).subtracting([index]).sorted())")
        }
    }

    /// `path` as written in page `from`, from the repository's root (`../SECURITY.md` from `docs/x.md` is `SECURITY.md`).
    private static func resolve(_ path: String, from page: String) -> String {
        var parts = page.split(separator: "/").dropLast().map(String.init)
        for part in path.split(separator: "/").map(String.init) {
            if part == ".." { _ = parts.popLast() } else if part != "." { parts.append(part) }
        }
        return parts.joined(separator: "/")
    }

    @Test("the pages are read as a reader reads them: statements, command lines, words, sections, anchors")
    func readingThePages() throws {
        #expect(SQLStatements.split("SELECT ';' -- a; comment\nFROM t; SELECT $$a;b$$, \"x;y\";  ") == ["SELECT ';' \nFROM t", "SELECT $$a;b$$, \"x;y\""])
        #expect(SQLStatements.normalized("SELECT *\n  FROM t ;") == "SELECT * FROM t")
        #expect(ShellLines.commands(in: "# setup\nexport A='x'  \\\n   B\n\ncouplet status   # look") == ["export A='x' B", "couplet status   # look"])
        #expect(ShellLines.words("A=\"$B/c\" couplet x 'a b' # note").map(\.text) == ["A=$B/c", "couplet", "x", "a b"])
        #expect(DocumentedCommand.expansions(of: "couplet jobs retry|cancel ID [--x [N]] …", at: "here").map(\.arguments)
            == [["jobs", "retry", "1", "--x", "5"], ["jobs", "cancel", "1", "--x", "5"]])
        let readme = try DocumentationPage.named("README.md")
        #expect(readme.anchors.isSuperset(of: ["your-own-databases", "two-commands", "documentation"]))
        #expect(readme.section("Two commands")?.codeBlocks.count == 1)
        #expect(try DocumentationPage.named("docs/sync.md").anchors.contains("verifying-coupled-pairs-couplet-verify"))
    }

    @Test("every schedules file a page shows passes couplet schedules validate")
    func everySchedulesFileValidates() async throws {
        let blocks = try DocumentationPage.all().flatMap(\.codeBlocks).filter {
            $0.language == "yaml" && $0.text.split(separator: "\n").contains("schedules:")
        }
        #expect(blocks.count >= 2, "the examples are found: \(blocks.map(\.location))")
        for block in blocks {
            let outcome = try await CoupletProcess.run(["schedules", "validate", try temporaryFile(block.text)])
            #expect(outcome.status == 0, "\(block.location): \(outcome.standardError)")
        }
    }

    @Test("every couplet command line the pages show runs (the cheap ones) or at least parses")
    func commandsParseOrRun() async throws {
        let commands = try DocumentedCommand.all()
        #expect(commands.count >= 40, "the pages' commands are found: \(commands.count)")
        let folder = try ownDatabasesFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try await SyncProcessFixture.with(customers: 3) { f in
            try await f.coordination.query("SELECT couplet.enqueue('diagnostic.noop')")
            for command in commands where command.runsForReal {
                let outcome = try await CoupletProcess.run(command.arguments, environment: f.environment, directory: folder, killedAfter: .seconds(30))
                #expect(outcome.status == 0, "\(command) exited \(outcome.status): \(outcome.standardError)")
            }
        }
        try await withThrowingTaskGroup(of: (DocumentedCommand, CoupletProcess.Outcome).self) { group in
            for command in commands where !command.runsForReal {
                group.addTask { (command, try await Self.parse(command, in: folder)) }
            }
            for try await (command, outcome) in group {
                #expect(outcome.status != 64 && !outcome.standardError.contains("Usage:"), "\(command) does not parse: \(outcome.standardError)")
            }
        }
    }

    /// Runs `command` against databases that refuse connections, for at most 5 seconds: one still
    /// running then (`bench cron`) parsed its arguments.
    private static func parse(_ command: DocumentedCommand, in folder: URL) async throws -> CoupletProcess.Outcome {
        let unreachable = ["COUPLET_DATABASE_URL", "COUPLET_ENDPOINT_ERP_URL", "COUPLET_ENDPOINT_CRM_URL"]
            .reduce(into: [:]) { $0[$1] = "postgres://nobody@127.0.0.1:1/unreachable?connect_timeout=2" }
        return try await CoupletProcess.run(command.arguments, environment: unreachable, directory: folder, killedAfter: .seconds(5))
    }
}

/// A fresh folder holding the checklist's files (`mappings.yaml`, `schedules.yaml`), as a reader who
/// followed it has them, and (linked) the repository's `deploy/`, which the demo's commands name.
func ownDatabasesFolder() throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appending(path: "couplet-own-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let fixtures = DocumentationPage.repository.appending(path: "Tests/Fixtures/own-databases")
    for name in try FileManager.default.contentsOfDirectory(atPath: fixtures.path) {
        try FileManager.default.copyItem(at: fixtures.appending(path: name), to: folder.appending(path: name))
    }
    try FileManager.default.createSymbolicLink(at: folder.appending(path: "deploy"), withDestinationURL: DocumentationPage.repository.appending(path: "deploy"))
    return folder
}
