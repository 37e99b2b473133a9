import Metrics
import Queue

/// The request limits of one endpoint: a number of requests per time window and a number of concurrent requests.
public struct ServiceProtectionLimits: Sendable, Equatable {
    /// The most requests sent in any window of `window`.
    public var requestsPerWindow: Int
    /// The window of `requestsPerWindow`.
    public var window: Duration
    /// The most requests in flight at once.
    public var maximumConcurrentRequests: Int
    /// The longest pause a `Retry-After` may impose; a longer one is cut to this.
    public var maximumPause: Duration

    /// Creates limits (each count at least 1).
    public init(requestsPerWindow: Int, window: Duration, maximumConcurrentRequests: Int, maximumPause: Duration = .seconds(300)) {
        self.requestsPerWindow = max(1, requestsPerWindow)
        self.window = window > .zero ? window : .seconds(1)
        self.maximumConcurrentRequests = max(1, maximumConcurrentRequests)
        self.maximumPause = maximumPause
    }

    /// Dataverse's service protection API limits per user: 6,000 requests per 5 minutes, 52 concurrent requests.
    public static let dataverse = ServiceProtectionLimits(requestsPerWindow: 6_000, window: .seconds(300), maximumConcurrentRequests: 52)
    /// Business Central's OData limits per user: 6,000 requests per 5 minutes, 5 concurrent requests.
    public static let businessCentral = ServiceProtectionLimits(requestsPerWindow: 6_000, window: .seconds(300), maximumConcurrentRequests: 5)
}

/// What `ServiceProtection` has done so far, for `couplet status` and metrics.
public struct ServiceProtectionStatistics: Sendable, Equatable {
    /// The time requests spent waiting for a permit (window, concurrency, pause), summed over requests.
    public var totalWaited: Duration
    /// The `429 Too Many Requests` answers seen.
    public var throttledResponses: Int
    /// Whether the endpoint is paused by a `Retry-After` right now.
    public var isPaused: Bool
    /// The requests in flight now.
    public var inFlight: Int
    /// The requests waiting for a permit now.
    public var waiting: Int
}

/// Keeps one endpoint within its service protection limits: a token bucket in which each request takes a token that
/// returns one window after it was taken (so no window ever sees more than `requestsPerWindow` requests), a cap on
/// concurrent requests, and a pause of the whole endpoint after a `429` until its `Retry-After` has passed.
public actor ServiceProtection {
    /// The endpoint's name.
    public nonisolated let endpoint: String
    /// The limits kept.
    public nonisolated let limits: ServiceProtectionLimits
    private let clock = ContinuousClock()
    /// When each token in use was taken, oldest first; at most `requestsPerWindow` entries.
    private var takenAt: [ContinuousClock.Instant] = []
    private var takenStart = 0
    private var inFlight = 0
    private var slotWaiters: [(id: Int, continuation: CheckedContinuation<Void, any Error>)] = []
    private var nextWaiterID = 0
    private var waitingCount = 0
    private var pausedUntil: ContinuousClock.Instant?
    private var totalWaited: Duration = .zero
    private var throttledResponses = 0

    /// Creates the protection of endpoint `endpoint`.
    public init(endpoint: String, limits: ServiceProtectionLimits) {
        self.endpoint = endpoint
        self.limits = limits
    }

    /// The statistics now.
    public var statistics: ServiceProtectionStatistics {
        ServiceProtectionStatistics(
            totalWaited: totalWaited, throttledResponses: throttledResponses, isPaused: isPaused,
            inFlight: inFlight, waiting: waitingCount
        )
    }

    /// Whether a `Retry-After` pauses the endpoint right now.
    public var isPaused: Bool {
        guard let pausedUntil else { return false }
        return pausedUntil > clock.now
    }

    /// Waits until a request may go: no pause in force, a concurrency slot free and a token in the bucket. Every
    /// `acquire` must be followed by one `release`.
    ///
    /// - Throws: `CancellationError` when the task is cancelled while waiting (no permit is then held).
    public func acquire() async throws {
        let start = clock.now
        waitingCount += 1
        defer {
            waitingCount -= 1
            let waited = clock.now - start
            totalWaited += waited
            FloatingPointCounter(label: "couplet_connector_wait_seconds_total", dimensions: [("endpoint", endpoint)])
                .increment(by: waited.seconds)
        }
        try await takeSlot()
        do {
            try await waitForPauseAndToken()
        } catch {
            release()
            throw error
        }
    }

    /// Gives back the concurrency slot of a finished request.
    public func release() {
        if let waiter = slotWaiters.first {
            slotWaiters.removeFirst()
            waiter.continuation.resume()
        } else {
            inFlight = max(0, inFlight - 1)
        }
    }

    /// Records a `429` and pauses the endpoint for `delay` (cut to `maximumPause`); a pause already longer stays.
    public func throttled(retryAfter delay: Duration) {
        throttledResponses += 1
        Counter(label: "couplet_connector_throttled_total", dimensions: [("endpoint", endpoint)]).increment()
        let until = clock.now.advanced(by: min(max(delay, .zero), limits.maximumPause))
        if let pausedUntil, pausedUntil >= until { return }
        pausedUntil = until
    }

    private func takeSlot() async throws {
        try Task.checkCancellation()
        if inFlight < limits.maximumConcurrentRequests {
            inFlight += 1
            return
        }
        let id = nextWaiterID
        nextWaiterID += 1
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                slotWaiters.append((id, continuation))
            }
        } onCancel: {
            Task { await self.cancelWaiter(id) }
        }
    }

    /// Resumes waiter `id` with `CancellationError` if it still waits (a slot handed to it meanwhile is kept and
    /// given back by the caller's error path).
    private func cancelWaiter(_ id: Int) {
        guard let index = slotWaiters.firstIndex(where: { $0.id == id }) else { return }
        let waiter = slotWaiters.remove(at: index)
        waiter.continuation.resume(throwing: CancellationError())
    }

    private func waitForPauseAndToken() async throws {
        while true {
            let now = clock.now
            if let pausedUntil, pausedUntil > now {
                try await clock.sleep(until: pausedUntil)
                continue
            }
            expireTokens(now: now)
            if takenAt.count - takenStart < limits.requestsPerWindow {
                takenAt.append(now)
                return
            }
            try await clock.sleep(until: takenAt[takenStart].advanced(by: limits.window))
        }
    }

    /// Returns the tokens taken one window ago or earlier to the bucket.
    private func expireTokens(now: ContinuousClock.Instant) {
        while takenStart < takenAt.count, takenAt[takenStart].advanced(by: limits.window) <= now {
            takenStart += 1
        }
        if takenStart > 1024, takenStart * 2 > takenAt.count {
            takenAt.removeFirst(takenStart)
            takenStart = 0
        }
    }
}
