import ArgumentParser
import CommandSupport
import Foundation
import Sync

/// `couplet verify MAPPING [--repair] [--limit N]`: compare every coupled pair field by field, as a cron alarm or before a repair.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Compare every coupled pair of a mapping field by field through the mapping; with --repair, bring them in step.",
        discussion: """
            Full and delta syncs compare modified-on stamps only, so values that drifted apart while \
            both stamps stayed put (an earlier bad write, a change made while a trigger was off) look \
            unchanged to them. verify reads both sides of every coupling, page by page in key order, \
            and compares each field the way the mapping carries it, with its rules and comparison. \
            It prints a summary line, then one line per pair that differs, is pending (the next run \
            carries it), is orphaned (a record is gone), lies outside the filter, or cannot be compared. \
            When the mapping has match fields it also walks the uncoupled records of each side a pass \
            starts from and lists those that would couple by match (run couplet match or a full sync), \
            and groups of records on one side sharing their normalised match values (duplicates, which \
            matching refuses). \
            --repair hands differing pairs to the engine: one-way fields from their source, fields \
            carried both ways from the update-conflict policy's winner (policy fail: a conflict, \
            nothing copied), orphans to the deletion-conflict policy. Needs the endpoints' connection \
            strings (COUPLET_ENDPOINT_<NAME>_URL) like a worker. \
            Exit status: 0 in step (or, with --repair, everything found was brought in step); 2 when \
            differences, orphaned couplings, pairs that cannot be compared, uncoupled records that \
            would couple by match, or duplicates remain (--repair couples nothing); 1 when the verify \
            itself failed.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The mapping, e.g. CUSTOMER.")
    var mapping: String

    @Flag(help: "Bring differing pairs and orphaned couplings in step by the mapping's direction and conflict policies.")
    var repair = false

    @Option(help: "Print at most this many lines of each kind: pairs, would-match records, groups of duplicates (all are counted).")
    var limit = 100

    func validate() throws {
        guard limit >= 0 else { throw ValidationError("--limit must be 0 or more") }
    }

    func run() async throws {
        let logger = try global.makeLogger("couplet.verify")
        let db = try await global.connect(logger, applicationName: "couplet verify")
        defer { db.close() }
        let report = try await MappingVerifier(coordination: db, logger: logger)
            .verify(mapping: mapping, options: .init(limit: limit, repair: repair))
        print(VerifyText(report: report).text)
        if report.problemsRemain { throw ExitCode(VerifyText.problemsStatus) }
    }
}

/// A verify report as people read it: a summary line, a line per pair, the repair's counts.
struct VerifyText {
    /// The exit status when differences remain (1 stays for a verify that failed).
    static let problemsStatus = ExitStatus.problemsFound

    let report: VerifyReport

    var text: String {
        ([summary] + report.findings.map(line) + report.matchFindings.map(line) + report.duplicates.map(line)
            + (report.repair.map { [repairLine($0)] } ?? [])).joined(separator: "\n")
    }

    private var summary: String {
        let shown = report.findings.count
        let total = report.checked - report.inStep
        let more = shown < total ? " (the first \(shown) of \(total) listed)" : ""
        return "\(report.mapping): \(report.checked) coupled pairs checked: \(report.inStep) in step, \(report.differing) differ, "
            + "\(report.pending) pending, \(report.orphaned) orphaned, \(report.outsideFilter) outside the filter, "
            + "\(report.notComparable) not comparable\(more). " + uncoupled
    }

    private var uncoupled: String {
        guard report.matchFieldsChecked else { return "Uncoupled records not checked: the mapping has no match fields." }
        let listed = report.matchFindings.count + report.duplicates.count
        let total = report.wouldMatch + report.duplicateGroups
        let more = listed < total ? " (the first \(listed) of \(total) listed)" : ""
        return "Uncoupled records: \(report.uncoupled) checked, \(report.wouldMatch) would couple by match; "
            + "\(report.duplicateGroups) \(report.duplicateGroups == 1 ? "group" : "groups") of duplicates\(more)."
    }

    private func line(_ finding: MatchFinding) -> String {
        let other: SyncSide = finding.side == .local ? .integration : .local
        let action = switch finding.action {
        case .matchRun: "run couplet match \(report.mapping), or a full sync"
        case .fullSync: "a full sync couples them"
        case .coupleByHand: "the mapping syncs only coupled records: couplet couple \(report.mapping) \(finding.localID) \(finding.integrationID)"
        }
        return "  \(report.mapping) \(finding.side.rawValue) \(finding.id): uncoupled, would couple by match with "
            + "\(other.rawValue) \(finding.counterpartID): \(action)"
    }

    private func line(_ finding: DuplicateFinding) -> String {
        let values = zip(finding.fields, finding.group.values).map { "\($0) \"\($1)\"" }.joined(separator: ", ")
        let more = finding.group.ids.count < finding.group.count ? ", …" : ""
        return "  \(report.mapping) \(finding.side.rawValue) duplicates: \(finding.group.count) records share \(values) "
            + "(\(finding.group.ids.joined(separator: ", "))\(more)): matching refuses them; make the values distinct or couple by hand"
    }

    private func line(_ finding: VerifyFinding) -> String {
        let pair = "\(report.mapping) \(finding.localID) ↔ \(finding.integrationID)"
        let what: String = switch finding.state {
        case .differs(let fields): "differs: \(fields.map(\.description).joined(separator: ", "))"
        case .pending(let fields): "pending (the next run carries it): \(fields.map(\.description).joined(separator: ", "))"
        case .orphaned(let deleted): "orphaned: the \(deleted.map(\.rawValue).joined(separator: " and ")) record is gone"
        case .outsideFilter(let sides): "outside the filter on the \(sides.map(\.rawValue).joined(separator: " and ")) side"
        case .notComparable(let message): "not comparable: \(message)"
        }
        return "  \(pair): \(what)" + (finding.repair.map { " [\(repairWords($0))]" } ?? "")
    }

    private func repairWords(_ result: RepairResult) -> String {
        switch result {
        case .repaired: "repaired"
        case .conflict: "conflict: the update-conflict policy is fail, a person decides"
        case .left: "still out of step: see couplet errors"
        case .notRepairable: "not repaired"
        }
    }

    private func repairLine(_ summary: RepairSummary) -> String {
        "Repair: \(summary.repaired) brought in step, \(summary.conflicts) conflicts left for a person, "
            + "\(summary.left) still out of step."
    }
}
