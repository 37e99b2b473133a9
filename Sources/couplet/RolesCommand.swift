import ArgumentParser
import CommandSupport
import Foundation
import Postgres

/// `couplet roles`: give database logins one of Couplet's roles, take it back, and see who has which.
struct RolesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "roles",
        abstract: "Grant and revoke Couplet's database roles, and list their members.",
        discussion: """
            Couplet's migrations create four NOLOGIN roles with the least privileges each job needs: \
            couplet_admin (set up endpoints, mappings, schedules, couplings; steer jobs), couplet_worker \
            (what worker and scheduler processes do), couplet_reader (read status and logs) and \
            couplet_availability (the availability function only). Create a login and give it a role:

              CREATE ROLE couplet_worker_1 LOGIN PASSWORD '…';
              couplet roles grant couplet_worker couplet_worker_1

            Only these roles may connect to the coordination database. Granting needs a superuser, \
            a role with CREATEROLE, or ADMIN OPTION on the role.
            """,
        subcommands: [RolesCreateCommand.self, RolesGrantCommand.self, RolesRevokeCommand.self, RolesListCommand.self])
}

/// One of the roles that migration 0006 creates.
enum CoupletRole: String, ExpressibleByArgument, CaseIterable {
    case admin = "couplet_admin"
    case worker = "couplet_worker"
    case reader = "couplet_reader"
    case availability = "couplet_availability"

    /// The role's name, quoted for SQL.
    var identifier: PostgresIdentifier { try! PostgresIdentifier(rawValue) }
}

/// The ROLE and USER arguments that grant and revoke share, with the check that both exist.
struct RoleMembershipArguments: ParsableArguments {
    @Argument(help: "couplet_admin, couplet_worker, couplet_reader or couplet_availability.")
    var role: CoupletRole

    @Argument(help: "The database login (a role), e.g. couplet_worker_1. Case matters: it is a quoted identifier.")
    var user: String

    /// Refuses a name PostgreSQL cannot hold (empty, NUL, over 63 bytes) before connecting.
    func validate() throws {
        do { _ = try PostgresIdentifier(user, what: "user") } catch { throw ValidationError(error.message) }
    }

    /// The login's name, quoted for SQL (valid: `validate()` ran).
    var userIdentifier: PostgresIdentifier { try! PostgresIdentifier(user, what: "user") }

    /// Fails with a message saying what to do when the Couplet role or the login does not exist.
    func requireBothExist(on db: PostgresConnection) async throws {
        let names = [role.rawValue, user]
        let existing = Set(try await db.query("SELECT rolname::text FROM pg_roles WHERE rolname = ANY(\(names))", name: "find roles")
            .map { try $0.decode(String.self, at: 0) })
        guard existing.contains(role.rawValue) else {
            throw ValidationError("role \(role.rawValue) does not exist in this cluster: run couplet migrate first")
        }
        guard existing.contains(user) else {
            throw ValidationError("there is no role \"\(user)\": create the login first, e.g. CREATE ROLE \(userIdentifier.quoted) LOGIN PASSWORD '…'")
        }
    }

    /// Connects, checks that both roles exist, runs the GRANT or REVOKE `statement`, and prints `outcome`.
    func perform(_ statement: PostgresQuery, global: GlobalOptions, outcome: String) async throws {
        let logger = try global.makeLogger("couplet.roles")
        let db = try await global.connect(logger, applicationName: "couplet roles")
        try await requireBothExist(on: db)
        try await change(statement, on: db)
        print(outcome)
    }

    /// Runs a GRANT or REVOKE of the role; a refusal says who may do it.
    private func change(_ statement: PostgresQuery, on db: PostgresConnection) async throws {
        do {
            try await db.query(statement, name: "change role membership")
        } catch let error as PostgresError where error.sqlState == "42501" {
            throw ValidationError(
                "\(error.message): run this as a superuser, a role with CREATEROLE, or one with ADMIN OPTION on \(role.rawValue) (such as the user that migrates)")
        }
    }
}

/// `couplet roles create`: creates Couplet's roles for a database owner who may not create roles.
struct RolesCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create Couplet's roles, so that the coordination database's owner can migrate without CREATEROLE.",
        discussion: """
            Run once per cluster, before couplet migrate, as a superuser or a login with CREATEROLE, \
            connected to the coordination database: creates the NOLOGIN roles couplet_admin, \
            couplet_worker, couplet_reader, couplet_availability and couplet_definer unless they exist, \
            grants the first four to the database's owner WITH ADMIN OPTION (so it may couplet roles \
            grant them) and makes it a member of couplet_definer (which owns the availability function). \
            The owner then runs couplet migrate.
            """)

    @OptionGroup var global: GlobalOptions

    /// The role that owns Couplet's SECURITY DEFINER functions (migration 0013), besides the four of `CoupletRole`.
    static let definer = "couplet_definer"

    /// Creates the missing roles, grants them to the database's owner and says what it did.
    func run() async throws {
        let logger = try global.makeLogger("couplet.roles")
        let db = try await global.connect(logger, applicationName: "couplet roles create")
        let names = CoupletRole.allCases.map(\.rawValue) + [Self.definer]
        var created: [String] = []
        for name in names where try await Self.create(name, on: db) { created.append(name) }
        let owner = try await db.query(
            "SELECT pg_get_userbyid(datdba)::text FROM pg_database WHERE datname = current_database()", name: "find database owner")
            .single().decode(String.self, at: 0)
        let ownerIdentifier = try PostgresIdentifier(owner)
        for role in CoupletRole.allCases {
            try await db.query("GRANT \(role.identifier) TO \(ownerIdentifier) WITH ADMIN OPTION", name: "grant role to owner")
        }
        try await db.query("GRANT \(try PostgresIdentifier(Self.definer)) TO \(ownerIdentifier)", name: "grant definer to owner")
        print(created.isEmpty ? "Couplet's roles exist already." : "Created \(created.joined(separator: ", ")).")
        print("\(owner), the database's owner, may grant them and run couplet migrate.")
    }

    /// Creates the NOLOGIN role unless it exists (another cluster's database may be migrating at
    /// once: losing that race is fine); true when this call created it.
    private static func create(_ name: String, on db: PostgresConnection) async throws -> Bool {
        let role = try PostgresIdentifier(name)
        let exists = try await db.query("SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = \(name))", name: "find role")
            .single().decode(Bool.self, at: 0)
        guard !exists else { return false }
        do {
            try await db.query("CREATE ROLE \(role) NOLOGIN", name: "create role")
            return true
        } catch let error as PostgresError where error.sqlState == "42710" || error.sqlState == "23505" {
            return false
        } catch let error as PostgresError where error.sqlState == "42501" {
            throw CommandFailure(description: "\(error.message): run couplet roles create as a superuser or a login with CREATEROLE")
        }
    }
}

/// `couplet roles grant ROLE USER`: makes USER a member of ROLE.
struct RolesGrantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "grant", abstract: "Make a login a member of a Couplet role.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var membership: RoleMembershipArguments

    /// Grants the role, after checking that both roles exist.
    func run() async throws {
        try await membership.perform(
            "GRANT \(membership.role.identifier) TO \(membership.userIdentifier)", global: global,
            outcome: "\(membership.user) is a member of \(membership.role.rawValue).")
    }
}

/// `couplet roles revoke ROLE USER`: ends USER's membership of ROLE.
struct RolesRevokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Take a Couplet role away from a login.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var membership: RoleMembershipArguments

    /// Revokes the role, after checking that both roles exist.
    func run() async throws {
        try await membership.perform(
            "REVOKE \(membership.role.identifier) FROM \(membership.userIdentifier)", global: global,
            outcome: "\(membership.user) is not a member of \(membership.role.rawValue).")
    }
}

/// `couplet roles list`: each Couplet role and its direct members.
struct RolesListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Each Couplet role and the logins that are its members.")

    @OptionGroup var global: GlobalOptions

    /// Prints one line per Couplet role: its members, or that it has none or is missing.
    func run() async throws {
        let logger = try global.makeLogger("couplet.roles")
        let db = try await global.connect(logger, applicationName: "couplet roles")
        let rows = try await db.query(
            """
            SELECT r.name, r.name IN (SELECT rolname FROM pg_roles),
                   coalesce((SELECT array_agg(m.rolname::text ORDER BY m.rolname) FROM pg_auth_members a
                             JOIN pg_roles g ON g.oid = a.roleid JOIN pg_roles m ON m.oid = a.member
                             WHERE g.rolname = r.name), '{}')
            FROM unnest(\(CoupletRole.allCases.map(\.rawValue))) WITH ORDINALITY AS r(name, position)
            ORDER BY r.position
            """, name: "list role members")
        for row in rows {
            let (role, exists, members) = try row.decode((String, Bool, [String]).self)
            let shown = !exists ? "(missing: run couplet migrate)" : members.isEmpty ? "(no members)" : members.joined(separator: ", ")
            print("\(role.padding(toLength: 22, withPad: " ", startingAt: 0)) \(shown)")
        }
    }
}
