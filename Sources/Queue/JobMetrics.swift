import Metrics
import Synchronization

/// The metric handles a worker records its jobs in, made once per kind, queue and outcome and then
/// reused: making a handle looks it up in the metrics backend's registry under its lock, which at
/// thousands of jobs a second costs more than recording.
final class JobMetrics: Sendable {
    /// A job's labels: its kind (`unregistered` when no handler knows it) and queue.
    struct Labels: Hashable {
        var kind: String
        var queue: String
    }

    private struct Handles {
        let queueWait: Metrics.Timer
        let runDuration: Metrics.Timer
        var finished: [JobState: Counter] = [:]
    }

    private let handles = Mutex<[Labels: Handles]>([:])

    /// Records how long a job had been due when an attempt claimed it.
    func claimed(_ labels: Labels, after wait: Duration) {
        handles.withLock { handle(labels, in: &$0).queueWait }.record(duration: wait)
    }

    /// Counts a finished attempt by outcome, and its run time.
    func finished(_ labels: Labels, outcome: JobState, ranFor duration: Duration) {
        let (counter, timer) = handles.withLock { all in
            let handles = handle(labels, in: &all)
            let counter = handles.finished[outcome] ?? Counter(
                label: "couplet_jobs_finished_total", dimensions: [("kind", labels.kind), ("queue", labels.queue), ("outcome", outcome.rawValue)])
            all[labels]?.finished[outcome] = counter
            return (counter, handles.runDuration)
        }
        counter.increment()
        timer.record(duration: duration)
    }

    private func handle(_ labels: Labels, in all: inout [Labels: Handles]) -> Handles {
        if let existing = all[labels] { return existing }
        let dimensions = [("kind", labels.kind), ("queue", labels.queue)]
        let made = Handles(
            queueWait: Metrics.Timer(label: "couplet_job_queue_wait_seconds", dimensions: dimensions),
            runDuration: Metrics.Timer(label: "couplet_job_run_duration_seconds", dimensions: dimensions))
        all[labels] = made
        return made
    }
}
