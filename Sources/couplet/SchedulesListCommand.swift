import ArgumentParser
import Cron
import Foundation
import Postgres

/// `couplet schedules list`: every stored schedule, when it fires next, and how its last tick went.
struct SchedulesListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the stored schedules with their next three fire times and their last tick.",
        discussion: """
            Fire times are computed here from each schedule's expression, in the schedule's own zone. \
            LAST JOB is the state of the job that the last tick enqueued.
            """)

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let logger = try global.makeLogger("couplet.schedules")
        let connection = try await global.connect(logger, applicationName: "couplet schedules list")
        defer { connection.close() }
        let schedules = try await ScheduleStore.list(on: connection)
        guard !schedules.isEmpty else {
            print("No schedules. Apply a schedules file with: couplet schedules apply FILE")
            return
        }
        let now = Date()
        let header = ["NAME", "EXPRESSION", "ZONE", "ENABLED", "JOB", "NEXT FIRE TIMES", "LAST TICK", "LAST JOB"]
        for line in Self.table([header] + schedules.map { Self.row($0, now: now) }) { print(line) }
    }

    /// The columns of one schedule.
    static func row(_ schedule: StoredSchedule, now: Date) -> [String] {
        let zone = TimeZone(identifier: schedule.timeZone) ?? TimeZone(identifier: "UTC")!
        return [
            schedule.name, schedule.expression, schedule.timeZone, schedule.isEnabled ? "yes" : "no", schedule.jobKind,
            nextFireTimes(schedule, after: now), schedule.lastTick.map { $0.fireTime.iso8601(in: zone) } ?? "-",
            lastJob(schedule.lastTick),
        ]
    }

    /// The next three fire times, or why there are none.
    private static func nextFireTimes(_ schedule: StoredSchedule, after now: Date) -> String {
        guard schedule.isEnabled else { return "disabled" }
        do {
            let definition = try schedule.definition()
            let zone = definition.zone
            return definition.expression.fireTimes(after: now, count: 3, in: zone).map { $0.iso8601(in: zone) }
                .joined(separator: ", ")
        } catch {
            return "invalid: \(error.problems.map(\.message).joined(separator: "; "))"
        }
    }

    private static func lastJob(_ tick: StoredSchedule.Tick?) -> String {
        guard let tick else { return "-" }
        let state = tick.jobState?.rawValue ?? "pruned"
        return tick.outcome == "skipped_overlap" ? "skipped: previous job \(state)" : state
    }

    /// Rows as lines of left-aligned columns two spaces apart.
    static func table(_ rows: [[String]]) -> [String] {
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, text in column == row.count - 1 ? text : text.padded(to: widths[column]) }
                .joined(separator: "  ")
        }
    }
}
