import Foundation
import Logging
import Postgres

/// Runs the jobs of one kind. Delivery is at least once: a handler must be idempotent.
public protocol JobHandler: Sendable {
    /// The arguments, decoded from the job's JSON `args`.
    associatedtype Arguments: Codable & Sendable

    /// The kind this handler runs, e.g. `sync.delta`.
    static var kind: String { get }

    /// When a failed attempt runs again, and how many attempts there are; defaults to `.standard`.
    var retryPolicy: RetryPolicy { get }

    /// Runs one attempt. Throwing fails the attempt; cancellation means a timeout, a person's
    /// cancel or the worker shutting down, and the handler should stop promptly.
    func run(_ arguments: Arguments, context: JobContext) async throws
}

extension JobHandler {
    public var retryPolicy: RetryPolicy { .standard }
}

/// What a running handler may use: its job, a logger labelled with the job, and the database.
public struct JobContext: Sendable {
    /// The job being run.
    public let job: ClaimedJob
    /// The worker process running it.
    public let workerID: UUID
    /// A logger carrying the job's id, kind and attempt.
    public let logger: Logger
    /// Connections to the coordination database.
    public let database: PostgresConnectionPool
}

/// When a failed attempt runs again: Business Central's "rerun delay" and "maximum attempts".
public struct RetryPolicy: Sendable, Hashable {
    /// How the delay grows from one attempt to the next.
    public enum Backoff: Sendable, Hashable {
        /// `base × 2^(attempt−1)`, capped at `maximum`.
        case exponential(base: Duration, maximum: Duration)
        /// The same delay every time (Business Central's rerun delay).
        case fixed(Duration)
    }

    /// The delay curve.
    public var backoff: Backoff
    /// Overrides the job's own `max_attempts` when set.
    public var maxAttempts: Int?
    /// Each delay varies at random by up to this fraction, so retries of many jobs spread out.
    public var jitter: Double

    /// Describes a policy.
    public init(backoff: Backoff, maxAttempts: Int? = nil, jitter: Double = 0.1) {
        self.backoff = backoff
        self.maxAttempts = maxAttempts
        self.jitter = jitter
    }

    /// 2 s, 4 s, 8 s … up to an hour, ±10 %, with the job's own maximum attempts.
    public static let standard = RetryPolicy(backoff: .exponential(base: .seconds(2), maximum: .seconds(3600)))

    /// The delay before the attempt after `attempt` (1-based), with jitter from `random`.
    public func delay(after attempt: Int, random: inout some RandomNumberGenerator) -> Duration {
        let nominal: Double
        switch backoff {
        case .fixed(let delay):
            nominal = delay.seconds
        case .exponential(let base, let maximum):
            nominal = min(maximum.seconds, base.seconds * pow(2, Double(min(max(attempt - 1, 0), 60))))
        }
        let spread = jitter > 0 ? Double.random(in: -jitter...jitter, using: &random) : 0
        return .milliseconds(Int64((nominal * (1 + spread) * 1000).rounded()))
    }
}

/// The job kinds a worker can run.
public struct JobRegistry: Sendable {
    /// Runs one attempt of a job: decodes its arguments and calls the handler.
    typealias Runner = @Sendable (ClaimedJob, JobContext) async throws -> Void

    struct Entry: Sendable {
        var run: Runner
        var retryPolicy: RetryPolicy
    }

    private var entries: [String: Entry] = [:]

    /// An empty registry.
    public init() {}

    /// Registers `handler` for its kind, replacing any handler registered for it before.
    public mutating func register<Handler: JobHandler>(_ handler: Handler) {
        entries[Handler.kind] = Entry(
            run: { job, context in
                let arguments: Handler.Arguments
                do {
                    arguments = try PostgresJSON<Handler.Arguments>.decoded(from: job.arguments)
                } catch {
                    throw JobError(
                        .undecodableArguments, "the arguments \(job.arguments.prefix(200)) do not fit \(Handler.kind): \(Self.explain(error))",
                        isRetryable: false)
                }
                try await handler.run(arguments, context: context)
            },
            retryPolicy: handler.retryPolicy)
    }

    /// A decoding failure in words: what is wrong and at which key.
    static func explain(_ error: Error) -> String {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error as? DecodingError {
        case .keyNotFound(let key, let context)?:
            return "missing \"\(path(context.codingPath + [key]))\""
        case .typeMismatch(let type, let context)?, .valueNotFound(let type, let context)?:
            return "\"\(path(context.codingPath))\" should be \(type)"
        case .dataCorrupted(let context)?:
            return context.codingPath.isEmpty ? "not valid JSON" : "\"\(path(context.codingPath))\": \(context.debugDescription)"
        default:
            return "\(error)"
        }
    }

    /// The kinds registered, sorted.
    public var kinds: [String] { entries.keys.sorted() }

    subscript(kind: String) -> Entry? { entries[kind] }
}
