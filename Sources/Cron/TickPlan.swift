import Foundation

/// What the scheduler knows about one schedule when it plans its ticks.
public struct PlannedSchedule: Sendable {
    /// The schedule's name.
    public var name: String
    /// Its parsed expression.
    public var expression: CronExpression
    /// Its zone.
    public var timeZone: TimeZone
    /// What to do about ticks missed while no scheduler ran.
    public var misfirePolicy: MisfirePolicy
    /// How far back `runOnce` catches up.
    public var catchUpWindow: TimeInterval

    /// Describes a schedule for planning.
    public init(
        name: String, expression: CronExpression, timeZone: TimeZone, misfirePolicy: MisfirePolicy,
        catchUpWindow: TimeInterval
    ) {
        self.name = name
        self.expression = expression
        self.timeZone = timeZone
        self.misfirePolicy = misfirePolicy
        self.catchUpWindow = catchUpWindow
    }
}

/// What the scheduler does with ticks missed while no scheduler ran (`couplet.schedules.misfire_policy`).
public enum MisfirePolicy: String, Sendable, Codable, CaseIterable {
    /// Missed ticks are dropped; the schedule goes on from its next tick.
    case skip
    /// One job for the latest tick missed within the catch-up window.
    case runOnce = "run_once"
}

/// The ticks of one schedule that are due now, and when it fires next.
///
/// A tick at `t` is *on time* when `now − t ≤ threshold`: it fires whatever the policy (a tick that
/// the scheduler reaches a little late — it was busy, or the leader just changed — is not a
/// misfire). Older ticks since the last one handled are *missed*: `skip` drops them, `runOnce`
/// fires the latest of them if it lies within the catch-up window. A schedule with no tick yet
/// starts from `firstSeen`, so a new schedule never fires for times before it existed.
public struct TickPlan: Sendable, Equatable {
    /// Fire times to enqueue now, oldest first.
    public var due: [Date]
    /// Whether missed fire times were dropped by the policy, for the log.
    public var droppedMissedTicks: Bool
    /// The next fire time after now, nil if the expression never fires again.
    public var next: Date?

    /// Plans `schedule` at `now`, given the last tick handled (or when it was first seen).
    public static func plan(
        _ schedule: PlannedSchedule, lastTick: Date?, firstSeen: Date, now: Date, threshold: TimeInterval
    ) -> TickPlan {
        let zone = schedule.timeZone
        let since = lastTick ?? firstSeen
        let thresholdStart = now.addingTimeInterval(-threshold)
        // On time: after the last tick handled and no older than the threshold (inclusive).
        let missedSome = thresholdStart > since
        var due: [Date] = []
        var cursor = schedule.expression.next(after: missedSome ? thresholdStart.addingTimeInterval(-0.001) : since, in: zone)
        while let tick = cursor, tick <= now {
            due.append(tick)
            cursor = schedule.expression.next(after: tick, in: zone)
        }
        var dropped = false
        if missedSome, let latestMissed = schedule.expression.previous(before: thresholdStart, in: zone), latestMissed > since {
            if schedule.misfirePolicy == .runOnce, now.timeIntervalSince(latestMissed) <= schedule.catchUpWindow {
                due.insert(latestMissed, at: 0)
            } else {
                dropped = true
            }
        }
        return TickPlan(due: due, droppedMissedTicks: dropped, next: cursor)
    }
}
