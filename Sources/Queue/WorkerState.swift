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
    /// Wakes the claim loop: a notification, a free slot, a stop request, or outcomes written.
    let wakeUp: WakeUp
    /// Outcomes on their way to the database.
    let outcomes: OutcomeBuffer

    /// The state of a worker whose finisher writes at most `outcomeBatchLimit` outcomes at a time.
    init(outcomeBatchLimit: Int) {
        let wakeUp = WakeUp()
        self.wakeUp = wakeUp
        self.outcomes = OutcomeBuffer(batchLimit: outcomeBatchLimit, onWritten: wakeUp)
    }

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

/// Outcomes collected from finished jobs, taken by the finisher in batches of at most `batchLimit`.
///
/// An outcome is unwritten from its arrival until the finisher reports its batch written. While
/// more than `batchLimit` are unwritten the buffer is backed up and the claim loop claims nothing:
/// a slow write holds claims back instead of letting outcomes pile up into an ever bigger write.
final class OutcomeBuffer: Sendable {
    private struct State {
        var pending: [JobOutcome] = []
        var writing = 0
        var closed = false
    }

    /// The most outcomes one write takes, and the most that may be unwritten before claims wait.
    let batchLimit: Int
    private let state = Mutex(State())
    private let arrival = WakeUp()
    private let onWritten: WakeUp

    /// A buffer whose batches hold at most `batchLimit` outcomes; `onWritten` is signalled after each write.
    init(batchLimit: Int, onWritten: WakeUp) {
        self.batchLimit = max(1, batchLimit)
        self.onWritten = onWritten
    }

    /// Outcomes that arrived and are not written yet, the batch being written included.
    var unwritten: Int { state.withLock { $0.pending.count + $0.writing } }

    /// Whether claims must wait: more than a batch of outcomes is unwritten.
    var isBackedUp: Bool { unwritten > batchLimit }

    func append(_ outcome: JobOutcome) {
        state.withLock { $0.pending.append(outcome) }
        arrival.signal()
    }

    /// No more outcomes will come; `next()` returns nil once the buffer is empty.
    func close() {
        state.withLock { $0.closed = true }
        arrival.signal()
    }

    /// The oldest outcomes, at most `batchLimit`, waiting for at least one; nil when closed and
    /// empty. They stay unwritten until `written(_:)`.
    func next() async -> [JobOutcome]? {
        while true {
            let (batch, closed) = state.withLock { state in
                let batch = Array(state.pending.prefix(batchLimit))
                state.pending.removeFirst(batch.count)
                state.writing += batch.count
                return (batch, state.closed)
            }
            if !batch.isEmpty { return batch }
            if closed { return nil }
            await arrival.wait(upTo: .seconds(1))
        }
    }

    /// The finisher is done with `batch` (written, or given up on): its room is free, claims may resume.
    func written(_ batch: [JobOutcome]) {
        state.withLock { $0.writing -= batch.count }
        onWritten.signal()
    }
}
