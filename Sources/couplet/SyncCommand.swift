import ArgumentParser
import CommandSupport
import Foundation
import Postgres
import Queue
import Sync

/// `couplet sync`: synchronize a mapping now, or release its skipped records.
struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Synchronize a mapping now (couplet sync CUSTOMER [--full] [--wait]) or every one (--all-modified), or retry skipped records.",
        subcommands: [SyncRunCommand.self, RetrySkippedCommand.self],
        defaultSubcommand: SyncRunCommand.self)
}

/// `couplet sync [run] MAPPING`: enqueue a sync of one mapping now, and optionally follow it to the end.
struct SyncRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Synchronize a mapping now: enqueue a delta (or --full) sync job for the workers.",
        discussion: """
            The job runs on a worker of the `sync` queue, one at a time per mapping. --records syncs \
            only the records named (and their counterparts), in both directions or only --direction's, \
            through couplet.sync_records, which logs the request in couplet.record_actions. With --wait the \
            command follows the run's counters until the job ends, prints them, and exits non-zero \
            when the job failed. With --full --compare it then compares every coupled pair field by \
            field, as couplet verify does (waiting for the job first), prints the same report, and \
            exits 2 when couplet verify would: differences, orphaned couplings, pairs that cannot be \
            compared, uncoupled records that would couple by match, duplicates.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The mapping, e.g. CUSTOMER.")
    var mapping: String?

    @Flag(help: "Every enabled mapping's delta, in dependency order, in one job (Business Central's Synchronize Modified Records).")
    var allModified = false

    @Flag(help: "Every record, not only those changed since the last run.")
    var full = false

    @Option(help: "With --full: records per key-range chunk that workers share (default \(SyncJobs.defaultChunkRows)).")
    var chunkRows: Int?

    @Option(help: "Only these records (comma-separated keys), e.g. --records 10000,20000.")
    var records: String?

    @Option(help: "The side --records names: local (ERP) or integration (CRM).")
    var side: SyncSide = .local

    @Option(help: ArgumentHelp(
        "With --records: only the pass in this direction, to_integration or from_integration (default: both, the one from --side first).",
        valueName: "direction"))
    var direction: SyncDirection?

    @Flag(help: "With --full: afterwards compare every coupled pair field by field (couplet verify); implies --wait.")
    var compare = false

    func validate() throws {
        guard (mapping == nil) == allModified else { throw ValidationError("name one mapping, or pass --all-modified for every one") }
        guard !allModified || (!full && records == nil) else { throw ValidationError("--all-modified runs deltas: no --full or --records") }
        guard !compare || full else { throw ValidationError("--compare goes with --full") }
        guard records == nil || !full else { throw ValidationError("--records and --full do not go together") }
        guard direction == nil || records != nil else { throw ValidationError("--direction goes with --records") }
        guard chunkRows == nil || full else { throw ValidationError("--chunk-rows goes with --full") }
        guard (chunkRows ?? 1) >= 1 else { throw ValidationError("--chunk-rows must be at least 1") }
    }

    @Flag(help: "Follow the run until it ends.")
    var wait = false

    func run() async throws {
        let logger = try global.makeLogger("couplet.sync")
        let db = try await global.connect(logger, applicationName: "couplet sync")
        guard let mapping else {
            let job = try await JobQueue.enqueue(SyncJobs.allModifiedJob(), on: db)
            print("Enqueued the delta sync of every enabled mapping, in dependency order, as job \(job).")
            guard wait else { return }
            guard try await SyncProgress(mapping: "all mappings").follow(job, on: db) == "completed" else { throw ExitCode.failure }
            return
        }
        let job = try await enqueue(mapping, on: db)
        guard wait || compare else { return }
        guard try await SyncProgress(mapping: mapping).follow(job, on: db) == "completed" else { throw ExitCode.failure }
        guard compare else { return }
        let report = try await MappingVerifier(coordination: db, logger: logger).verify(mapping: mapping)
        print(VerifyText(report: report).text)
        if report.problemsRemain { throw ExitCode(VerifyText.problemsStatus) }
    }
}

extension SyncRunCommand {
    /// Enqueues the job (a records sync through `couplet.sync_records`, which logs it) and says so; returns its id.
    private func enqueue(_ mapping: String, on db: PostgresConnection) async throws -> Int64 {
        if let records {
            let ids = records.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let logged = try await refusalsAsFailures {
                try await RecordActions.sync(mapping: mapping, side: side, ids: ids, direction: direction, on: db)
            }
            guard let job = logged.first?.jobID else { throw CommandFailure(description: "\(mapping): no records sync was enqueued") }
            print("Enqueued records sync of \(mapping) (\(direction?.storedName ?? "both directions")) as job \(job).")
            return job
        }
        let job: Int64
        do {
            job = try await SyncJobs.enqueue(mapping, kind: full ? .full : .delta, chunkRows: chunkRows, on: db)
        } catch SyncRequestRefusal.noSuchMapping {
            throw ValidationError("there is no mapping \"\(mapping)\" (couplet mappings list shows them)")
        } catch SyncRequestRefusal.disabled {
            throw ValidationError("\(mapping) is disabled (enabled: false in its mappings file); its jobs do nothing")
        }
        print("Enqueued \(full ? "full" : "delta") sync of \(mapping) as job \(job).")
        return job
    }
}

/// `couplet sync retry-skipped MAPPING`: records skipped after failing the same way twice are retried by the next run.
struct RetrySkippedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry-skipped",
        abstract: "Release a mapping's skipped records so that its next run retries them first.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The mapping, e.g. CUSTOMER.")
    var mapping: String

    func run() async throws {
        let logger = try global.makeLogger("couplet.sync")
        let db = try await global.connect(logger, applicationName: "couplet sync")
        let released = try await CouplingStore.retrySkipped(mapping: mapping, on: db)
        print("Released \(released) skipped record(s) of \(mapping); the next run retries them first (couplet sync \(mapping)).")
    }
}

/// Follows a sync job's runs, printing their counters as they change.
struct SyncProgress {
    let mapping: String

    /// Prints the run's counters as they change until the job ends; returns its final state.
    /// Fails at once when no live worker claims the job's queue, since nothing would ever run it.
    func follow(_ job: Int64, on db: PostgresConnection) async throws -> String {
        try await requireLiveWorker(for: job, on: db)
        let terminal = isatty(STDOUT_FILENO) == 1
        var shown = ""
        while true {
            guard let (state, lastError) = try await JobList.state(of: job, on: db) else {
                throw CommandFailure(description: "job \(job) does not exist")
            }
            let progress = try await progressLine(job, on: db) + "  [\(state)]"
            if progress != shown {
                let line = terminal ? "\r\u{1B}[K" + progress : progress + "\n"
                FileHandle.standardOutput.write(Data(line.utf8))
                shown = progress
            }
            if ["completed", "failed", "cancelled"].contains(state) {
                if terminal { print() }
                if state != "completed", let lastError { print("The job \(state): \(lastError)") }
                return state
            }
            try await Task.sleep(for: .milliseconds(250))
        }
    }

    /// Throws, saying how to start one, when no live worker that is not stopping claims the job's queue
    /// (a worker's empty `queues` claims every queue) while the job waits. A worker started a moment
    /// before registers within `registrationGrace`, so the check looks again until then.
    private func requireLiveWorker(for job: Int64, on db: PostgresConnection) async throws {
        let deadline = ContinuousClock.now + Self.registrationGrace
        while true {
            guard let (queue, served) = try await QueueStatus.isServed(job: job, on: db) else {
                throw CommandFailure(description: "job \(job) does not exist")
            }
            if served { return }
            guard ContinuousClock.now < deadline else {
                throw CommandFailure(description: """
                    no live worker claims queue \(queue), so job \(job) waits there until one does: start a worker \
                    (couplet worker claims every queue, couplet worker --queues \(queue) this one), then follow it with couplet jobs show \(job)
                    """)
            }
            try await Task.sleep(for: .milliseconds(250))
        }
    }

    /// How long a worker started together with the command may take to register before `--wait` gives up on it.
    static let registrationGrace: Duration = .seconds(3)

    /// The counters of the job's runs so far, one pass after the other (summed up when the job
    /// runs several mappings), or that it waits for a worker.
    private func progressLine(_ job: Int64, on db: PostgresConnection) async throws -> String {
        let runs = try await SyncRunLog.passes(ofJob: job, on: db)
        guard !runs.isEmpty else { return "\(mapping): waiting for a worker" }
        let mappings = Set(runs.map(\.mapping))
        guard mappings.count == 1 else {
            let total = runs.reduce(into: [0, 0, 0, 0, 0, 0]) { total, run in
                for (index, count) in Self.values(run).enumerated() { total[index] += count }
            }
            return "\(mappings.count) mappings, \(runs.count) passes so far: \(counts(total))"
        }
        return runs.map { run in
            let arrow = run.direction == "to_integration" ? "→ integration" : "← integration"
            return "\(run.mapping) \(arrow): " + counts(Self.values(run))
        }.joined(separator: "; ")
    }

    /// A pass's inserted, modified, unchanged, skipped, failed and uncoupled counts, in that order.
    private static func values(_ run: SyncPassProgress) -> [Int] {
        [run.inserted, run.modified, run.unchanged, run.skipped, run.failed, run.uncoupled]
    }

    /// Inserted, modified, unchanged, skipped, failed and uncoupled counts in words.
    private func counts(_ values: [Int]) -> String {
        zip(values, ["inserted", "modified", "unchanged", "skipped", "failed", "uncoupled"]).map { "\($0) \($1)" }.joined(separator: ", ")
    }
}
