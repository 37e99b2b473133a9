import Cron
import Foundation

/// How `couplet schedules list` and `couplet status` write a stored schedule's fire times and last tick.
enum ScheduleText {
    /// The schedule's own zone (UTC when the stored name is not one).
    static func zone(of schedule: StoredSchedule) -> TimeZone {
        TimeZone(identifier: schedule.timeZone) ?? TimeZone(identifier: "UTC")!
    }

    /// The next `count` fire times in the schedule's zone, or `disabled`, or `invalid: why`.
    static func nextFireTimes(_ schedule: StoredSchedule, after now: Date, count: Int) -> String {
        switch schedule.upcoming(after: now, count: count) {
        case .disabled: "disabled"
        case .invalid(let problems): "invalid: \(problems)"
        case .fireTimes(let times, let zone): times.map { $0.iso8601(in: zone) }.joined(separator: ", ")
        }
    }

    /// The state of the last tick's job (`pruned` when it is gone), or `skipped: previous job STATE`,
    /// or `held: previous job found nothing`, or `woken: STATE`, or `-`.
    static func lastJob(_ tick: StoredSchedule.Tick?) -> String {
        guard let tick else { return "-" }
        let state = tick.jobState?.rawValue ?? "pruned"
        switch tick.outcome {
        case "skipped_overlap": return "skipped: previous job \(state)"
        case "held": return "held: previous job found nothing"
        case "woken": return "woken: \(state)"
        default: return state
        }
    }

    /// Until when the schedule is on hold after an idle job, in its zone: `until TIME`, `until woken`, or `-`.
    static func hold(_ schedule: StoredSchedule) -> String {
        guard let until = schedule.heldUntil else { return "-" }
        return until == .distantFuture ? "until woken" : "until \(until.iso8601(in: zone(of: schedule)))"
    }
}
