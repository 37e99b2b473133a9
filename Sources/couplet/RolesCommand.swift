import ArgumentParser
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
        subcommands: [RolesGrantCommand.self, RolesRevokeCommand.self, RolesListCommand.self])
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
