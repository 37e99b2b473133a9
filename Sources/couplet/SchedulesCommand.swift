import ArgumentParser
import CommandSupport
import Cron
import Foundation
import Postgres

/// `couplet schedules`: declare cron schedules in a file, apply it, and see what will fire when.
struct SchedulesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedules",
        abstract: "Apply, validate and list the cron schedules that the scheduler turns into jobs.",
        discussion: """
            Schedules live in couplet.schedules. Keep them in a YAML file under version control:

              schedules:
                - name: customer-delta
                  cron: "*/5 * * * *"
                  timezone: Europe/Oslo
                  job: sync.delta
                  args: {mapping: CUSTOMER}

            and apply it with couplet schedules apply FILE. Optional keys: queue, priority (0-9), \
            max_attempts, concurrency_key (such as sync:CUSTOMER), misfire (skip or run_once), catch_up_window \
            (such as 2h), no_overlap, retry_delay (such as 30s: a failed attempt runs again after exactly \
            that, Business Central's rerun delay), inactivity_timeout (such as 24h: hold the ticks after a job that found \
            nothing to do, until a worker's probe finds work or the timeout passes; 0s: until woken), enabled.
            """,
        subcommands: [
            SchedulesApplyCommand.self, SchedulesValidateCommand.self, SchedulesListCommand.self, SchedulesNextCommand.self,
            SchedulesWakeCommand.self,
        ])
}

/// `couplet schedules apply FILE`: makes the stored schedules match the file.
struct SchedulesApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Create, update (and with --prune delete) schedules so that the database matches FILE.",
        discussion: """
            Validates the whole file first and writes nothing when any schedule is wrong: every \
            problem is printed as FILE:LINE:COLUMN: message. The changes are made in one transaction; \
            a running scheduler picks them up at once.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The schedules file (YAML).", completion: .file())
    var file: String

    @Flag(help: "Delete stored schedules that are not in the file.")
    var prune = false

    @Flag(help: "Show what would change without writing anything.")
    var dryRun = false

    func run() async throws {
        let definitions = try ScheduleFileInput.read(file)
        let logger = try global.makeLogger("couplet.schedules")
        let connection = try await global.connect(logger, applicationName: "couplet schedules apply")
        defer { connection.close() }
        let report = dryRun
            ? try await ScheduleStore.plan(definitions, prune: prune, on: connection)
            : try await ScheduleStore.apply(definitions, prune: prune, on: connection)
        for line in Self.describe(report, file: file, dryRun: dryRun) { print(line) }
    }

    /// One line per schedule created, updated or deleted, then a summary.
    static func describe(_ report: ApplyReport, file: String, dryRun: Bool) -> [String] {
        let verbs = dryRun ? ("would create", "would update", "would delete") : ("created", "updated", "deleted")
        var lines = report.created.map { "\(verbs.0.padded(to: 13)) \($0)" }
        lines += report.updated.map { "\(verbs.1.padded(to: 13)) \($0)" }
        lines += report.deleted.map { "\(verbs.2.padded(to: 13)) \($0)" }
        let counts = "\(report.created.count) created, \(report.updated.count) updated, \(report.unchanged.count) unchanged, "
            + "\(report.deleted.count) deleted"
        lines.append(dryRun ? "\(file) (dry run, nothing written): \(counts)." : "\(file): \(counts).")
        if !report.retained.isEmpty {
            lines.append(
                "Kept \(report.retained.count) stored schedule(s) not in \(file) (--prune deletes them): "
                    + report.retained.joined(separator: ", "))
        }
        return lines
    }
}

/// `couplet schedules validate FILE`: checks a schedules file without a database.
struct SchedulesValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a schedules file; print every problem as FILE:LINE:COLUMN: message.")

    @Argument(help: "The schedules file (YAML).", completion: .file())
    var file: String

    func run() throws {
        let definitions = try ScheduleFileInput.read(file)
        print("\(file): \(definitions.count) schedule(s), all valid.")
    }
}

/// Reading a schedules file for a command: problems go to standard error and the command fails.
enum ScheduleFileInput {
    /// The definitions in `path`, or exit status 1 after printing every problem.
    static func read(_ path: String) throws -> [ScheduleDefinition] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            printError("Error: cannot read \(path): \(error.localizedDescription)")
            throw ExitCode.failure
        }
        do {
            return try ScheduleFile.parse(text, file: path)
        } catch {
            for problem in error.problems { printError(problem.description) }
            printError("\(path): \(error.problems.count) problem(s).")
            throw ExitCode.failure
        }
    }
}

/// Writes `line` to standard error.
func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

extension Date {
    /// ISO 8601 in `zone` with the offset from UTC, e.g. `2025-03-30T03:00:00+02:00` (`+00:00`, never `Z`).
    func iso8601(in zone: TimeZone) -> String {
        let text = formatted(Date.ISO8601FormatStyle(timeZoneSeparator: .colon, timeZone: zone))
        return text.hasSuffix("Z") ? text.dropLast() + "+00:00" : text
    }
}

/// `couplet schedules wake NAME`: ends a schedule's hold and enqueues its job now.
struct SchedulesWakeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wake",
        abstract: "End the hold of a schedule on hold after an idle job: enqueue its job now.",
        discussion: """
            A schedule with an inactivity_timeout holds its ticks after a job that found nothing to do; \
            workers wake it when its job's probe finds work. This wakes it by hand (a woken tick in \
            couplet.schedule_ticks). A schedule that is not on hold is left alone.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The schedule's name.")
    var name: String

    func run() async throws {
        let logger = try global.makeLogger("couplet.schedules")
        let connection = try await global.connect(logger, applicationName: "couplet schedules wake")
        defer { connection.close() }
        if let job = try await ScheduleStore.wake(name, on: connection) {
            print("Woke \(name): job \(job) enqueued.")
        } else {
            print("\(name) is not on hold (or is disabled, or does not exist): nothing enqueued.")
        }
    }
}
