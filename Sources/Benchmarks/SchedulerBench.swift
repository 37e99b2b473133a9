import ArgumentParser
import CommandSupport
import CoupletSchema
import Foundation
import Postgres

/// `couplet bench scheduler`: how long the leader takes to enqueue many schedules due in the same minute.
struct SchedulerBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scheduler",
        abstract: "Time for a leading scheduler to enqueue N schedules that fall due in the same minute.",
        discussion: """
            Runs in a scratch database it creates and drops: N schedules `0 12 * * *`, and a real \
            `couplet scheduler` process whose simulated clock reaches 12:00 three seconds after it starts. \
            Reports the time from 12:00 until every tick and its job are committed. Use a release build.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: "Schedules due in the same minute.")
    var schedules = 10_000

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func run() async throws {
        let server = try BenchSupport.server(global)
        let seconds = try await BenchSupport.withScratchDatabase(on: server) { database in
            let db = try await PostgresConnection.connect(database, applicationName: "couplet bench")
            try await CoupletSchema.migrator.migrate(on: db)
            try await db.query(
                """
                INSERT INTO couplet.schedules (name, expression, job_kind)
                SELECT 'bench-' || n, '0 12 * * *', 'diagnostic.noop' FROM generate_series(1, \(schedules)) AS n
                """)
            let dueAt = Date().addingTimeInterval(3)
            let scheduler = try BenchSupport.startChild(
                ["scheduler", "--simulate-from", "2026-06-01T11:59:57Z", "--simulate-anchor", "\(dueAt.timeIntervalSince1970 - 3)"],
                database: database)
            defer { scheduler.terminate() }
            while try await db.query("SELECT count(*) FROM couplet.jobs").single().decode(Int.self, at: 0) < schedules {
                guard Date().timeIntervalSince(dueAt) < 300 else { throw ValidationError("the scheduler did not finish in 5 minutes") }
                try await Task.sleep(for: .milliseconds(10))
            }
            return Date().timeIntervalSince(dueAt)
        }
        let rate = Double(schedules) / seconds
        if json {
            print(#"{"schedules": \#(schedules), "enqueue_seconds": \#((seconds * 1000).rounded() / 1000), "ticks_per_s": \#(Int(rate))}"#)
        } else {
            print("\(schedules) schedules due at the same minute: enqueued in \(String(format: "%.3f", seconds)) s (\(Int(rate)) ticks/s)")
        }
    }
}
