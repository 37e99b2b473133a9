import Foundation
import Postgres

/// Where a job stands; the same text is in `couplet.jobs.state`.
public enum JobState: String, Sendable, Codable, CaseIterable {
    /// Waits for its `run_at`.
    case scheduled
    /// Ready to be claimed.
    case available
    /// Claimed by a worker, which holds its lease.
    case running
    /// Failed an attempt and waits for its next one.
    case retryable
    /// Finished successfully.
    case completed
    /// Failed its last attempt, or could never run (unknown kind, unreadable arguments).
    case failed
    /// Cancelled by a person or expired before it started.
    case cancelled
    /// Held by a person; runs only after `resume_job`.
    case onHold = "on_hold"
}

/// A job to enqueue: what to run (`kind` and readable JSON `args`), where and when.
public struct NewJob: Sendable {
    /// The handler's kind, e.g. `sync.delta`.
    public var kind: String
    /// The arguments as JSON text (an object); decoded by the handler into its `Arguments`.
    public var arguments: String
    /// The queue; workers claim from the queues they are started with.
    public var queue: String = "default"
    /// 0 runs first, 9 last.
    public var priority: Int = 5
    /// Not before this instant; nil means now.
    public var runAt: Date?
    /// Attempts before the job fails for good.
    public var maxAttempts: Int = 5
    /// While a job with this key is pending or running, enqueueing another returns that job instead.
    public var uniqueKey: String?
    /// Jobs with the same key run one at a time.
    public var concurrencyKey: String?
    /// The handler is cancelled after this long and the attempt counts as failed.
    public var timeout: Duration?
    /// A job not started by then is not run.
    public var expiresAt: Date?
    /// The schedule that enqueued it, if any.
    public var scheduleName: String?

    /// A job whose arguments are encoded from a Codable value.
    public init<Arguments: Codable & Sendable>(kind: String, arguments: Arguments) throws {
        self.kind = kind
        self.arguments = try PostgresJSON(arguments).json
    }

    /// A job whose arguments are JSON text already.
    public init(kind: String, argumentsJSON: String = "{}") {
        self.kind = kind
        self.arguments = argumentsJSON
    }
}

/// A job a worker has claimed for one attempt.
public struct ClaimedJob: Sendable, Identifiable {
    /// The job's id.
    public let id: Int64
    /// Its kind.
    public let kind: String
    /// Its queue.
    public let queue: String
    /// Its arguments, as JSON text.
    public let arguments: String
    /// This attempt's number, from 1; the fence for writing its outcome.
    public let attempt: Int
    /// Attempts allowed in all.
    public let maxAttempts: Int
    /// The job's own time limit, if it has one.
    public let timeout: Duration?
    /// When the job was enqueued.
    public let createdAt: Date
    /// Its concurrency key, if any.
    public let concurrencyKey: String?
    /// How long after a failed attempt the next runs (Business Central's rerun delay), overriding
    /// the kind's retry policy; nil: the policy decides.
    public var retryDelay: Duration? = nil
    /// How long the job had been due when this attempt claimed it.
    public var queueWait: Duration = .zero
}

extension Duration {
    /// The duration in seconds, as a Double.
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
