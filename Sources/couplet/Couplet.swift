import ArgumentParser
import Benchmarks
import CoupletSchema

/// The `couplet` command: one binary for the migrations, the worker pool, the scheduler and the tools.
@main
struct Couplet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "couplet",
        abstract: "Keep an ERP and a CRM in step: a Postgres-backed job queue that runs table-mapping syncs.",
        discussion: """
            Every command talks to the coordination database named by COUPLET_DATABASE_URL (or \
            --database-url), a postgres:// URL or a libpq keyword string. Prefer the environment \
            variable or a ~/.pgpass file for passwords: a password on the command line is visible \
            to other users in the process list.
            """,
        version: version,
        subcommands: [
            MigrateCommand.self, StatusCommand.self, WorkerCommand.self, SchedulerCommand.self, SchedulesCommand.self,
            MappingsCommand.self, EnqueueCommand.self, JobsCommand.self, SyncCommand.self, CoupleCommand.self,
            UncoupleCommand.self, ResolveCommand.self, MatchCommand.self, CoupleSalespeopleCommand.self, ReviewCommand.self, RolesCommand.self,
            VerifyCommand.self, ErrorsCommand.self, AvailabilityCommand.self, WebCommand.self, DemoCommand.self, BenchCommand.self,
        ]
    )

    /// What `couplet --version` prints: the release, and the newest schema migration the binary carries.
    static let version = "couplet \(release), schema \(CoupletSchema.migrator.migrations.last?.version ?? 0)"

    /// The release this source tree builds.
    static let release = "0.16.0"
}
