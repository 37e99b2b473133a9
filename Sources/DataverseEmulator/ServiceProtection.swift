import Foundation
import HTTPTypes
import Synchronization

/// Dataverse's service protection limits, per client, as the API limits documentation describes:
/// requests and combined execution time within a sliding window, and concurrent requests. A `$batch`
/// counts as one request, its whole duration as execution time.
final class ServiceProtection: Sendable {
    /// The limits.
    struct Limits: Sendable {
        var requests: Int
        var executionTime: TimeInterval
        var window: TimeInterval
        var concurrentRequests: Int
    }

    private struct ClientState {
        var starts: [Date] = []
        var executions: [(end: Date, duration: TimeInterval)] = []
        var active = 0
    }

    let limits: Limits
    private let clients = Mutex<[String: ClientState]>([:])

    init(limits: Limits) { self.limits = limits }

    /// Admits a request of `client`, or answers the 429 error with `Retry-After`.
    func admit(_ client: String, now: Date = Date()) -> DataverseError? {
        clients.withLock { clients in
            var state = clients[client] ?? ClientState()
            defer { clients[client] = state }
            state.starts.removeAll { now.timeIntervalSince($0) >= limits.window }
            state.executions.removeAll { now.timeIntervalSince($0.end) >= limits.window }
            if state.active >= limits.concurrentRequests {
                return Self.throttled(
                    code: "0x80072326", "Number of concurrent requests exceeded the limit of \(limits.concurrentRequests).", retryAfter: 1)
            }
            if state.starts.count >= limits.requests, let oldest = state.starts.first {
                return Self.throttled(
                    code: "0x80072322",
                    "Number of requests exceeded the limit of \(limits.requests) over time window of \(Int(limits.window)) seconds.",
                    retryAfter: limits.window - now.timeIntervalSince(oldest))
            }
            let used = state.executions.reduce(0) { $0 + $1.duration }
            if used >= limits.executionTime, let oldest = state.executions.first {
                let milliseconds = Self.grouped(Int(limits.executionTime * 1000))
                return Self.throttled(
                    code: "0x80072321",
                    "Combined execution time of incoming requests exceeded limit of \(milliseconds) milliseconds over time window of "
                        + "\(Int(limits.window)) seconds. Decrease number of concurrent requests or reduce the duration of requests and try again later.",
                    retryAfter: limits.window - now.timeIntervalSince(oldest.end))
            }
            state.starts.append(now)
            state.active += 1
            return nil
        }
    }

    /// The `x-ms-ratelimit-*` headers the API limits documentation describes, for debugging: the requests
    /// left in the window, and the execution time left (seconds, as `1,199.98`).
    func remaining(_ client: String, now: Date = Date()) -> [(String, String)] {
        clients.withLock { clients in
            let state = clients[client] ?? ClientState()
            let requests = state.starts.filter { now.timeIntervalSince($0) < limits.window }.count
            let used = state.executions.filter { now.timeIntervalSince($0.end) < limits.window }.reduce(0) { $0 + $1.duration }
            let seconds = max(limits.executionTime - used, 0)
            let hundredths = Int((seconds * 100).rounded(.down))
            let fraction = hundredths % 100
            let time = Self.grouped(hundredths / 100) + "." + (fraction < 10 ? "0" : "") + String(fraction)
            return [
                ("x-ms-ratelimit-burst-remaining-xrm-requests", String(max(limits.requests - requests, 0))),
                ("x-ms-ratelimit-time-remaining-xrm-requests", time),
            ]
        }
    }

    /// Records the end of an admitted request and how long it ran.
    func finish(_ client: String, duration: TimeInterval, now: Date = Date()) {
        clients.withLock { clients in
            clients[client]?.active -= 1
            clients[client]?.executions.append((now, duration))
        }
    }

    /// `1200000` → `1,200,000`, as the documented message writes it.
    static func grouped(_ number: Int) -> String {
        var digits = Array(String(number))
        var index = digits.count - 3
        while index > 0 {
            digits.insert(",", at: index)
            index -= 3
        }
        return String(digits)
    }

    private static func throttled(code: String, _ message: String, retryAfter: TimeInterval) -> DataverseError {
        let seconds = max(1, Int(retryAfter.rounded(.up)))
        return DataverseError(.tooManyRequests, code: code, message, headers: [("Retry-After", String(seconds))])
    }
}
