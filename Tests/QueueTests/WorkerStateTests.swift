import Testing

@testable import Queue

@Suite("Worker state")
struct WorkerStateTests {
    @Test("a stop requested between a job's claim and its attempt's start is not lost")
    func earlyStopIsKept() async {
        let state = WorkerState()
        state.requestStop(JobAttemptID(job: 42, attempt: 1))
        let request = state.stopRequest(for: JobAttemptID(job: 42, attempt: 1))
        let clock = ContinuousClock()
        let waited = await clock.measure { await request.wait(upTo: .seconds(5)) }
        #expect(waited < .seconds(1), "the early request is already signalled")
        let other = state.stopRequest(for: JobAttemptID(job: 43, attempt: 1))
        let quiet = await clock.measure { await other.wait(upTo: .milliseconds(200)) }
        #expect(quiet >= .milliseconds(150), "a job nobody asked to stop is not signalled")
    }

    @Test("early stop requests are bounded: the oldest are forgotten")
    func earlyStopsAreBounded() async {
        let state = WorkerState()
        for job in 1...Int64(WorkerState.earlyStopsKept + 1) { state.requestStop(JobAttemptID(job: job, attempt: 1)) }
        let oldest = state.stopRequest(for: JobAttemptID(job: 1, attempt: 1))
        let clock = ContinuousClock()
        #expect(await clock.measure { await oldest.wait(upTo: .milliseconds(200)) } >= .milliseconds(150))
        let newest = state.stopRequest(for: JobAttemptID(job: Int64(WorkerState.earlyStopsKept + 1), attempt: 1))
        #expect(await clock.measure { await newest.wait(upTo: .seconds(5)) } < .seconds(1))
    }

    @Test("a stop request for an attempt that ended never stops the job's next attempt on the same worker")
    func staleStopSparesTheNextAttempt() async {
        let state = WorkerState()
        let first = JobAttemptID(job: 42, attempt: 1)
        _ = state.stopRequest(for: first)
        state.finished(first)
        // Its outcome is not written yet, so the database still shows attempt 1 running with a cancel request.
        state.requestStop(first)
        let retried = state.stopRequest(for: JobAttemptID(job: 42, attempt: 2))
        let clock = ContinuousClock()
        #expect(await clock.measure { await retried.wait(upTo: .milliseconds(200)) } >= .milliseconds(150))
    }
}
