import ArgumentParser
import Cron
import Foundation

/// `couplet schedules next EXPR`: when an expression fires, to check a schedule before applying it.
struct SchedulesNextCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "next",
        abstract: "Print the next fire times of a cron expression, one ISO 8601 time per line.",
        discussion: """
            Times are printed in the expression's zone (its CRON_TZ=, else --tz, else UTC) with their \
            offset from UTC, so daylight-saving changes show: in Europe/Oslo, '30 2 * * *' fires at \
            2025-03-30T03:00:00+02:00 when 02:30 does not exist. Needs no database.
            """)

    @Argument(help: "The cron expression; quote it, as in '*/5 * * * *'.")
    var expression: [String]

    @Option(name: .customLong("tz"), help: ArgumentHelp("The IANA zone to evaluate in, such as Europe/Oslo.", valueName: "zone"))
    var zoneName: String?

    @Option(name: [.customShort("n"), .customLong("count")], help: "How many fire times to print.")
    var count = 10

    @Option(help: ArgumentHelp("Start after this instant, ISO 8601 with an offset (default: now).", valueName: "time"))
    var after: String?

    func validate() throws {
        guard count >= 1 else { throw ValidationError("-n must be at least 1") }
        if let after, Self.instant(after) == nil {
            throw ValidationError("--after \(after) is not an ISO 8601 time with an offset, such as 2025-03-30T00:00:00+01:00")
        }
    }

    func run() throws {
        let text = expression.joined(separator: " ")
        let cron: CronExpression
        do {
            cron = try CronExpression(text)
        } catch {
            Self.fail(["Error: \(error)", "  \(text)", "  " + String(repeating: " ", count: error.position - 1) + "^"])
        }
        guard cron.canEverFire else { Self.fail(["Error: the expression \"\(text)\" can never fire: no date matches it"]) }
        let zone: TimeZone
        do { zone = try cron.scheduleZone(named: zoneName).zone } catch {
            Self.fail(error.problems.map { "Error: \($0.message)" })
        }
        let start = after.flatMap(Self.instant) ?? Date()
        for time in cron.fireTimes(after: start, count: count, in: zone) { print(time.iso8601(in: zone)) }
    }

    private static func instant(_ text: String) -> Date? {
        try? Date(text, strategy: .iso8601)
    }

    private static func fail(_ lines: [String]) -> Never {
        for line in lines { printError(line) }
        Self.exit(withError: ExitCode.failure)
    }
}
