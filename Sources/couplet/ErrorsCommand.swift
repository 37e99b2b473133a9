import ArgumentParser
import CommandSupport
import Foundation
import Sync

/// `couplet errors [MAPPING] [--class C] [--record ID]`: the open sync errors, one block per kind of failure.
struct ErrorsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "errors",
        abstract: "Show the open sync errors grouped by failure class: how many records, a few of them, and what to do.",
        discussion: """
            The error log keeps one open error per record and failure class: a run that fails the \
            record the same way again counts it (occurrences, last seen) instead of adding a line, \
            and the error closes by itself when the record syncs. This command prints one block per \
            mapping, direction and failure class, the classes with most records first: the counts, \
            when it was first and last seen, what is wrong and what to do, then a few of the records \
            (those failing longest first) with their ids and values. History stays in \
            couplet.sync_errors (closed_at, closed_reason).
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("Only this mapping's errors, e.g. CUSTOMER.", valueName: "mapping"))
    var mapping: String?

    @Option(name: .customLong("class"), help: ArgumentHelp(
        "Only this failure class, exact or its kind before the colon, e.g. uncoupled_reference.", valueName: "class"))
    var failureClass: String?

    @Option(help: ArgumentHelp("Only the errors of this record (its local or integration id).", valueName: "id"))
    var record: String?

    @Option(help: "How many records to show per class.")
    var examples = 3

    func validate() throws {
        guard examples >= 0 else { throw ValidationError("--examples must be 0 or more") }
    }

    func run() async throws {
        let logger = try global.makeLogger("couplet.errors")
        let db = try await global.connect(logger, applicationName: "couplet errors")
        defer { db.close() }
        let filter = ErrorLog.Filter(mapping: mapping, failureClass: failureClass, record: record)
        let groups = try await ErrorLog.openGroups(filter, examples: examples, on: db)
        ErrorsText(groups: groups, filter: filter, now: Date()).lines.forEach { print($0) }
    }
}

/// Open errors as people read them: a summary line, then one block per failure class.
struct ErrorsText {
    /// The groups to show.
    let groups: [ErrorLog.Group]
    /// What was asked for, to say what "none" means.
    let filter: ErrorLog.Filter
    /// The time the distances are told from.
    let now: Date

    /// The summary line and the blocks.
    var lines: [String] {
        guard !groups.isEmpty else { return ["No open errors\(scope)."] }
        let records = groups.reduce(0) { $0 + $1.records }
        return ["\(records) open error(s)\(scope) in \(groups.count) class(es)."] + groups.flatMap(block)
    }

    /// ` of mapping CUSTOMER, class key_collision, record C1`, or nothing when unfiltered.
    private var scope: String {
        let parts = [filter.mapping.map { "mapping \($0)" }, filter.failureClass.map { "class \($0)" },
                     filter.record.map { "record \($0)" }].compactMap { $0 }
        return parts.isEmpty ? "" : " (" + parts.joined(separator: ", ") + ")"
    }

    /// One class: its counts, its text, a few records and how to see the rest.
    private func block(_ group: ErrorLog.Group) -> [String] {
        let seen = "first seen \(RelativeTime.describe(secondsFromNow: group.firstSeenAt.timeIntervalSince(now))), "
            + "last seen \(RelativeTime.describe(secondsFromNow: group.lastSeenAt.timeIntervalSince(now)))"
        let header = "\(group.mapping) \(group.direction)  \(group.failureClass)  "
            + "\(group.records) record(s), \(group.occurrences) occurrence(s) in runs, \(seen)"
        let examples = group.examples.map { "    - \(Self.describe($0))" }
        let rest = group.records - group.examples.count
        let more = rest > 0
            ? ["    … and \(rest) more: couplet errors \(group.mapping) --class \(group.failureClass) --examples \(group.records)"]
            : []
        return ["", header, "  \(group.message)", "  records:"] + examples + more
    }

    /// The record's own message (its ids and values), and how many runs failed it.
    static func describe(_ example: ErrorLog.Example) -> String {
        let ids = "local \(example.localID ?? "-"), integration \(example.integrationID ?? "-")"
        return "\(example.recordMessage ?? ids) (\(example.occurrences) run(s))"
    }
}
