import Cron
import Foundation
import Postgres

/// The schedules: next fire times in each schedule's zone, the last ticks and their jobs, and enable/disable.
enum SchedulesPage {
    static func load(_ context: PageContext, _ connection: PostgresConnection) async throws -> Page {
        let schedules = try await ScheduleStore.list(on: connection)
        let now = Date()
        var rows: [[HTML]] = []
        for schedule in schedules {
            let ticks = try await ScheduleStore.recentTicks(of: schedule.name, limit: 3, on: connection)
            let toggle = context.actionForm(
                "/schedules/enabled", [("name", schedule.name), ("enabled", schedule.isEnabled ? "false" : "true")],
                button: schedule.isEnabled ? "Disable" : "Enable")
            rows.append([
                "\(schedule.name)", "<code>\(schedule.expression)</code>", "\(schedule.timeZone)",
                Layout.badge(schedule.isEnabled ? "enabled" : "disabled"), "\(schedule.jobKind)", upcoming(schedule, now: now),
                tickList(ticks, zone: zone(of: schedule)), toggle,
            ])
        }
        let table = Layout.table(
            ["Schedule", "Expression", "Zone", "State", "Job", "Next fire times (its zone)", "Last ticks", ""], rows,
            empty: "No schedules. Apply a schedules file with couplet schedules apply FILE.")
        return Page(title: "Schedules", main: table)
    }

    private static func upcoming(_ schedule: StoredSchedule, now: Date) -> HTML {
        switch schedule.upcoming(after: now, count: 3) {
        case .disabled: return "<span class=\"muted\">disabled</span>"
        case .invalid(let problems): return "\(Layout.badge("invalid")) \(problems)"
        case .fireTimes(let times, let zone): return HTML.joined(times.map { "\(format($0, in: zone))" }, separator: "<br>")
        }
    }

    private static func tickList(_ ticks: [ScheduleTickRecord], zone: TimeZone) -> HTML {
        guard !ticks.isEmpty else { return "<span class=\"muted\">none yet</span>" }
        return HTML.joined(ticks.map { tick in
            let job: HTML = tick.jobID.map { "job \(Layout.jobLink($0)) \(Layout.badge(tick.jobState ?? "pruned"))" } ?? ""
            return "\(format(tick.fireTime, in: zone)) \(Layout.badge(tick.outcome)) \(job)"
        }, separator: "<br>")
    }

    private static func zone(of schedule: StoredSchedule) -> TimeZone {
        TimeZone(identifier: schedule.timeZone) ?? .gmt
    }

    /// `2026-03-29 02:30:00 +02:00`: the wall clock in the zone with its offset.
    private static func format(_ date: Date, in zone: TimeZone) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss xxx"
        return formatter.string(from: date)
    }
}
