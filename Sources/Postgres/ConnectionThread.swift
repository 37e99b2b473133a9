import Foundation
import Synchronization

/// A thread of one connection's own, serving as a task executor.
///
/// A task that prefers it (`PostgresConnection.withBoundExecutor`) runs its code on this thread, and
/// its calls on that connection then run right here: the blocking libpq call happens on the thread
/// the task already runs on, instead of hopping to the connection's dispatch queue and back (two
/// thread wake-ups per call, most of a short statement's cost on the client side).
final class ConnectionThread: TaskExecutor, @unchecked Sendable {
    /// Guards `jobs` and `stopped`, and wakes the thread.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopped = false
    /// `pthread_self()` of the thread, once it runs.
    private let threadID = Atomic<UInt>(0)

    /// Starts the thread and returns once it runs.
    init(name: String) {
        let started = DispatchSemaphore(value: 0)
        let thread = Thread {  // holds the executor until `stop()` ends the loop
            self.threadID.store(UInt(pthread_self()), ordering: .releasing)
            started.signal()
            self.run()
        }
        thread.name = name
        thread.start()
        started.wait()
    }

    /// True on the connection's thread.
    var isCurrent: Bool { pthread_equal(pthread_t(threadID.load(ordering: .acquiring)), pthread_self()) != 0 }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Ends the thread once the jobs enqueued so far have run.
    func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    private func run() {
        let executor = asUnownedTaskExecutor()
        while true {
            condition.lock()
            while jobs.isEmpty && !stopped { condition.wait() }
            let batch = jobs
            jobs.removeAll(keepingCapacity: true)
            let ending = stopped && batch.isEmpty
            condition.unlock()
            if ending { return }
            for job in batch { job.runSynchronously(on: executor) }
        }
    }
}
