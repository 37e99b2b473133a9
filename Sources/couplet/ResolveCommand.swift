import ArgumentParser
import CommandSupport
import Foundation
import Postgres
import Sync

/// `couplet resolve MAPPING ID (--use local|integration | --restore | --delete | --uncouple | --couple OTHER_ID)`:
/// Business Central's per-record actions on a failing pair, each through its `couplet.*` function and
/// logged in `couplet.record_actions` with who asked; `couplet resolve --log [MAPPING] [ID]` shows that log.
struct ResolveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resolve",
        abstract: "Resolve one pair's failure (conflict, deleted counterpart) by hand, or show who resolved what (--log).",
        discussion: """
            --use local|integration: this conflict once, that record's values win (couplet.resolve_conflict). \
            --restore: re-create the pair's deleted record from the survivor (couplet.restore_record). \
            --delete: delete the survivor (couplet.delete_survivor). These three wait as pending actions until \
            the records sync job they enqueue (or any run that reads the pair first) carries them out: done \
            once the write succeeded, not applicable (with the reason) when the pair is not in the state the \
            action needs; a failed write leaves the action pending and the error in couplet errors. \
            --uncouple and --couple OTHER_ID act at once (couplet.uncouple_record, couplet.couple_records). \
            ID is the local record's key, or with --side integration the integration record's.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The mapping, e.g. CUSTOMER.", valueName: "mapping"))
    var mapping: String?

    @Argument(help: ArgumentHelp("The record's key: local, or integration with --side integration.", valueName: "id"))
    var id: String?

    @Option(help: ArgumentHelp("This conflict once, the local or the integration record wins.", valueName: "side"))
    var use: SyncSide?

    @Flag(help: "Re-create the pair's deleted record from the survivor.")
    var restore = false

    @Flag(help: "Delete the surviving record of a pair whose other record was deleted.")
    var delete = false

    @Flag(help: "Remove the pair's coupling now (the records stay).")
    var uncouple = false

    @Option(help: ArgumentHelp("Couple the record to this record of the other side now.", valueName: "other-id"))
    var couple: String?

    @Option(help: "The side ID names: local (ERP) or integration (CRM).")
    var side: SyncSide = .local

    @Flag(help: "Follow the job of --use, --restore or --delete until it ends, then say what became of the action.")
    var wait = false

    @Flag(help: "Show the latest actions (of MAPPING, of record ID): who asked, when, and what became of them.")
    var log = false

    @Option(help: "With --log: how many actions to show.")
    var limit = 20

    /// The resolutions asked for on the command line.
    private var resolutions: [RecordActions.Resolution] {
        [use.map { .use($0) }, restore ? .restore : nil, delete ? .delete : nil, uncouple ? .uncouple : nil, couple.map { .couple(with: $0) }]
            .compactMap { $0 }
    }

    func validate() throws {
        if log {
            guard resolutions.isEmpty, !wait else { throw ValidationError("--log shows the log; leave out the action and --wait") }
            guard limit >= 1 else { throw ValidationError("--limit must be at least 1") }
            return
        }
        guard mapping != nil, id != nil else { throw ValidationError("name the mapping and the record: couplet resolve MAPPING ID --use local") }
        guard resolutions.count == 1 else { throw ValidationError("choose one of --use local|integration, --restore, --delete, --uncouple, --couple OTHER_ID") }
        guard !wait || use != nil || restore || delete else {
            throw ValidationError("--wait goes with --use, --restore and --delete; --uncouple and --couple are done at once")
        }
    }

    func run() async throws {
        let logger = try global.makeLogger("couplet.resolve")
        let db = try await global.connect(logger, applicationName: "couplet resolve")
        defer { db.close() }
        if log {
            let entries = try await RecordActions.recent(mapping: mapping, record: id, limit: limit, on: db)
            RecordActionsText(entries: entries, now: Date()).lines.forEach { print($0) }
            return
        }
        guard let mapping, let id, let resolution = resolutions.first else { throw ValidationError("name the mapping, the record and the action") }
        let entry = try await refusalsAsFailures {
            try await RecordActions.resolve(resolution, mapping: mapping, id: id, side: side, on: db)
        }
        print(RecordActionsText.requested(entry))
        guard wait, let job = entry.jobID else { return }
        let jobState = try await SyncProgress(mapping: mapping).follow(job, on: db)
        let settled = try await RecordActions.entry(entry.id, on: db) ?? entry
        print(RecordActionsText.settled(settled))
        guard jobState == "completed", settled.state == "done" else { throw ExitCode.failure }
    }
}

/// Runs `body`, turning the database's refusal of a record action (no such mapping or record, a
/// record coupled already) into the command's failure: its message and hint, without the usage.
@discardableResult
func refusalsAsFailures<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let refusal as RecordActions.Refusal {
        throw CommandFailure(description: refusal.description)
    }
}

/// Record actions as people read them.
struct RecordActionsText {
    /// The actions, newest first.
    let entries: [RecordActions.Entry]
    /// The time the distances are told from.
    let now: Date

    /// A table of the actions, or a line saying there are none.
    var lines: [String] {
        guard !entries.isEmpty else { return ["No record actions."] }
        var table = TextTable(header: ["ID", "REQUESTED", "BY", "MAPPING", "LOCAL", "INTEGRATION", "ACTION", "STATE", "JOB", "OUTCOME"])
        table.rows = entries.map { entry in
            [
                String(entry.id), RelativeTime.describe(secondsFromNow: entry.requestedAt.timeIntervalSince(now)), entry.requestedBy,
                entry.mapping, entry.localID ?? "-", entry.integrationID ?? "-", entry.action, entry.state,
                entry.jobID.map(String.init) ?? "-", entry.outcome ?? "-",
            ]
        }
        return table.lines()
    }

    /// What was asked and who does it next: the job, or nobody (done at once).
    static func requested(_ entry: RecordActions.Entry) -> String {
        let pair = "\(entry.mapping) \(entry.localID ?? "-") ↔ \(entry.integrationID ?? "-")"
        guard entry.state == "pending", let job = entry.jobID else {
            return "\(entry.outcome.map { $0.prefix(1).uppercased() + $0.dropFirst() } ?? entry.action) \(pair) (action \(entry.id), by \(entry.requestedBy))."
        }
        return "Asked to \(entry.action) \(pair) (action \(entry.id), by \(entry.requestedBy)); job \(job) carries it out. "
            + "couplet resolve --log \(entry.mapping) \(entry.localID ?? "") shows what became of it."
    }

    /// What became of the action once its job ended.
    static func settled(_ entry: RecordActions.Entry) -> String {
        switch entry.state {
        case "done": "Action \(entry.id) is done: \(entry.outcome ?? "carried out")."
        case "not_applicable": "Action \(entry.id) did not apply: \(entry.outcome ?? "")"
        case "superseded": "Action \(entry.id) was superseded: \(entry.outcome ?? "")."
        default: "Action \(entry.id) is still pending: the write failed or waits (couplet errors \(entry.mapping) --record \(entry.localID ?? ""))."
        }
    }
}

extension SyncSide: ExpressibleByArgument {}

extension SyncDirection: ExpressibleByArgument {
    /// Reads `to_integration` or `from_integration`.
    public init?(argument: String) {
        self.init(storedName: argument)
    }

    /// The values the option takes, for help and completion.
    public static var allValueStrings: [String] { allCases.map(\.storedName) }
}
