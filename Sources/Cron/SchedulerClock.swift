import Foundation

/// The time a scheduler plans by: the real clock, or a simulated one for tests and rehearsals.
public protocol SchedulerClock: Sendable {
    /// The current instant.
    var now: Date { get }
    /// Sleeps until `instant` (or returns at once if it has passed); cancellable.
    func sleep(until instant: Date) async throws
}

/// Wall-clock time.
public struct SystemSchedulerClock: SchedulerClock {
    /// The real clock.
    public init() {}

    public var now: Date { Date() }

    public func sleep(until instant: Date) async throws {
        let seconds = instant.timeIntervalSinceNow
        if seconds > 0 { try await Task.sleep(for: .milliseconds(Int64((seconds * 1000).rounded(.up)))) }
    }
}

/// Simulated time running `rate` times faster than real time: at the real instant `anchor` it is
/// `start`. Processes given the same three values agree on the time, so several schedulers can
/// rehearse a whole day in seconds.
public struct SimulatedSchedulerClock: SchedulerClock {
    /// The simulated instant at `anchor`.
    public let start: Date
    /// The real instant at which the simulation reads `start`.
    public let anchor: Date
    /// Simulated seconds per real second.
    public let rate: Double

    /// Describes a simulated clock.
    public init(start: Date, anchor: Date, rate: Double) {
        precondition(rate > 0, "a simulated clock must move forwards")
        self.start = start
        self.anchor = anchor
        self.rate = rate
    }

    public var now: Date { start.addingTimeInterval(Date().timeIntervalSince(anchor) * rate) }

    public func sleep(until instant: Date) async throws {
        let realSeconds = instant.timeIntervalSince(now) / rate
        if realSeconds > 0 { try await Task.sleep(for: .microseconds(Int64((realSeconds * 1_000_000).rounded(.up)))) }
    }
}
