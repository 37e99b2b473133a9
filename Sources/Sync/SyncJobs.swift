import Foundation
import Queue

/// The sync job kinds, registered with the queue: `sync.full` and `sync.delta`, `{"mapping": "CUSTOMER"}`.
///
/// Enqueue them with the mapping as the concurrency key (`SyncJobs.job(for:kind:)` does), so one
/// mapping never syncs twice at once. Both are idempotent: a rerun after a crash finds the
/// couplings written so far and continues from the last watermark.
public enum SyncJobs {
    /// The arguments of a sync job.
    public struct Arguments: Codable, Sendable {
        /// The mapping to synchronize.
        public var mapping: String
        /// For `sync.match`: create the records no match was found for.
        public var create: Bool?
        /// For `sync.records`: the records to synchronize.
        public var records: ChosenRecords?

        /// Arguments for `mapping`.
        public init(mapping: String, create: Bool? = nil, records: ChosenRecords? = nil) {
            self.mapping = mapping
            self.create = create
            self.records = records
        }
    }

    /// Registers the sync kinds, reading endpoints' connection strings from `endpoints`.
    public static func register(in registry: inout JobRegistry, endpoints: EndpointDirectory = EndpointDirectory()) {
        registry.register(SyncHandler(kind: .full, endpoints: endpoints))
        registry.register(DeltaHandler(endpoints: endpoints))
        registry.register(UncoupleHandler())
        registry.register(MatchHandler(endpoints: endpoints))
        registry.register(RecordsHandler(endpoints: endpoints))
    }

    /// A job that removes every coupling of `mapping`, one at a time per mapping like its syncs.
    public static func uncoupleJob(for mapping: String) throws -> NewJob {
        var job = try NewJob(kind: UncoupleHandler.kind, arguments: Arguments(mapping: mapping))
        job.queue = "sync"
        job.concurrencyKey = "sync:\(mapping)"
        job.maxAttempts = 2
        return job
    }

    /// A `sync.match` job: couples `mapping`'s uncoupled records by its match fields (and with
    /// `create`, creates the counterparts of those without a match).
    public static func matchJob(for mapping: String, create: Bool) throws -> NewJob {
        var job = try NewJob(kind: MatchHandler.kind, arguments: Arguments(mapping: mapping, create: create))
        job.queue = "sync"
        job.concurrencyKey = "sync:\(mapping)"
        job.maxAttempts = 2
        return job
    }

    /// A `sync.records` job: synchronizes chosen records now (Business Central's "Synchronize now" on a selection).
    public static func recordsJob(for mapping: String, records: ChosenRecords) throws -> NewJob {
        var job = try NewJob(kind: RecordsHandler.kind, arguments: Arguments(mapping: mapping, records: records))
        job.queue = "sync"
        job.concurrencyKey = "sync:\(mapping)"
        job.maxAttempts = 2
        return job
    }

    /// A job that runs `mapping`: up to 10 attempts like Business Central's sync jobs, one at a time per mapping.
    public static func job(for mapping: String, kind: SyncKind) throws -> NewJob {
        var job = try NewJob(kind: "sync.\(kind.rawValue)", arguments: Arguments(mapping: mapping))
        job.queue = "sync"
        job.concurrencyKey = "sync:\(mapping)"
        job.maxAttempts = kind == .full ? 2 : 10
        return job
    }
}

/// `sync.full`: every record of the mapping's tables, both directions the mapping syncs.
struct SyncHandler: JobHandler {
    static let kind = "sync.full"
    let kind: SyncKind
    let endpoints: EndpointDirectory
    var retryPolicy: RetryPolicy { RetryPolicy(backoff: .fixed(.seconds(30))) }

    func run(_ arguments: SyncJobs.Arguments, context: JobContext) async throws {
        try await context.database.withConnection { db in
            try await SyncEngine(coordination: db, endpoints: endpoints, logger: context.logger)
                .run(mapping: arguments.mapping, kind: kind, jobID: context.job.id)
        }
    }
}

/// `sync.delta`: the records changed since each side's watermark.
struct DeltaHandler: JobHandler {
    static let kind = "sync.delta"
    let endpoints: EndpointDirectory
    var retryPolicy: RetryPolicy { RetryPolicy(backoff: .fixed(.seconds(30))) }

    func run(_ arguments: SyncJobs.Arguments, context: JobContext) async throws {
        try await SyncHandler(kind: .delta, endpoints: endpoints).run(arguments, context: context)
    }
}

/// `sync.match`: match-based coupling of the mapping's uncoupled records.
struct MatchHandler: JobHandler {
    static let kind = "sync.match"
    let endpoints: EndpointDirectory

    func run(_ arguments: SyncJobs.Arguments, context: JobContext) async throws {
        try await context.database.withConnection { db in
            try await SyncEngine(coordination: db, endpoints: endpoints, logger: context.logger)
                .run(mapping: arguments.mapping, kind: .match, jobID: context.job.id, createUnmatched: arguments.create ?? false)
        }
    }
}

/// `sync.records`: the chosen records of one side, and their counterparts.
struct RecordsHandler: JobHandler {
    static let kind = "sync.records"
    let endpoints: EndpointDirectory

    func run(_ arguments: SyncJobs.Arguments, context: JobContext) async throws {
        guard let records = arguments.records else {
            throw JobError(.undecodableArguments, "sync.records needs \"records\": {\"side\": …, \"ids\": […]}", isRetryable: false)
        }
        try await context.database.withConnection { db in
            try await SyncEngine(coordination: db, endpoints: endpoints, logger: context.logger)
                .run(mapping: arguments.mapping, kind: .records, jobID: context.job.id, records: records)
        }
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
