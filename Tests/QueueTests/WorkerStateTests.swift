import Testing

@testable import Queue

@Suite("Worker state")
struct WorkerStateTests {
    @Test("a stop requested between a job's claim and its attempt's start is not lost")
    func earlyStopIsKept() async {
        let state = WorkerState()
        state.requestStop(42)
        let request = state.stopRequest(for: 42)
        let clock = ContinuousClock()
        let waited = await clock.measure { await request.wait(upTo: .seconds(5)) }
        #expect(waited < .seconds(1), "the early request is already signalled")
        let other = state.stopRequest(for: 43)
        let quiet = await clock.measure { await other.wait(upTo: .milliseconds(200)) }
        #expect(quiet >= .milliseconds(150), "a job nobody asked to stop is not signalled")
    }

    @Test("early stop requests are bounded: the oldest are forgotten")
    func earlyStopsAreBounded() async {
        let state = WorkerState()
        for job in 1...Int64(WorkerState.earlyStopsKept + 1) { state.requestStop(job) }
        let oldest = state.stopRequest(for: 1)
        let clock = ContinuousClock()
        #expect(await clock.measure { await oldest.wait(upTo: .milliseconds(200)) } >= .milliseconds(150))
        let newest = state.stopRequest(for: Int64(WorkerState.earlyStopsKept + 1))
        #expect(await clock.measure { await newest.wait(upTo: .seconds(5)) } < .seconds(1))
    }
}
