import Foundation
import Testing
@testable import ODataConnector

@Suite struct ServiceProtectionTests {
    @Test func presetsAreTheDocumentedLimits() {
        #expect(ServiceProtectionLimits.dataverse.requestsPerWindow == 6_000)
        #expect(ServiceProtectionLimits.dataverse.window == .seconds(300))
        #expect(ServiceProtectionLimits.dataverse.maximumConcurrentRequests == 52)
        #expect(ServiceProtectionLimits.businessCentral.maximumConcurrentRequests == 5)
    }

    @Test func a429PausesEveryRequestOfTheEndpoint() async throws {
        let log = ServerLog()
        let throttledAt = Clocked()
        let handler = routing(api: { request in
            if request.path.contains("first"), await throttledAt.setOnce(request.arrivedAt) {
                return .json(429, #"{"error":{"code":"0x80072322","message":"Number of requests exceeded the limit of 6000 over time window of 300 seconds."}}"#,
                             headers: [("Retry-After", "2")])
            }
            return .json(#"{"value":[]}"#)
        })
        try await TestServer.run(handler, log: log) { server in
            try await TestSetup().withClient(server) { client, _ in
                async let first = client.send(.get("accounts?first"))
                // A pause of 2 s, long enough to be seen on a loaded machine; give up looking after 10 s.
                let deadline = ContinuousClock.now + .seconds(10)
                while await !client.protection.isPaused, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(2)) }
                let second = try await client.send(.get("accounts?second"))
                #expect(second.status == 200)
                #expect(try await first.status == 200)
                let statistics = await client.protection.statistics
                #expect(statistics.throttledResponses == 1)
                #expect(statistics.totalWaited >= .milliseconds(2_500), "the first request waited 2 s, the second the rest of the pause: \(statistics.totalWaited)")
                #expect(!statistics.isPaused)
            }
        }
        let pausedFrom = try #require(await throttledAt.value)
        let later = await log.apiRequests.filter { $0.arrivedAt > pausedFrom }
        #expect(later.count == 2)
        for request in later {
            #expect(request.arrivedAt - pausedFrom >= .milliseconds(1_950), "\(request.path) came \(request.arrivedAt - pausedFrom) after the 429")
        }
    }

    @Test func theConcurrencyCapIsNeverExceeded() async throws {
        let log = ServerLog()
        let handler = routing(api: { request in
            // The first requests are held until the cap's worth were in flight together (or 4 s passed),
            // so the cap is reached however loaded the machine is; a request beyond it would be seen.
            let deadline = ContinuousClock.now + .seconds(4)
            while request.path.contains("accounts"), await log.maximumConcurrent < 3, ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(5))
            }
            try? await Task.sleep(for: .milliseconds(10))
            return .json(#"{"value":[]}"#)
        })
        var setup = TestSetup()
        setup.protection = ServiceProtectionLimits(requestsPerWindow: 1000, window: .seconds(1), maximumConcurrentRequests: 3)
        try await TestServer.run(handler, log: log) { server in
            try await setup.withClient(server) { client, _ in
                _ = try await client.send(.get("warm-up"))
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for index in 0..<12 { group.addTask { _ = try await client.send(.get("accounts?n=\(index)")) } }
                    try await group.waitForAll()
                }
                #expect(await client.protection.statistics.inFlight == 0)
            }
        }
        #expect(await log.maximumConcurrent == 3)
        #expect(await log.apiRequests.count == 13)
    }

    @Test func theBucketKeepsEveryWindowWithinItsLimit() async throws {
        let protection = ServiceProtection(endpoint: "crm", limits: .init(requestsPerWindow: 3, window: .milliseconds(200), maximumConcurrentRequests: 10))
        let started = ContinuousClock.now
        let permits = try await withThrowingTaskGroup(of: ContinuousClock.Instant.self) { group in
            for _ in 0..<7 {
                group.addTask {
                    try await protection.acquire()
                    await protection.release()
                    return .now
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }.sorted()
        }
        for index in 3..<permits.count {
            #expect(permits[index] - permits[index - 3] >= .milliseconds(180), "permit \(index) came too early")
        }
        #expect(permits[6] - started >= .milliseconds(400), "the seventh permit needs a third window")
        #expect(await protection.statistics.totalWaited >= .milliseconds(700), "three waited about one window, one about two")
    }

    @Test func theBucketHoldsBackRequestsToTheService() async throws {
        let log = ServerLog()
        var setup = TestSetup()
        setup.protection = ServiceProtectionLimits(requestsPerWindow: 3, window: .milliseconds(250), maximumConcurrentRequests: 10)
        let started = ContinuousClock.now
        try await TestServer.run(routing(api: { _ in .json(#"{"value":[]}"#) }), log: log) { server in
            try await setup.withClient(server) { client, _ in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for index in 0..<7 { group.addTask { _ = try await client.send(.get("accounts?n=\(index)")) } }
                    try await group.waitForAll()
                }
            }
        }
        let arrivals = await log.apiRequests.map(\.arrivedAt).sorted()
        #expect(arrivals.count == 7)
        #expect(try #require(arrivals.last) - started >= .milliseconds(500), "the seventh request needs a third window")
    }

    @Test func retryAfterTakesSecondsAndDates() throws {
        #expect(RetryAfter.parse("120") == .seconds(120))
        #expect(RetryAfter.parse(" 0 ") == .zero)
        #expect(RetryAfter.parse("-1") == nil)
        #expect(RetryAfter.parse("soon") == nil)
        let now = try #require(ISO8601DateFormatter().date(from: "2015-10-21T07:28:00Z"))
        #expect(RetryAfter.parse("Wed, 21 Oct 2015 07:28:30 GMT", now: now) == .seconds(30))
        #expect(RetryAfter.parse("Wed, 21 Oct 2015 07:27:00 GMT", now: now) == .zero)
    }

    @Test func aCancelledWaiterHoldsNoSlot() async throws {
        let protection = ServiceProtection(endpoint: "crm", limits: .init(requestsPerWindow: 100, window: .seconds(1), maximumConcurrentRequests: 1))
        try await protection.acquire()
        let waiter = Task { try await protection.acquire() }
        try await Task.sleep(for: .milliseconds(20))
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        await protection.release()
        try await protection.acquire()
        await protection.release()
        #expect(await protection.statistics.inFlight == 0)
    }
}

/// An instant set once.
actor Clocked {
    private(set) var value: ContinuousClock.Instant?

    /// Sets the value if unset; whether it did.
    func setOnce(_ instant: ContinuousClock.Instant) -> Bool {
        guard value == nil else { return false }
        value = instant
        return true
    }
}
