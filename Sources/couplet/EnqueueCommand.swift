import ArgumentParser
import CommandSupport
import Foundation
import Logging
import Postgres
import Queue

/// `couplet enqueue`: puts one job on the queue through `couplet.enqueue`, exactly as SQL would.
struct EnqueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enqueue",
        abstract: "Put a job on the queue and print its id.",
        discussion: """
            Calls couplet.enqueue in the coordination database. With --unique-key, a job with that \
            key that is still pending, running or on hold is returned instead of a new one, and the \
            command says so on standard error. A <duration> is whole numbers with units d, h, m and \
            s, largest first: 30s, 5m, 1h30m, 2d.

            Example: couplet enqueue sync.delta --args '{"mapping": "CUSTOMER"}' --queue sync --unique-key delta:CUSTOMER
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp(
        "What the job does, e.g. sync.delta (letters, digits and _ . : -).", valueName: "kind"))
    var kind: String

    @Option(help: ArgumentHelp("The job's arguments: a JSON object.", valueName: "json"))
    var args = "{}"

    @Option(help: ArgumentHelp("The queue to put it on (letters, digits and _ . : -).", valueName: "queue"))
    var queue = "default"

    @Option(help: ArgumentHelp("Its priority: 0 runs first, 9 runs last.", valueName: "0-9"))
    var priority = 5

    @Option(
        name: .customLong("run-at"),
        help: ArgumentHelp("When it may run: an ISO 8601 time such as 2025-06-01T09:30:00Z (default: now).", valueName: "time"),
        transform: JobTime.init(parsing:))
    var runAt: JobTime?

    @Option(
        name: .customLong("in"),
        help: ArgumentHelp("Run it after this long instead of now, e.g. 10m.", valueName: "duration"),
        transform: JobDuration.init(parsing:))
    var delay: JobDuration?

    @Option(help: ArgumentHelp("How many times it may be attempted before it fails for good.", valueName: "n"))
    var maxAttempts: Int32 = 5

    @Option(help: ArgumentHelp(
        "Enqueue nothing while a job with this key is pending, running or on hold; print that job's id.", valueName: "key"))
    var uniqueKey: String?

    @Option(help: ArgumentHelp("Never run at the same time as another job with this key.", valueName: "key"))
    var concurrencyKey: String?

    @Option(
        help: ArgumentHelp("Stop an attempt that runs longer than this, e.g. 15m.", valueName: "duration"),
        transform: JobDuration.init(parsing:))
    var timeout: JobDuration?

    @Option(
        name: .customLong("expires-in"),
        help: ArgumentHelp("Give up on the job if it has not started within this long, e.g. 1h.", valueName: "duration"),
        transform: JobDuration.init(parsing:))
    var expiresIn: JobDuration?

    /// Refuses values the database would refuse, with a message naming the option.
    func validate() throws {
        try Self.requireName(kind, "KIND", maxLength: 200)
        try Self.requireName(queue, "--queue", maxLength: 100)
        guard (0...9).contains(priority) else {
            throw ValidationError("--priority must be from 0 (runs first) to 9 (runs last), not \(priority).")
        }
        guard maxAttempts >= 1 else { throw ValidationError("--max-attempts must be at least 1, not \(maxAttempts).") }
        guard runAt == nil || delay == nil else {
            throw ValidationError("--run-at and --in both say when the job may run: give one of them.")
        }
        for (option, duration) in [("--timeout", timeout), ("--expires-in", expiresIn)] where duration?.seconds == 0 {
            throw ValidationError("\(option) must be longer than 0s.")
        }
        if let expiresIn, Double(expiresIn.seconds) <= runAt?.date.timeIntervalSinceNow ?? Double(delay?.seconds ?? 0) {
            throw ValidationError("--expires-in \(expiresIn) ends before the job may run: it would never start.")
        }
    }

    /// Refuses a kind or queue name that the table's CHECK constraint would refuse.
    private static func requireName(_ name: String, _ what: String, maxLength: Int) throws {
        let allowed = name.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "_.:-".unicodeScalars.contains($0)) }
        guard allowed, (1...maxLength).contains(name.count) else {
            throw ValidationError(
                "\(what) \"\(name)\" is not a valid name: use 1 to \(maxLength) letters, digits and _ . : - only.")
        }
    }

    /// Enqueues the job in one transaction and prints its id (noting on standard error when it already existed).
    func run() async throws {
        let logger = try global.makeLogger("couplet.enqueue")
        let connection = try await global.connect(logger, applicationName: "couplet enqueue")
        try await checkArgs(on: connection)
        let (id, heldState) = try await connection.withTransaction { try await enqueue(on: $0) }
        print(id)
        if let heldState, let uniqueKey {
            FileHandle.standardError.write(Data(
                "Job \(id) (\(heldState)) already holds unique key \"\(uniqueKey)\": no new job was enqueued.\n".utf8))
        }
    }

    /// Checks `--args` against the database's limits before sending it, then has the server parse
    /// it as jsonb, so it accepts exactly what the column accepts, and says what is wrong with it
    /// when it does not.
    private func checkArgs(on connection: PostgresConnection) async throws {
        let limits = try await JobArgumentLimits.enforced(on: connection)
        do { try limits.check(args) } catch { throw CommandFailure(description: "--args: \(error)") }
        let type: String
        do {
            type = try await connection.query("SELECT jsonb_typeof(\(args)::jsonb)", name: "check args").single().decode(String.self, at: 0)
        } catch let error as PostgresError where error.sqlState?.hasPrefix("22") == true {
            throw CommandFailure(description: "--args is not valid JSON: \(error.detail ?? error.message)")
        }
        guard type == "object" else {
            throw CommandFailure(description: "--args must be a JSON object, such as {\"mapping\": \"CUSTOMER\"}, not \(type == "array" ? "an" : "a") \(type).")
        }
    }

    /// Calls `couplet.enqueue` and returns the job's id, with its state when it is an existing job
    /// holding the unique key (a row this transaction did not insert has another `xmin`).
    private func enqueue(on transaction: PostgresConnection) async throws -> (Int64, String?) {
        let id = try await transaction.query("""
            SELECT couplet.enqueue(
                kind => \(kind), args => \(args)::jsonb, queue => \(queue), priority => \(Int32(priority)),
                run_at => coalesce(\(runAt?.date), now() + \(delay?.seconds) * interval '1 second'),
                max_attempts => \(maxAttempts), unique_key => \(uniqueKey), concurrency_key => \(concurrencyKey),
                timeout => \(timeout?.seconds) * interval '1 second',
                expires_at => now() + \(expiresIn?.seconds) * interval '1 second')
            """, name: "enqueue").single().decode(Int64.self, at: 0)
        let (inserted, state) = try await transaction.query(
            "SELECT xmin = pg_current_xact_id()::xid, state FROM couplet.jobs WHERE id = \(id)", name: "enqueued job"
        ).single().decode((Bool, String).self)
        return (id, inserted ? nil : state)
    }
}

/// A moment given on the command line in ISO 8601 with a UTC offset, e.g. `2025-06-01T09:30:00Z`.
struct JobTime: Sendable {
    /// The moment.
    let date: Date

    /// Parses ISO 8601 (fractional seconds allowed); the error shows what is expected.
    init(parsing text: String) throws(CommandFailure) {
        guard let date = try? Date(text, strategy: .iso8601) else {
            throw CommandFailure(
                description: "\"\(text)\" is not an ISO 8601 time: write it like 2025-06-01T09:30:00Z or 2025-06-01T11:30:00+02:00")
        }
        self.date = date
    }
}
