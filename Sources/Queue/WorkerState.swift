import Synchronization

/// One attempt of a job: a stop request names the attempt, so that one meant for an attempt that
/// already ended never stops the job's next attempt (a person's retry claimed by the same worker).
struct JobAttemptID: Hashable, Sendable {
    /// The job's id.
    let job: Int64
    /// The attempt's number, from 1.
    let attempt: Int
}

/// What a worker's loops share: whether it is stopping, how many jobs run, their stop requests
/// and the outcomes waiting to be written.
final class WorkerState: Sendable {
    private struct Counters {
        var stopping = false
        var running = 0
        var stopRequests: [JobAttemptID: WakeUp] = [:]
        /// Stop requests for attempts not running here, newest last: a cancel can arrive between a
        /// claim's commit and its attempt's start. Bounded, since most name attempts that ended.
        var earlyStops: [JobAttemptID] = []
    }

    /// How many stop requests for jobs not (yet) running here are kept.
    static let earlyStopsKept = 256

    private let counters = Mutex(Counters())
    /// Wakes the claim loop: a notification, a free slot, or a stop request.
    let wakeUp = WakeUp()
    /// Outcomes on their way to the database.
    let outcomes = OutcomeBuffer()

    var isStopping: Bool { counters.withLock { $0.stopping } }
    var running: Int { counters.withLock { $0.running } }

    func beginStopping() {
        counters.withLock { $0.stopping = true }
        wakeUp.signal()
    }

    func started() { counters.withLock { $0.running += 1 } }

    /// A job's attempt ended: frees its slot and wakes the claim loop.
    func finished(_ job: JobAttemptID) {
        counters.withLock { counters in
            counters.running -= 1
            counters.stopRequests[job] = nil
        }
        wakeUp.signal()
    }

    /// The signal that asks the running attempt `job` to stop, created on first use (already
    /// signalled when the stop was requested before the attempt started).
    func stopRequest(for job: JobAttemptID) -> WakeUp {
        counters.withLock { counters in
            if let existing = counters.stopRequests[job] { return existing }
            let request = WakeUp()
            counters.stopRequests[job] = request
            if let early = counters.earlyStops.firstIndex(of: job) {
                counters.earlyStops.remove(at: early)
                request.signal()
            }
            return request
        }
    }

    /// Asks the attempt `job` to stop: at once if it runs here, else when it starts here (if it does).
    func requestStop(_ job: JobAttemptID) {
        let request = counters.withLock { counters -> WakeUp? in
            if let request = counters.stopRequests[job] { return request }
            counters.earlyStops.append(job)
            if counters.earlyStops.count > Self.earlyStopsKept { counters.earlyStops.removeFirst() }
            return nil
        }
        request?.signal()
    }
}

/// Outcomes collected from finished jobs, taken by the finisher as one batch per write.
final class OutcomeBuffer: Sendable {
    private struct State {
        var pending: [JobOutcome] = []
        var closed = false
    }

    private let state = Mutex(State())
    private let arrival = WakeUp()

    func append(_ outcome: JobOutcome) {
        state.withLock { $0.pending.append(outcome) }
        arrival.signal()
    }

    /// No more outcomes will come; `next()` returns nil once the buffer is empty.
    func close() {
        state.withLock { $0.closed = true }
        arrival.signal()
    }

    /// Everything buffered, waiting for at least one outcome; nil when closed and empty.
    func next() async -> [JobOutcome]? {
        while true {
            let (batch, closed) = state.withLock { state in
                defer { state.pending.removeAll(keepingCapacity: true) }
                return (state.pending, state.closed)
            }
            if !batch.isEmpty { return batch }
            if closed { return nil }
            await arrival.wait(upTo: .seconds(1))
        }
    }
}
