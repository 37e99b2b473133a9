import Foundation
import Synchronization

/// A failure the emulator plays instead of (or before) the real answer, for testing a client's resilience.
public enum Fault: Sendable, Equatable {
    /// Answers with this status (500, 503, …) and the emulated service's error JSON body.
    case status(Int)
    /// Waits this long, then answers normally.
    case delay(seconds: Double)
    /// Answers `502 Bad Gateway` with an HTML page, as a proxy in front of the service would.
    case htmlBadGateway
    /// Answers `200 OK` with a JSON body cut off in the middle (its `Content-Length` matching the cut body).
    case truncatedJSON
    /// Closes the connection without answering.
    case dropConnection
}

/// Which requests a fault applies to.
public enum FaultScope: String, Sendable {
    /// API requests (everything but the token endpoint and the switches).
    case api
    /// Token requests.
    case token
    /// Both.
    case all
}

/// Counters an emulator keeps, read with its `stats()` or `GET /_emulator/stats`.
public struct EmulatorStats: Sendable, Equatable {
    /// Requests by route (`GET accounts`, `POST $batch`, `POST token`, …).
    public var requestsByRoute: [String: Int] = [:]
    /// 429 responses sent.
    public var throttledResponses = 0
    /// The most API requests in progress at once.
    public var maximumConcurrentRequests = 0
    /// Faults played.
    public var faultsPlayed = 0

    /// The counters as JSON.
    public var json: JSONValue {
        .object([
            ("requestsByRoute", .object(requestsByRoute.sorted { $0.key < $1.key }.map { ($0.key, .number(String($0.value))) })),
            ("throttledResponses", .number(String(throttledResponses))),
            ("maximumConcurrentRequests", .number(String(maximumConcurrentRequests))),
            ("faultsPlayed", .number(String(faultsPlayed))),
        ])
    }
}

/// The queue of injected faults and the counters.
public final class FaultBoard: Sendable {
    private struct Pending {
        var fault: Fault
        var remaining: Int
        var scope: FaultScope
    }

    private let pending = Mutex<[Pending]>([])
    private let counters = Mutex(EmulatorStats())
    private let active = Mutex(0)

    /// An empty board.
    public init() {}

    /// Queues `fault` for the next `count` requests in `scope`.
    public func inject(_ fault: Fault, count: Int, scope: FaultScope) {
        guard count > 0 else { return }
        pending.withLock { $0.append(Pending(fault: fault, remaining: count, scope: scope)) }
    }

    /// Drops every queued fault.
    public func clear() { pending.withLock { $0.removeAll() } }

    /// The fault to play for a request in `scope`, if one is queued.
    public func next(for scope: FaultScope) -> Fault? {
        let fault: Fault? = pending.withLock { pending in
            guard let index = pending.firstIndex(where: { $0.scope == .all || $0.scope == scope }) else { return nil }
            let fault = pending[index].fault
            pending[index].remaining -= 1
            if pending[index].remaining == 0 { pending.remove(at: index) }
            return fault
        }
        if fault != nil { counters.withLock { $0.faultsPlayed += 1 } }
        return fault
    }

    /// Counts a request on `route`.
    public func count(_ route: String) { counters.withLock { $0.requestsByRoute[route, default: 0] += 1 } }

    /// Counts a 429.
    public func countThrottled() { counters.withLock { $0.throttledResponses += 1 } }

    /// Marks an API request started.
    public func started() {
        let now = active.withLock { active in
            active += 1
            return active
        }
        counters.withLock { $0.maximumConcurrentRequests = max($0.maximumConcurrentRequests, now) }
    }

    /// Marks an API request ended.
    public func ended() { active.withLock { $0 -= 1 } }

    /// The counters.
    public var stats: EmulatorStats { counters.withLock { $0 } }

    /// Sets the counters to zero.
    public func resetStats() { counters.withLock { $0 = EmulatorStats() } }
}
