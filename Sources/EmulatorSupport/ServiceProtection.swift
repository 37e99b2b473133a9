import Foundation
import Synchronization

/// Service protection limits per client, as Microsoft's API limits pages describe them: requests
/// within a sliding window, concurrent requests and, where the service limits it, combined execution
/// time within the window. A `$batch` counts as one request, its whole duration as execution time.
/// Each emulator turns a `Throttle` into its service's 429 answer.
public final class ServiceProtection: Sendable {
    /// The limits.
    public struct Limits: Sendable {
        /// Requests per client within the window.
        public var requests: Int
        /// Combined execution seconds per client within the window; nil for no such limit.
        public var executionTime: TimeInterval?
        /// The sliding window, in seconds.
        public var window: TimeInterval
        /// Concurrent requests per client.
        public var concurrentRequests: Int

        /// Limits.
        public init(requests: Int, executionTime: TimeInterval?, window: TimeInterval, concurrentRequests: Int) {
            self.requests = requests
            self.executionTime = executionTime
            self.window = window
            self.concurrentRequests = concurrentRequests
        }
    }

    /// Why a request was refused, and when the client may try again.
    public enum Throttle: Sendable, Equatable {
        /// The client has `concurrentRequests` requests in progress.
        case concurrency
        /// The client sent `requests` requests within the window; the request number it would have been.
        case requests(attempted: Int)
        /// The client's requests ran `executionTime` seconds within the window.
        case executionTime

        /// The seconds to wait before retrying, at least 1.
        public static func seconds(_ interval: TimeInterval) -> Int { max(1, Int(interval.rounded(.up))) }
    }

    /// What is left of a client's allowance within the window.
    public struct Usage: Sendable {
        /// Requests left.
        public var requestsLeft: Int
        /// Execution seconds left (the whole allowance when unlimited).
        public var executionTimeLeft: TimeInterval
    }

    private struct ClientState {
        var starts: [Date] = []
        var executions: [(end: Date, duration: TimeInterval)] = []
        var active = 0
    }

    /// The limits.
    public let limits: Limits
    private let clients = Mutex<[String: ClientState]>([:])

    /// Protection with these limits.
    public init(limits: Limits) { self.limits = limits }

    /// Admits a request of `client` (nil), or says why not and after how many seconds to retry.
    public func admit(_ client: String, now: Date = Date()) -> (throttle: Throttle, retryAfter: Int)? {
        clients.withLock { clients in
            var state = clients[client] ?? ClientState()
            defer { clients[client] = state }
            state.starts.removeAll { now.timeIntervalSince($0) >= limits.window }
            state.executions.removeAll { now.timeIntervalSince($0.end) >= limits.window }
            if state.active >= limits.concurrentRequests { return (.concurrency, 1) }
            if state.starts.count >= limits.requests, let oldest = state.starts.first {
                return (.requests(attempted: state.starts.count + 1), Throttle.seconds(limits.window - now.timeIntervalSince(oldest)))
            }
            if let allowance = limits.executionTime, state.executions.reduce(0, { $0 + $1.duration }) >= allowance,
                let oldest = state.executions.first
            {
                return (.executionTime, Throttle.seconds(limits.window - now.timeIntervalSince(oldest.end)))
            }
            state.starts.append(now)
            state.active += 1
            return nil
        }
    }

    /// The requests and execution time `client` has left within the window.
    public func usage(_ client: String, now: Date = Date()) -> Usage {
        clients.withLock { clients in
            let state = clients[client] ?? ClientState()
            let requests = state.starts.filter { now.timeIntervalSince($0) < limits.window }.count
            let used = state.executions.filter { now.timeIntervalSince($0.end) < limits.window }.reduce(0) { $0 + $1.duration }
            let allowance = limits.executionTime ?? .infinity
            return Usage(requestsLeft: max(limits.requests - requests, 0), executionTimeLeft: max(allowance - used, 0))
        }
    }

    /// Records the end of an admitted request and how long it ran.
    public func finish(_ client: String, duration: TimeInterval, now: Date = Date()) {
        clients.withLock { clients in
            clients[client]?.active -= 1
            clients[client]?.executions.append((now, duration))
        }
    }

    /// `1200000` → `1,200,000`, as Microsoft's messages write numbers.
    public static func grouped(_ number: Int) -> String {
        var digits = Array(String(number))
        var index = digits.count - 3
        while index > 0 {
            digits.insert(",", at: index)
            index -= 3
        }
        return String(digits)
    }
}
