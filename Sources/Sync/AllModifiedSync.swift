import Foundation
import Postgres
import Queue

/// `sync.all-modified`: Business Central's "Synchronize Modified Records" — every enabled
/// mapping's delta, one after the other in dependency order, in one job (`couplet sync
/// --all-modified`). A mapping that fails does not stop the others; the job then fails naming
/// each, and its next attempt runs every delta again (a delta that finds nothing costs little).
struct AllModifiedSyncHandler: JobHandler {
    /// The job takes no arguments.
    struct Arguments: Codable, Sendable {}

    static let kind = "sync.all-modified"
    let endpoints: EndpointDirectory

    /// A failed attempt runs again after 30 s, as the single-mapping sync jobs do.
    var retryPolicy: RetryPolicy { RetryPolicy(backoff: .fixed(.seconds(30))) }

    func run(_ arguments: Arguments, context: JobContext) async throws {
        try await context.database.withConnection { db in
            let engine = SyncEngine(coordination: db, endpoints: endpoints, logger: context.logger)
            var failures: [String] = []
            for mapping in try await Self.enabledMappings(on: db) {
                do {
                    try await engine.run(mapping: mapping, kind: .delta, jobID: context.job.id)
                } catch where !Task.isCancelled {
                    context.logger.error("delta failed", metadata: ["mapping": "\(mapping)", "error": "\(error)"])
                    failures.append("\(mapping): \(error)")
                }
                try Task.checkCancellation()
            }
            guard failures.isEmpty else {
                throw JobError(.handlerFailed, "\(failures.count) mapping(s) failed: " + failures.joined(separator: "; "), isRetryable: true)
            }
        }
    }

    /// The enabled mappings, each after those it depends on.
    static func enabledMappings(on db: PostgresConnection) async throws -> [String] {
        let rows = try await db.query("SELECT name, depends_on FROM couplet.table_mappings WHERE enabled", name: "enabled mappings")
        let dependsOn = Dictionary(uniqueKeysWithValues: try rows.map { try $0.decode((String, [String]).self) })
        return SyncReview.dependencyOrder(dependsOn)
    }
}

extension SyncJobs {
    /// A `sync.all-modified` job: every enabled mapping's delta in dependency order. It holds no
    /// mapping's concurrency key (the engine's per-mapping lock keeps two runs of one mapping
    /// apart) but its own, so two of them never run at once.
    public static func allModifiedJob() throws -> NewJob {
        var job = try NewJob(kind: AllModifiedSyncHandler.kind, arguments: AllModifiedSyncHandler.Arguments())
        job.queue = "sync"
        job.concurrencyKey = "sync:all-modified"
        job.maxAttempts = 10
        return job
    }
}
