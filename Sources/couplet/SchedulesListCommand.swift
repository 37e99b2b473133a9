import ArgumentParser
import CommandSupport
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
            LAST JOB is the state of the job that the last tick enqueued; KEY is the concurrency key \
            of the schedule's jobs (- for none); HOLD says until when a schedule with an inactivity_timeout \
            holds its ticks after a job that found nothing to do (couplet schedules wake NAME ends it).
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
        var table = TextTable(
            header: ["NAME", "EXPRESSION", "ZONE", "ENABLED", "JOB", "NEXT FIRE TIMES", "LAST TICK", "LAST JOB", "KEY", "HOLD"])
        table.rows = schedules.map { Self.row($0, now: now) }
        table.lines().forEach { print($0) }
    }

    /// The columns of one schedule.
    static func row(_ schedule: StoredSchedule, now: Date) -> [String] {
        [
            schedule.name, schedule.expression, schedule.timeZone, schedule.isEnabled ? "yes" : "no", schedule.jobKind,
            ScheduleText.nextFireTimes(schedule, after: now, count: 3),
            schedule.lastTick.map { $0.fireTime.iso8601(in: ScheduleText.zone(of: schedule)) } ?? "-",
            ScheduleText.lastJob(schedule.lastTick), schedule.concurrencyKey ?? "-", ScheduleText.hold(schedule),
        ]
    }
}
