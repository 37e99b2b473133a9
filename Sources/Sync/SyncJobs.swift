import Foundation
import Postgres
import Queue

/// The sync job kinds, registered with the queue: `sync.full`, `sync.delta`, `sync.records`,
/// `sync.match` and `sync.uncouple`, each with `{"mapping": "CUSTOMER", …}`, and
/// `sync.full-chunks`, the helpers a big full sync enqueues to share its key-range chunks.
///
/// The jobs made here run on queue `sync` with the mapping as their concurrency key, so one
/// mapping never syncs twice at once (helpers run beside the full sync that enqueued them).
/// All are idempotent: a rerun after a crash finds the couplings written so far, and inserts find
/// the records an earlier attempt wrote.
public enum SyncJobs {
    /// The arguments of a sync job.
    public struct Arguments: Codable, Sendable {
        /// The mapping to synchronize.
        public var mapping: String
        /// For `sync.match`: create the records no match was found for.
        public var create: Bool?
        /// For `sync.records`: the records to synchronize.
        public var records: ChosenRecords?
        /// For `sync.records`: only the pass in this direction (`"to_integration"`,
        /// `"from_integration"`); absent, every pass of the mapping, the one from the records' side first.
        public var direction: SyncDirection?
        /// For `sync.full`: records per key-range chunk (default 50,000).
        public var chunkRows: Int?
        /// For `sync.full-chunks`: the full run to help.
        public var run: Int64?
        /// For `sync.full`: part of the full synchronization review, which it moves on when it ends.
        public var review: Bool?

        /// Arguments for `mapping`.
        public init(
            mapping: String, create: Bool? = nil, records: ChosenRecords? = nil, direction: SyncDirection? = nil, chunkRows: Int? = nil,
            run: Int64? = nil, review: Bool? = nil
        ) {
            self.mapping = mapping
            self.create = create
            self.records = records
            self.direction = direction
            self.chunkRows = chunkRows
            self.run = run
            self.review = review
        }

        enum CodingKeys: String, CodingKey {
            case mapping, create, records, direction, chunkRows = "chunk_rows", run, review
        }
    }

    /// Records per key-range chunk of a full sync, unless its job says otherwise.
    public static let defaultChunkRows = 50_000
    /// Helper jobs a full sync enqueues at most to share its chunks.
    public static let maximumHelpers = 7

    /// Registers the sync kinds, reading endpoints' connection strings from `endpoints`.
    public static func register(in registry: inout JobRegistry, endpoints: EndpointDirectory = EndpointDirectory()) {
        registry.register(FullSyncHandler(endpoints: endpoints))
        registry.register(DeltaSyncHandler(endpoints: endpoints))
        registry.register(RecordsSyncHandler(endpoints: endpoints))
        registry.register(MatchHandler(endpoints: endpoints))
        registry.register(UncoupleHandler())
        registry.register(FullSyncChunksHandler(endpoints: endpoints))
        registry.register(AllModifiedSyncHandler(endpoints: endpoints))
    }

    /// A full or delta run of `mapping`: a delta retries up to 10 times like Business Central's sync jobs.
    /// A full run syncs its records in key-range chunks of `chunkRows`, shared with helper jobs.
    /// A review's full sync moves the review on when it ends.
    public static func job(for mapping: String, kind: SyncKind, chunkRows: Int? = nil, review: Bool = false) throws -> NewJob {
        let arguments = Arguments(mapping: mapping, chunkRows: chunkRows, review: review ? true : nil)
        return try job("sync.\(kind.rawValue)", arguments, maxAttempts: kind == .delta ? 10 : 2)
    }

    /// Enqueues a full or delta run of `mapping` now, as `couplet sync` does, and returns the job's id;
    /// refuses a mapping that does not exist or is disabled (its jobs would do nothing).
    public static func enqueue(
        _ mapping: String, kind: SyncKind, chunkRows: Int? = nil, on db: PostgresConnection
    ) async throws -> Int64 {
        let enabled = try await db.query("SELECT enabled FROM couplet.table_mappings WHERE name = \(mapping)", name: "mapping enabled")
            .first.map { try $0.decode(Bool.self, at: 0) }
        guard let enabled else { throw SyncRequestRefusal.noSuchMapping(mapping) }
        guard enabled else { throw SyncRequestRefusal.disabled(mapping) }
        return try await JobQueue.enqueue(job(for: mapping, kind: kind, chunkRows: chunkRows), on: db)
    }

    /// A `sync.full-chunks` job: syncs pending chunks of full run `run` beside the job that started it.
    /// It has no concurrency key (the full sync holds the mapping's) and one attempt: a chunk it
    /// leaves unfinished goes back to the run.
    static func chunksJob(for mapping: String, run: Int64) throws -> NewJob {
        var job = try job(FullSyncChunksHandler.kind, Arguments(mapping: mapping, run: run), maxAttempts: 1)
        job.concurrencyKey = nil
        return job
    }

    /// A `sync.match` job: couples `mapping`'s uncoupled records by its match fields (and with
    /// `create`, creates the counterparts of those without a match).
    public static func matchJob(for mapping: String, create: Bool) throws -> NewJob {
        try job(MatchHandler.kind, Arguments(mapping: mapping, create: create), maxAttempts: 2)
    }

    /// A `sync.uncouple` job: removes every coupling of `mapping`.
    public static func uncoupleJob(for mapping: String) throws -> NewJob {
        try job(UncoupleHandler.kind, Arguments(mapping: mapping), maxAttempts: 2)
    }

    private static func job(_ kind: String, _ arguments: Arguments, maxAttempts: Int) throws -> NewJob {
        var job = try NewJob(kind: kind, arguments: arguments)
        job.queue = "sync"
        job.concurrencyKey = "sync:\(arguments.mapping)"
        job.maxAttempts = maxAttempts
        return job
    }
}

/// A handler that runs the sync engine with a coordination connection from the worker's pool.
protocol SyncEngineHandler: JobHandler where Arguments == SyncJobs.Arguments {
    var endpoints: EndpointDirectory { get }
    /// Runs the engine for this kind of job; returns what each direction's pass did.
    func run(_ engine: SyncEngine, _ arguments: SyncJobs.Arguments, job: ClaimedJob) async throws -> [SyncDirection: SyncCounts]
}

extension SyncEngineHandler {
    /// A failed run is tried again after 30 s (Business Central's rerun delay).
    var retryPolicy: RetryPolicy { RetryPolicy(backoff: .fixed(.seconds(30))) }

    func run(_ arguments: SyncJobs.Arguments, context: JobContext) async throws {
        _ = try await runEngine(arguments, context: context)
    }

    /// Runs the engine for the job with a coordination connection from the worker's pool.
    func runEngine(_ arguments: SyncJobs.Arguments, context: JobContext) async throws -> [SyncDirection: SyncCounts] {
        try await context.database.withConnection { db in
            try await run(SyncEngine(coordination: db, endpoints: endpoints, logger: context.logger), arguments, job: context.job)
        }
    }
}

/// `sync.full`: every record of the mapping's tables, in each direction the mapping syncs.
struct FullSyncHandler: SyncEngineHandler {
    static let kind = "sync.full"
    let endpoints: EndpointDirectory

    /// Runs the sync; a review's full sync then moves the review on — when it succeeded, or when
    /// its last attempt failed.
    func run(_ arguments: SyncJobs.Arguments, context: JobContext) async throws {
        try await context.database.withConnection { db in
            let engine = SyncEngine(coordination: db, endpoints: endpoints, logger: context.logger)
            do {
                try await run(engine, arguments, job: context.job)
            } catch {
                if arguments.review == true, context.job.attempt >= context.job.maxAttempts {
                    try await SyncReview.finish(mapping: arguments.mapping, job: context.job.id, failure: "\(error)", on: db)
                }
                throw error
            }
            if arguments.review == true {
                try await SyncReview.finish(mapping: arguments.mapping, job: context.job.id, failure: nil, on: db)
            }
        }
    }

    func run(_ engine: SyncEngine, _ arguments: SyncJobs.Arguments, job: ClaimedJob) async throws -> [SyncDirection: SyncCounts] {
        let sharing = FullSyncSharing(
            chunkRows: arguments.chunkRows ?? SyncJobs.defaultChunkRows, helpers: SyncJobs.maximumHelpers,
            job: JobAttempt(id: job.id, attempt: job.attempt))
        return try await engine.run(mapping: arguments.mapping, kind: .full, jobID: job.id, sharing: sharing)
    }
}

/// `sync.delta`: the records changed since each side's watermark. A delta that wrote nothing and
/// failed nothing reports itself idle; its probe asks whether there is anything to retry or changed.
struct DeltaSyncHandler: SyncEngineHandler, WorkProbingJobHandler {
    static let kind = "sync.delta"
    let endpoints: EndpointDirectory

    func run(_ arguments: SyncJobs.Arguments, context: JobContext) async throws {
        if try await runEngine(arguments, context: context).values.allSatisfy(\.isIdle) { context.reportIdle() }
    }

    func run(_ engine: SyncEngine, _ arguments: SyncJobs.Arguments, job: ClaimedJob) async throws -> [SyncDirection: SyncCounts] {
        try await engine.run(mapping: arguments.mapping, kind: .delta, jobID: job.id)
    }

    func hasWork(_ arguments: SyncJobs.Arguments, context: ProbeContext) async throws -> Bool {
        try await context.database.withConnection { db in
            try await SyncEngine(coordination: db, endpoints: endpoints, logger: context.logger).hasWork(mapping: arguments.mapping)
        }
    }
}

/// `sync.records`: the chosen records of one side and their counterparts, in one direction or both.
/// People enqueue it through `couplet.sync_records` and the record-action functions (`RecordActions`).
struct RecordsSyncHandler: SyncEngineHandler {
    static let kind = "sync.records"
    let endpoints: EndpointDirectory

    func run(_ engine: SyncEngine, _ arguments: SyncJobs.Arguments, job: ClaimedJob) async throws -> [SyncDirection: SyncCounts] {
        guard let records = arguments.records else {
            throw JobError(.undecodableArguments, "sync.records needs \"records\": {\"side\": …, \"ids\": […]}", isRetryable: false)
        }
        return try await engine.run(mapping: arguments.mapping, kind: .records, jobID: job.id, records: records, direction: arguments.direction)
    }
}

/// `sync.match`: match-based coupling of the mapping's uncoupled records.
struct MatchHandler: SyncEngineHandler {
    static let kind = "sync.match"
    let endpoints: EndpointDirectory

    func run(_ engine: SyncEngine, _ arguments: SyncJobs.Arguments, job: ClaimedJob) async throws -> [SyncDirection: SyncCounts] {
        try await engine.run(mapping: arguments.mapping, kind: .match, jobID: job.id, createUnmatched: arguments.create ?? false)
    }
}

/// `sync.full-chunks`: syncs pending key-range chunks of a running full sync beside the job that started it.
struct FullSyncChunksHandler: SyncEngineHandler {
    static let kind = "sync.full-chunks"
    let endpoints: EndpointDirectory

    func run(_ engine: SyncEngine, _ arguments: SyncJobs.Arguments, job: ClaimedJob) async throws -> [SyncDirection: SyncCounts] {
        guard let run = arguments.run else {
            throw JobError(.undecodableArguments, "sync.full-chunks needs \"run\": the sync run to help", isRetryable: false)
        }
        try await engine.help(mapping: arguments.mapping, run: run, job: JobAttempt(id: job.id, attempt: job.attempt))
        return [:]  // the run's counts are the job's that started it
    }
}

/// `sync.uncouple`: removes every coupling of a mapping, 10,000 per statement (the records stay).
struct UncoupleHandler: JobHandler {
    static let kind = "sync.uncouple"

    func run(_ arguments: SyncJobs.Arguments, context: JobContext) async throws {
        try await context.database.withConnection { db in
            var removed = 0
            while case let batch = try await CouplingStore.uncouple(mapping: arguments.mapping, limit: 10_000, on: db), batch > 0 {
                removed += batch
                try Task.checkCancellation()
            }
            context.logger.info("uncoupled", metadata: ["mapping": "\(arguments.mapping)", "couplings": "\(removed)"])
        }
    }
}

/// A direction in job arguments as stored elsewhere: `"to_integration"` or `"from_integration"`.
extension SyncDirection: Codable {
    /// Reads `to_integration` or `from_integration`.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let direction = SyncDirection(storedName: text) else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath, debugDescription: "a direction is to_integration or from_integration, not \(text)"))
        }
        self = direction
    }

    /// Writes `to_integration` or `from_integration`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(storedName)
    }
}

/// Why a sync of a mapping was not enqueued.
public enum SyncRequestRefusal: Error, Sendable, Equatable {
    /// No mapping has this name.
    case noSuchMapping(String)
    /// The mapping is disabled (`enabled: false` in its mappings file).
    case disabled(String)
}
