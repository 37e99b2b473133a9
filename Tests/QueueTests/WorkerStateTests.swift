import Testing

@testable import Queue

@Suite("Worker state")
struct WorkerStateTests {
    @Test("a stop requested between a job's claim and its attempt's start is not lost")
    func earlyStopIsKept() async {
        let state = WorkerState(outcomeBatchLimit: 8)
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
        let state = WorkerState(outcomeBatchLimit: 8)
        for job in 1...Int64(WorkerState.earlyStopsKept + 1) { state.requestStop(JobAttemptID(job: job, attempt: 1)) }
        let oldest = state.stopRequest(for: JobAttemptID(job: 1, attempt: 1))
        let clock = ContinuousClock()
        #expect(await clock.measure { await oldest.wait(upTo: .milliseconds(200)) } >= .milliseconds(150))
        let newest = state.stopRequest(for: JobAttemptID(job: Int64(WorkerState.earlyStopsKept + 1), attempt: 1))
        #expect(await clock.measure { await newest.wait(upTo: .seconds(5)) } < .seconds(1))
    }

    @Test("a stop request for an attempt that ended never stops the job's next attempt on the same worker")
    func staleStopSparesTheNextAttempt() async {
        let state = WorkerState(outcomeBatchLimit: 8)
        let first = JobAttemptID(job: 42, attempt: 1)
        _ = state.stopRequest(for: first)
        state.finished(first)
        // Its outcome is not written yet, so the database still shows attempt 1 running with a cancel request.
        state.requestStop(first)
        let retried = state.stopRequest(for: JobAttemptID(job: 42, attempt: 2))
        let clock = ContinuousClock()
        #expect(await clock.measure { await retried.wait(upTo: .milliseconds(200)) } >= .milliseconds(150))
    }

    @Test("outcome batches never exceed the bound, and the buffer is backed up while more than a batch is unwritten")
    func boundedOutcomeBatches() async throws {
        let state = WorkerState(outcomeBatchLimit: 4)
        for job in 1...10 { state.outcomes.append(JobOutcome(jobID: Int64(job), attempt: 1, state: .completed)) }
        #expect(state.outcomes.isBackedUp)
        let first = try #require(await state.outcomes.next())
        #expect(first.map(\.jobID) == [1, 2, 3, 4], "the oldest first, at most the bound")
        let second = try #require(await state.outcomes.next())
        #expect(second.count == 4)
        #expect(state.outcomes.unwritten == 10, "taken is not written")
        state.outcomes.written(first)
        state.outcomes.written(second)
        #expect(state.outcomes.unwritten == 2)
        #expect(!state.outcomes.isBackedUp)
        let clock = ContinuousClock()
        #expect(await clock.measure { await state.wakeUp.wait(upTo: .seconds(5)) } < .seconds(1), "a write wakes the claim loop")
        #expect(try #require(await state.outcomes.next()).count == 2)
    }
}
