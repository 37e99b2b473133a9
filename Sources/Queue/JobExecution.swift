import Foundation
import Postgres

/// One attempt of one job: runs its handler against its timeout and stop request, and decides
/// the outcome — completed, retried (with backoff, or at once after a dropped connection), failed,
/// cancelled, or released on shutdown.
struct JobExecution: Sendable {
    let job: ClaimedJob
    let registry: JobRegistry
    /// Signalled when a person cancels the running job.
    let stopRequest: WakeUp

    private enum Ending: Sendable {
        case handlerReturned(Error?)
        case timedOut
        case stopRequested
    }

    /// Runs the attempt; never throws: every ending becomes an outcome.
    func run(context: JobContext) async -> JobOutcome {
        guard let entry = registry[job.kind] else {
            return failed(
                JobError(
                    .unknownKind,
                    "no handler for kind \"\(job.kind)\" is registered on this worker (it runs: \(registry.kinds.joined(separator: ", ")))",
                    isRetryable: false))
        }
        let ending = await race(entry, context: context)
        switch ending {
        case .handlerReturned(nil):
            return JobOutcome(jobID: job.id, attempt: job.attempt, state: .completed, isIdle: context.report.isIdle)
        case .handlerReturned(.some) where Task.isCancelled:
            return released()
        case .handlerReturned(let error?):
            return failedAttempt(
                error as? JobError ?? JobError(.handlerFailed, "\(error)", isRetryable: true), policy: entry.retryPolicy,
                droppedConnection: (error as? PostgresError)?.isDroppedConnection == true)
        case .timedOut:
            let limit = job.timeout.map { "\($0.seconds)" } ?? "?"
            return failedAttempt(JobError(.timedOut, "the handler ran longer than its timeout of \(limit) s", isRetryable: true), policy: entry.retryPolicy)
        case .stopRequested:
            return JobOutcome(
                jobID: job.id, attempt: job.attempt, state: .cancelled,
                error: JobError(.cancelled, "cancelled while running", isRetryable: false))
        }
    }

    /// Runs the handler beside a watcher for the timeout and the stop request; the first to end
    /// cancels the other, and the handler is always awaited before the outcome is decided.
    private func race(_ entry: JobRegistry.Entry, context: JobContext) async -> Ending {
        await withTaskGroup(of: Ending?.self) { group in
            group.addTask {
                do {
                    try await entry.run(job, context)
                    return .handlerReturned(nil)
                } catch {
                    return .handlerReturned(error)
                }
            }
            group.addTask {
                let start = ContinuousClock.now
                await stopRequest.wait(upTo: job.timeout)
                if Task.isCancelled { return nil }
                return job.timeout.map { start.duration(to: .now) >= $0 } == true ? .timedOut : .stopRequested
            }
            // The watcher yields nil only when cancelled; then the handler's own ending follows.
            var ending: Ending?
            while ending == nil, let next = await group.next() {
                ending = next
                group.cancelAll()
            }
            return ending ?? .handlerReturned(CancellationError())
        }
    }

    /// A failed attempt: retried after the job's own rerun delay or else the policy's delay while
    /// attempts remain, else failed.
    ///
    /// An attempt that failed because its database connection was dropped (a server restart or
    /// failover) is retried at once: the pool lends a live connection next time, so waiting out the
    /// backoff would only hold the job back, and with it every job of its concurrency key. It still
    /// counts as an attempt, so a database that keeps dropping connections cannot retry a job
    /// forever. A database that cannot be reached at all keeps the backoff.
    private func failedAttempt(_ error: JobError, policy kindPolicy: RetryPolicy, droppedConnection: Bool = false) -> JobOutcome {
        var policy = kindPolicy
        if let delay = job.retryDelay { policy = RetryPolicy(backoff: .fixed(delay), maxAttempts: kindPolicy.maxAttempts, jitter: 0) }
        let maxAttempts = policy.maxAttempts ?? job.maxAttempts
        guard error.isRetryable, job.attempt < maxAttempts else { return failed(error) }
        var random = SystemRandomNumberGenerator()
        let delay = droppedConnection ? .zero : policy.delay(after: job.attempt, random: &random)
        return JobOutcome(
            jobID: job.id, attempt: job.attempt, state: .retryable,
            runAt: Date().addingTimeInterval(delay.seconds), error: error)
    }

    private func failed(_ error: JobError) -> JobOutcome {
        JobOutcome(jobID: job.id, attempt: job.attempt, state: .failed, error: error)
    }

    /// The worker stopped before the handler finished: the job goes back to available.
    private func released() -> JobOutcome {
        JobOutcome(
            jobID: job.id, attempt: job.attempt, state: .available,
            error: JobError(.released, "the worker shut down before the job finished; released to run again", isRetryable: true))
    }
}
