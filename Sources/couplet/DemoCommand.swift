import ArgumentParser
import Demo
import Foundation
import Postgres
import Sync

/// `couplet demo`: the demo ERP (Business Central-shaped) and CRM (Dataverse-shaped) databases.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Create and fill the demo ERP and CRM databases, or make a few realistic edits to them.",
        discussion: """
            Both commands connect to the endpoints erp and crm through COUPLET_ENDPOINT_ERP_URL and \
            COUPLET_ENDPOINT_CRM_URL, as the workers do; they never touch the coordination database.
            """,
        subcommands: [DemoSeedCommand.self, DemoEditCommand.self])

    /// Connections to the demo endpoints `erp` and `crm`, found as the workers find them.
    static func connectEndpoints() async throws -> (erp: PostgresConnection, crm: PostgresConnection) {
        let directory = EndpointDirectory()
        let erp = try await PostgresConnection.connect(try directory.configuration(of: "erp"), applicationName: "couplet demo")
        let crm = try await PostgresConnection.connect(try directory.configuration(of: "crm"), applicationName: "couplet demo")
        return (erp, crm)
    }
}

/// `couplet demo seed`: creates the demo tables and fills them with deterministic data.
struct DemoSeedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed",
        abstract: "Create the demo ERP and CRM tables and fill them (the same --seed gives the same data).",
        discussion: """
            Refuses when the demo tables exist and hold data, unless --reset, which drops and recreates \
            them. Dates are relative to today (UTC): some invoices are overdue.
            """)

    @Option(help: "ERP customers to make.")
    var customers = 1000

    @Option(help: "ERP items to make.")
    var items = 500

    @Option(help: "The seed of every random choice.")
    var seed: UInt64 = 1

    @Flag(help: "Drop and recreate the demo tables even when they hold data.")
    var reset = false

    @Option(help: "The ERP's shape: postgres (the demo ERP's tables) or business-central (entity sets of Business Central's API v2.0, for couplet-emulator business-central).")
    var erp = DemoERPShape.postgres

    func validate() throws {
        guard customers >= 5, items >= 5 else { throw ValidationError("--customers and --items must be at least 5") }
    }

    func run() async throws {
        let (erp, crm) = try await DemoCommand.connectEndpoints()
        defer {
            erp.close()
            crm.close()
        }
        let started = ContinuousClock.now
        let seeder = DemoSeeder(seed: seed, size: DemoSize(customers: customers, items: items), today: DemoDay(Date()))
        let counts = try await seeder.seed(erp: erp, crm: crm, reset: reset, shape: self.erp)
        for count in counts { print("\(count.endpoint).\(count.table)".padding(toLength: 30, withPad: " ", startingAt: 0) + "\(count.rows)") }
        let elapsed = ContinuousClock.now - started
        print("Seeded \(counts.reduce(0) { $0 + $1.rows }) rows with seed \(seed) in \(elapsed.formatted(.units(allowed: [.seconds], fractionalPart: .show(length: 1)))).")
    }
}

/// `--erp postgres|business-central`.
extension DemoERPShape: ExpressibleByArgument {}

/// `couplet demo edit`: a few realistic changes on both sides, printed one per line.
struct DemoEditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edit",
        abstract: "Make a few realistic edits in the demo ERP and CRM, so that delta syncs have something to carry.",
        discussion: """
            Renames and readdresses ERP customers, changes CRM account phone numbers and websites, posts \
            invoices and payments, receives items and adds order lines; prints each change.
            """)

    @Option(help: "How many records each kind of edit touches.")
    var count = 3

    @Option(help: "The seed of every choice (default: the current time, so each run differs).")
    var seed: UInt64?

    func run() async throws {
        let (erp, crm) = try await DemoCommand.connectEndpoints()
        defer {
            erp.close()
            crm.close()
        }
        let seed = seed ?? UInt64(Date().timeIntervalSince1970)
        let changes = try await DemoEditor(seed: seed, count: count, today: DemoDay(Date())).edit(erp: erp, crm: crm)
        for change in changes { print(change) }
        print("\(changes.count) change(s) with seed \(seed).")
    }
}
