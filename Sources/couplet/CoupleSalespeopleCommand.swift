import ArgumentParser
import CommandSupport
import Foundation
import Postgres
import Sync

/// `couplet couple-salespeople`: couples ERP salespeople to CRM users by their match fields
/// (e-mail first, then name, as the SALESPEOPLE mapping says), after a person has seen the result.
struct CoupleSalespeopleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "couple-salespeople",
        abstract: "Match salespeople to CRM users (by e-mail, then name), show the result, and couple them once confirmed.",
        discussion: """
            CRM records have an owner: a customer whose salesperson is not coupled to a CRM user fails \
            to sync with a message saying so. This matches the uncoupled records of the mapping by its \
            match fields in priority order, prints each pair, the ambiguous and the unmatched, asks \
            before coupling (--yes does not ask), and couples the unique matches.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: "The salespeople mapping.")
    var mapping = "SALESPEOPLE"

    @Flag(help: "Couple without asking.")
    var yes = false

    func run() async throws {
        let logger = try global.makeLogger("couplet.couple-salespeople")
        let db = try await global.connect(logger, applicationName: "couplet couple-salespeople")
        defer { db.close() }
        let definition = try await MappingStore.load(mapping, on: db)
        let previews = try await SyncEngine(coordination: db, endpoints: .couplet(logger: logger), logger: logger).previewMatches(mapping: mapping)
        let pairs = previews.filter { $0.target != nil }
        print(MatchPreviewTable(mapping: definition, previews: previews).lines.joined(separator: "\n"))
        print("\n\(pairs.count) to couple, \(previews.count - pairs.count) left as they are.")
        guard !pairs.isEmpty, try confirmed() else { return }
        for pair in pairs {
            let (local, integration) = pair.direction.source == .local
                ? (pair.source.id, pair.target!.id) : (pair.target!.id, pair.source.id)
            try await RecordActions.couple(mapping: mapping, localID: local, integrationID: integration, on: db)
        }
        print("Coupled \(pairs.count). The next sync of \(mapping) and of the mappings that look owners up through it uses them.")
    }

    /// Whether the person said yes (or --yes); without a terminal to ask on, no.
    private func confirmed() throws -> Bool {
        if yes { return true }
        guard isatty(STDIN_FILENO) == 1 else {
            print("Not coupled: run with --yes to couple without a terminal.")
            return false
        }
        print("Couple them? [y/N] ", terminator: "")
        return ["y", "yes"].contains(readLine()?.lowercased().trimmingCharacters(in: .whitespaces) ?? "")
    }
}

/// The match preview as a table: each source record's match-field values, and what matching found.
struct MatchPreviewTable {
    let mapping: MappingDefinition
    let previews: [MatchPreview]

    /// The table's lines.
    var lines: [String] {
        guard let direction = previews.first?.direction else { return ["Every record of \(mapping.settings.name) is coupled."] }
        let fields = mapping.matchFields.map { $0.field }
        let sourceTable = mapping.side(direction.source).table.description
        let targetTable = mapping.side(direction.target).table.description
        var table = TextTable(header: [sourceTable.uppercased()] + fields.map { $0.field(on: direction.source) } + ["RESULT"])
        table.rows = previews.map { preview in
            [preview.source.id] + fields.map { (preview.source.values[$0.field(on: direction.source)] ?? nil) ?? "" }
                + [result(preview, targetTable)]
        }
        return table.lines()
    }

    private func result(_ preview: MatchPreview, _ targetTable: String) -> String {
        switch preview.outcome {
        case .found(let id): "couple with \(targetTable) \(id)"
        case .ambiguous(let count): "ambiguous: \(count) \(targetTable) records match"
        case .alreadyCoupled(let id, let other): "\(targetTable) \(id) matches but is coupled to \(other)"
        case .duplicateSources(let id, let count): "ambiguous: \(targetTable) \(id) matches \(count) records here"
        case .notFound, .notTried: "no match"
        }
    }
}
