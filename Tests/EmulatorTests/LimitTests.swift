import DataverseEmulator
import Foundation
import Testing

/// Service protection limits (api-limits.md): requests and execution time per window, concurrent requests.
@Suite("Emulator service protection limits")
struct LimitTests {
    static let setup = "CREATE TABLE account (accountid uuid PRIMARY KEY DEFAULT gen_random_uuid(), name text NOT NULL);"

    @Test("Past the request limit: 429, Retry-After in seconds, the documented code; counted in the stats")
    func requestLimit() async throws {
        try await withEmulator(setup: Self.setup, configure: { $0.requestLimit = 3 }) { emulated in
            for left in [2, 1, 0] {
                let reply = try await emulated.send(.GET, "accounts")
                #expect(reply.status == 200)
                #expect(reply.header("x-ms-ratelimit-burst-remaining-xrm-requests") == String(left))
                #expect(reply.header("x-ms-ratelimit-time-remaining-xrm-requests")?.hasPrefix("1,") == true)
            }
            let refused = try await emulated.send(.GET, "accounts")
            #expect(refused.status == 429)
            let retryAfter = Int(refused.header("Retry-After") ?? "") ?? 0
            #expect(retryAfter >= 1 && retryAfter <= 300)
            #expect(refused.json["error"]?["code"] == .string("0x80072322"))
            #expect(emulated.emulator.stats().throttledResponses == 1)
        }
    }

    @Test("Concurrent requests past the cap are refused at once with 0x80072326; the stats keep the peak")
    func concurrencyCap() async throws {
        try await withEmulator(setup: Self.setup, configure: { $0.concurrentRequestLimit = 2 }) { emulated in
            emulated.emulator.inject(.delay(seconds: 4), count: 2)
            let slow = (0..<2).map { _ in Task { try await emulated.send(.GET, "accounts") } }
            // Both slow requests hold their slots once the peak shows 2.
            for _ in 0..<100 where emulated.emulator.stats().maximumConcurrentRequests < 2 { try await Task.sleep(for: .milliseconds(50)) }
            #expect(emulated.emulator.stats().maximumConcurrentRequests == 2)
            for _ in 0..<2 {
                let refused = try await emulated.send(.GET, "accounts")
                #expect(refused.status == 429)
                #expect(refused.json["error"]?["code"] == .string("0x80072326"))
                #expect(refused.json["error"]?["message"] == .string("Number of concurrent requests exceeded the limit of 2."))
                #expect(refused.header("Retry-After") == "1")
            }
            for task in slow {
                let reply = try await task.value
                #expect(reply.status == 200)
            }
            #expect(emulated.emulator.stats().maximumConcurrentRequests == 2)
            #expect(emulated.emulator.stats().throttledResponses == 2)
        }
    }

    @Test("Past the combined execution time: 429 with 0x80072321")
    func executionTime() async throws {
        try await withEmulator(setup: Self.setup, configure: { $0.executionTimeLimit = 0.3 }) { emulated in
            emulated.emulator.inject(.delay(seconds: 0.4))
            do {
                let value = try await emulated.send(.GET, "accounts").status
                #expect(value == 200)
            }
            let refused = try await emulated.send(.GET, "accounts")
            #expect(refused.status == 429)
            #expect(refused.json["error"]?["code"] == .string("0x80072321"))
            #expect(refused.json["error"]?["message"]?.stringValue?.hasPrefix("Combined execution time of incoming requests exceeded limit of 300 milliseconds over time window of 300 seconds.") == true)
        }
    }

    @Test("A $batch counts as one request")
    func batchCountsOnce() async throws {
        try await withEmulator(setup: Self.setup, configure: { $0.requestLimit = 2 }) { emulated in
            let get = httpPart("GET /api/data/v9.2/accounts HTTP/1.1\n")
            let body = batchBody(boundary: "batch_1", [get, get, get, get])
            let batch = try await emulated.send(.POST, "$batch", headers: [("Content-Type", "multipart/mixed; boundary=batch_1")], body: body)
            #expect(batch.status == 200)
            do {
                let value = try await emulated.send(.GET, "accounts").status
                #expect(value == 200)
            }
            do {
                let value = try await emulated.send(.GET, "accounts").status
                #expect(value == 429)
            }
        }
    }

    @Test("Limits are per client: a request without a valid token is refused before it counts")
    func unauthenticatedDoesNotCount() async throws {
        try await withEmulator(setup: Self.setup, configure: { $0.requestLimit = 1 }) { emulated in
            do {
                let value = try await emulated.send(.GET, "accounts", token: "").status
                #expect(value == 401)
            }
            do {
                let value = try await emulated.send(.GET, "accounts", token: "forged").status
                #expect(value == 401)
            }
            do {
                let value = try await emulated.send(.GET, "accounts").status
                #expect(value == 200)
            }
        }
    }
}
