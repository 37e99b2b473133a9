import ArgumentParser
import CommandSupport
import Foundation
import Logging
import Postgres
import Sync
import YAMLFile

/// `couplet mappings`: declare endpoints and table mappings in a file, check it against the
/// endpoints, apply it, and see how each mapping is doing.
struct MappingsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mappings",
        abstract: "Validate, apply, list and show the table mappings that the sync jobs run.",
        discussion: """
            Endpoints and mappings live in couplet.endpoints, couplet.table_mappings and \
            couplet.field_mappings. Keep them in a YAML file under version control:

              endpoints:
                - name: erp          # connection string from COUPLET_ENDPOINT_ERP_URL
                - name: crm
              mappings:
                - name: CUSTOMER
                  direction: bidirectional
                  local:       {endpoint: erp, table: customer, key: no,
                                modified: modified_at}
                  integration: {endpoint: crm, table: account, key: id,
                                modified: modified_at}
                  fields:
                    - {local: no, integration: account_number}
                    - {local: name, integration: name, to_integration: "trim"}

            validate and apply connect to every endpoint (COUPLET_ENDPOINT_<NAME>_URL) and check \
            tables, columns, column types and filters before anything is written.
            """,
        subcommands: [MappingsValidateCommand.self, MappingsApplyCommand.self, MappingsListCommand.self, MappingsShowCommand.self])
}

/// `couplet mappings validate FILE`: checks a mappings file and the endpoints it names.
struct MappingsValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a mappings file against the endpoints; print every problem as FILE:LINE:COLUMN: message.",
        discussion: """
            Checks the file (keys, types, names, rules, filters, references, dependency cycles), then \
            connects to each endpoint and checks that every table and column exists, that modified-on \
            columns are timestamps, that paired columns take each other's values, and that each filter \
            plans as a predicate. Nothing is written anywhere. With a coordination database \
            (COUPLET_DATABASE_URL or --database-url), lookup(…) and depends_on may also name stored \
            mappings. Exits 1 when there is an error; warnings alone do not fail.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The mappings file (YAML).", completion: .file())
    var file: String

    func run() async throws {
        let logger = try global.makeLogger("couplet.mappings")
        var stored: [String: [String]]?
        var storedValueMaps: Set<String> = []
        if global.isDatabaseConfigured {
            let connection = try await global.connect(logger, applicationName: "couplet mappings validate")
            defer { connection.close() }
            stored = try await MappingStore.dependencies(on: connection)
            storedValueMaps = try await MappingStore.valueMapNames(on: connection)
        }
        let input = MappingsFileInput(path: file, writes: false)
        let definition = try input.read(otherMappings: stored ?? [:], otherValueMaps: storedValueMaps)
        let warnings = try await input.checkEndpoints(definition)
        let scope = stored == nil ? " (lookups and depends_on checked against this file only: no coordination database given)" : ""
        print("\(file): \(definition.endpoints.count) endpoint(s) and \(definition.mappings.count) mapping(s) valid"
            + (warnings > 0 ? ", \(warnings) warning(s)" : "") + scope + ".")
    }
}

/// `couplet mappings apply FILE`: makes the stored endpoints and mappings match the file.
struct MappingsApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Create, update (and with --prune delete) endpoints and mappings so that the database matches FILE.",
        discussion: """
            Validates the file and the endpoints first (as couplet mappings validate does) and writes \
            nothing when there is an error. The changes are made in one transaction. Watermarks of \
            unchanged mappings are never touched; when a side's endpoint, table, key or modified-on \
            column changes, that side's watermark is reset, and the output says so.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The mappings file (YAML).", completion: .file())
    var file: String

    @Flag(help: "Delete stored mappings (with their couplings) and endpoints that are not in the file.")
    var prune = false

    @Flag(help: "Show what would change without writing anything.")
    var dryRun = false

    func run() async throws {
        let logger = try global.makeLogger("couplet.mappings")
        let connection = try await global.connect(logger, applicationName: "couplet mappings apply")
        defer { connection.close() }
        let others = prune ? [:] : try await MappingStore.dependencies(on: connection)
        let otherValueMaps = prune ? [] : try await MappingStore.valueMapNames(on: connection)
        let input = MappingsFileInput(path: file, writes: true)
        let definition = try input.read(otherMappings: others, otherValueMaps: otherValueMaps)
        _ = try await input.checkEndpoints(definition)
        let report = dryRun
            ? try await MappingStore.plan(definition, prune: prune, on: connection)
            : try await MappingStore.apply(definition, prune: prune, on: connection)
        for line in MappingsApplyText(report: report, file: file, dryRun: dryRun).lines { print(line) }
    }
}

/// Reading and checking a mappings file for a command: problems go to standard error, and the
/// command fails when any is an error.
struct MappingsFileInput {
    /// The file.
    let path: String
    /// Whether the command would have written (so a failure says that nothing was).
    let writes: Bool

    /// The definition in the file, or exit status 1 after printing every problem.
    func read(otherMappings: [String: [String]], otherValueMaps: Set<String>) throws -> MappingFileDefinition {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            printError("Error: cannot read \(path): \(error.localizedDescription)")
            throw ExitCode.failure
        }
        do {
            return try MappingFile.parse(text, file: path, otherMappings: otherMappings, otherValueMaps: otherValueMaps)
        } catch {
            try fail(error.problems)
        }
    }

    /// Checks the endpoints; prints warnings and returns their count, or fails after printing every problem.
    func checkEndpoints(_ definition: MappingFileDefinition) async throws -> Int {
        let problems = await MappingEndpointCheck(endpoints: .couplet(logger: Logger(label: "couplet.mappings"))).problems(in: definition)
        guard problems.contains(where: { $0.severity == .error }) else {
            for problem in problems { printError(problem.description) }
            return problems.count
        }
        try fail(problems)
    }

    private func fail(_ problems: [FileProblem]) throws -> Never {
        for problem in problems { printError(problem.description) }
        let errors = problems.count { $0.severity == .error }
        let warnings = problems.count - errors
        printError("\(path): \(errors) error(s)" + (warnings > 0 ? ", \(warnings) warning(s)" : "") + (writes ? "; nothing was written." : "."))
        throw ExitCode.failure
    }
}

/// The lines `couplet mappings apply` prints: one per change, then a summary.
struct MappingsApplyText {
    let report: MappingApplyReport
    let file: String
    let dryRun: Bool

    var lines: [String] {
        let (create, update, delete) = dryRun ? ("would create", "would update", "would delete") : ("created", "updated", "deleted")
        var lines = report.endpoints.created.map { "\(create) endpoint".padded(to: 22) + $0 }
        lines += report.endpoints.updated.map { "\(update) endpoint".padded(to: 22) + $0 }
        lines += report.valueMaps.created.map { "\(create) value map".padded(to: 22) + $0 }
        lines += report.valueMaps.updated.map { "\(update) value map".padded(to: 22) + $0 }
        lines += report.mappings.created.map { create.padded(to: 22) + $0 }
        lines += report.mappings.updated.map { update.padded(to: 22) + $0 }
        lines += report.watermarkResets.map(resetLine)
        lines += report.mappings.deleted.map { name in
            delete.padded(to: 22) + name + (couplings(of: name).map { " (and its \($0) coupling(s))" } ?? "")
        }
        lines += report.valueMaps.deleted.map { "\(delete) value map".padded(to: 22) + $0 }
        lines += report.endpoints.deleted.map { "\(delete) endpoint".padded(to: 22) + $0 }
        lines.append(summary)
        lines += [kept(report.mappings.retained, "mapping(s)"), kept(report.valueMaps.retained, "value map(s)")].compactMap { $0 }
        return lines
    }

    /// `Kept 2 stored mapping(s) not in FILE (--prune deletes them): A, B`, or nil when none were kept.
    private func kept(_ names: [String], _ what: String) -> String? {
        guard !names.isEmpty else { return nil }
        return "Kept \(names.count) stored \(what) not in \(file) (--prune deletes them): " + names.joined(separator: ", ")
    }

    private func resetLine(_ reset: MappingApplyReport.WatermarkReset) -> String {
        let verb = dryRun ? "would reset" : "reset"
        return "  \(verb) the \(reset.side.rawValue) watermark of \(reset.mapping) (was \(reset.previous.formatted(.iso8601))): "
            + reset.changes.joined(separator: ", ") + "; the next delta reads every record on that side"
            + (couplings(of: reset.mapping).map { "; its \($0) coupling(s) hold ids read from the old side" } ?? "")
    }

    /// The mapping's couplings, when it has any.
    private func couplings(of mapping: String) -> Int? {
        report.couplings[mapping].flatMap { $0 > 0 ? $0 : nil }
    }

    private var summary: String {
        func counts(_ changes: MappingApplyReport.Changes) -> String {
            "\(changes.created.count) created, \(changes.updated.count) updated, \(changes.unchanged.count) unchanged, \(changes.deleted.count) deleted"
        }
        let valueMaps = report.valueMaps.isEmpty ? "" : "; value maps \(counts(report.valueMaps))"
        let text = "mappings \(counts(report.mappings)); endpoints \(counts(report.endpoints))\(valueMaps)."
        return dryRun ? "\(file) (dry run, nothing written): \(text)" : "\(file): \(text)"
    }
}
