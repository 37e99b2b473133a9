/// Why a job attempt did not complete, in words a person can act on.
///
/// One struct with an extensible `Code`, like swift-jobs' `JobQueueError`, rather than a growing enum.
public struct JobError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// No handler for the job's kind is registered on this worker.
        public static let unknownKind = Code("unknown_kind")
        /// The job's arguments do not decode into the handler's `Arguments`.
        public static let undecodableArguments = Code("undecodable_arguments")
        /// The handler threw.
        public static let handlerFailed = Code("handler_failed")
        /// The handler ran past the job's timeout and was cancelled.
        public static let timedOut = Code("timeout")
        /// A person cancelled the running job.
        public static let cancelled = Code("cancelled")
        /// The worker stopped before the job finished; the job went back to the queue.
        public static let released = Code("released")

        /// The code's name as stored in the job's errors.
        public var description: String { name }
    }

    /// The kind of failure.
    public var code: Code
    /// What happened.
    public var message: String
    /// Whether another attempt could succeed.
    public var isRetryable: Bool

    /// Creates an error.
    public init(_ code: Code, _ message: String, isRetryable: Bool) {
        self.code = code
        self.message = message
        self.isRetryable = isRetryable
    }

    public var description: String { "\(code): \(message)" }
}
