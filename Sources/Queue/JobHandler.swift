import Foundation
import Logging
import Postgres
import Synchronization

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
    /// What the handler reported besides returning or throwing.
    let report = AttemptReport()

    /// Says that this attempt found nothing to do: the job's `result` becomes `{"idle": true}` when
    /// it completes, and a schedule with an inactivity timeout holds its next ticks until woken.
    public func reportIdle() {
        report.markIdle()
    }
}

/// What a handler reported about its attempt besides returning or throwing.
final class AttemptReport: Sendable {
    private let idle = Mutex(false)

    /// The attempt found nothing to do.
    func markIdle() {
        idle.withLock { $0 = true }
    }

    /// Whether the handler said it found nothing to do.
    var isIdle: Bool { idle.withLock { $0 } }
}

/// A handler that can tell cheaply, without running, whether a job would find anything to do.
/// A schedule on hold after an idle run (its inactivity timeout) is woken as soon as the probe of
/// its job finds work (`couplet worker` probes the held schedules of the kinds it runs).
public protocol WorkProbingJobHandler: JobHandler {
    /// Whether a job with these arguments would find something to do now.
    func hasWork(_ arguments: Arguments, context: ProbeContext) async throws -> Bool
}

/// What a probe may use: a logger and the coordination database.
public struct ProbeContext: Sendable {
    /// A logger for what the probe finds.
    public let logger: Logger
    /// Connections to the coordination database.
    public let database: PostgresConnectionPool

    /// A context with these.
    public init(logger: Logger, database: PostgresConnectionPool) {
        self.logger = logger
        self.database = database
    }
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
    /// Asks a handler's probe whether a job with these arguments (JSON text) would find work.
    typealias Probe = @Sendable (String, ProbeContext) async throws -> Bool

    struct Entry: Sendable {
        var run: Runner
        var retryPolicy: RetryPolicy
        var probe: Probe?
    }

    private var entries: [String: Entry] = [:]

    /// An empty registry.
    public init() {}

    /// Registers `handler` for its kind, replacing any handler registered for it before.
    public mutating func register<Handler: JobHandler>(_ handler: Handler) {
        entries[Handler.kind] = Entry(
            run: { job, context in try await handler.run(try Self.decode(job.arguments, for: Handler.self), context: context) },
            retryPolicy: handler.retryPolicy)
    }

    /// Registers `handler` for its kind with its probe, replacing any handler registered for it before.
    public mutating func register<Handler: WorkProbingJobHandler>(_ handler: Handler) {
        entries[Handler.kind] = Entry(
            run: { job, context in try await handler.run(try Self.decode(job.arguments, for: Handler.self), context: context) },
            retryPolicy: handler.retryPolicy,
            probe: { arguments, context in try await handler.hasWork(try Self.decode(arguments, for: Handler.self), context: context) })
    }

    /// Whether a job of `kind` with `arguments` (JSON text) would find work now, as its handler's
    /// probe says; nil when no handler of the kind is registered or it has no probe.
    public func hasWork(kind: String, arguments: String, context: ProbeContext) async throws -> Bool? {
        guard let probe = entries[kind]?.probe else { return nil }
        return try await probe(arguments, context)
    }

    /// Whether a handler of `kind` is registered.
    public func handles(_ kind: String) -> Bool { entries[kind] != nil }

    /// The kinds registered with a probe, sorted.
    public var probingKinds: [String] { entries.filter { $0.value.probe != nil }.keys.sorted() }

    /// A job's arguments decoded for `Handler`; a job error saying what does not fit when they do not.
    private static func decode<Handler: JobHandler>(_ json: String, for handler: Handler.Type) throws -> Handler.Arguments {
        do {
            return try PostgresJSON<Handler.Arguments>.decoded(from: json)
        } catch {
            throw JobError(
                .undecodableArguments, "the arguments \(json.prefix(200)) do not fit \(Handler.kind): \(Self.explain(error))",
                isRetryable: false)
        }
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
