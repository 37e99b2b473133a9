import ArgumentParser
import CommandSupport
import Queue
import Sync

/// `couplet couple MAPPING LOCAL_ID INTEGRATION_ID`: couple two records by hand, so that the
/// first full sync updates them instead of creating duplicates (`couplet.couple_records`, logged).
struct CoupleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "couple",
        abstract: "Couple a local (ERP) record to an integration (CRM) record by hand.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The mapping, e.g. CUSTOMER.")
    var mapping: String

    @Argument(help: "The local record's key, e.g. 10000.")
    var localID: String

    @Argument(help: "The integration record's key.")
    var integrationID: String

    func run() async throws {
        let logger = try global.makeLogger("couplet.couple")
        let db = try await global.connect(logger, applicationName: "couplet couple")
        try await refusalsAsFailures {
            try await RecordActions.couple(mapping: mapping, localID: localID, integrationID: integrationID, on: db)
        }
        print("Coupled \(mapping) \(localID) ↔ \(integrationID); the next sync of \(mapping) brings them in step.")
    }
}

/// `couplet uncouple MAPPING LOCAL_ID` (`couplet.uncouple_record`, logged) or `couplet uncouple MAPPING --all` (as a job).
struct UncoupleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "uncouple",
        abstract: "Remove one record's coupling, or (with --all, as a job) every coupling of a mapping. The records stay.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The mapping, e.g. CUSTOMER.")
    var mapping: String

    @Argument(help: "The local record's key.")
    var localID: String?

    @Flag(help: "Every coupling of the mapping, by a sync.uncouple job.")
    var all = false

    func validate() throws {
        guard (localID == nil) == all else { throw ValidationError("name one local record, or pass --all for the whole mapping") }
    }

    func run() async throws {
        let logger = try global.makeLogger("couplet.uncouple")
        let db = try await global.connect(logger, applicationName: "couplet uncouple")
        if let localID {
            try await refusalsAsFailures { try await RecordActions.resolve(.uncouple, mapping: mapping, id: localID, on: db) }
            print("Uncoupled \(mapping) \(localID).")
        } else {
            let job = try await JobQueue.enqueue(SyncJobs.uncoupleJob(for: mapping), on: db)
            print("Enqueued job \(job) to uncouple every record of \(mapping).")
        }
    }
}

/// `couplet match MAPPING`: couple uncoupled records to their counterparts by the match fields, as a job.
struct MatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "match",
        abstract: "Couple a mapping's uncoupled records by their match fields (a sync.match job).",
        discussion: """
            Fields with a match priority are compared, lowest priority first (case-insensitively unless \
            the field says otherwise). A single candidate is coupled and takes the record's values; several \
            candidates, or one coupled already, fail the record with the reason in couplet.sync_errors.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The mapping, e.g. CUSTOMER.")
    var mapping: String

    @Flag(help: "Create the counterparts of records that match nothing.")
    var create = false

    @Flag(help: "Follow the run until it ends.")
    var wait = false

    func run() async throws {
        let logger = try global.makeLogger("couplet.match")
        let db = try await global.connect(logger, applicationName: "couplet match")
        let job = try await JobQueue.enqueue(SyncJobs.matchJob(for: mapping, create: create), on: db)
        print("Enqueued match-based coupling of \(mapping) as job \(job).")
        guard wait else { return }
        guard try await SyncProgress(mapping: mapping).follow(job, on: db) == "completed" else { throw ExitCode.failure }
    }
}
