import CoupletSchema
import Foundation
import Postgres
import PostgresTestSupport
import Testing

@Suite("couplet migrate, status and help, as processes")
struct MigrateCommandTests {
    @Test("ten couplet migrate processes started at once apply each migration exactly once")
    func concurrentProcesses() async throws {
        try await TestDatabase.with { database in
            let environment = ["COUPLET_DATABASE_URL": database.configuration.connectionString]
            let outcomes = try await withThrowingTaskGroup(of: CoupletProcess.Outcome.self) { group in
                for _ in 0..<10 { group.addTask { try await CoupletProcess.run(["migrate"], environment: environment) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for outcome in outcomes { #expect(outcome.status == 0, "\(outcome.standardError)") }
            let appliedLines = outcomes.flatMap { $0.standardError.split(separator: "\n") }.filter { $0.contains("applied migration") }
            #expect(appliedLines.count == CoupletSchema.migrations.count)
            let db = try await database.connect()
            let versions = try await db.query("SELECT version FROM couplet.schema_migrations ORDER BY version")
                .map { try $0.decode(Int.self, at: 0) }
            #expect(versions == CoupletSchema.migrations.map(\.version))

            let status = try await CoupletProcess.run(["migrate", "--status"], environment: environment)
            #expect(status.status == 0)
            for migration in CoupletSchema.migrations {
                #expect(status.standardOutput.contains("\(migration.name)"))
            }
            #expect(!status.standardOutput.contains("pending"))
        }
    }

    @Test("couplet status says how far the schema is")
    func status() async throws {
        try await TestDatabase.with { database in
            let environment = ["COUPLET_DATABASE_URL": database.configuration.connectionString]
            let before = try await CoupletProcess.run(["status"], environment: environment)
            #expect(before.status == 0)
            #expect(before.standardOutput.contains("0 of \(CoupletSchema.migrations.count) migrations applied"))
            #expect(before.standardOutput.contains("run couplet migrate"))
            _ = try await CoupletProcess.run(["migrate"], environment: environment)
            let after = try await CoupletProcess.run(["status"], environment: environment)
            #expect(after.standardOutput.contains("up to date"))
        }
    }

    @Test("without a database the command says how to name one")
    func missingDatabase() async throws {
        let outcome = try await CoupletProcess.run(["migrate"])
        #expect(outcome.status != 0)
        #expect(outcome.standardError.contains("set COUPLET_DATABASE_URL or COUPLET_DATABASE_URL_FILE, or pass --database-url"))
    }

    @Test("a wrong password is reported without the password, on any channel")
    func wrongPassword() async throws {
        let server = try TestDatabase.server()
        let url = "postgres://\(server.user ?? "couplet"):Tr0ub4dor-and-3@\(server.host ?? "127.0.0.1"):\(server.port ?? "5432")/postgres"
        for arguments in [["migrate"], ["migrate", "--database-url", url], ["status", "--log-format", "json"]] {
            let outcome = try await CoupletProcess.run(arguments, environment: ["COUPLET_DATABASE_URL": url])
            #expect(outcome.status != 0)
            #expect(outcome.standardError.contains("password authentication failed"))
            #expect(!(outcome.standardOutput + outcome.standardError).contains("Tr0ub4dor-and-3"))
        }
    }

    @Test("an invalid log level in the environment is refused with the valid ones")
    func invalidLogLevel() async throws {
        let outcome = try await CoupletProcess.run(
            ["status"], environment: ["COUPLET_LOG_LEVEL": "loud", "COUPLET_DATABASE_URL": "postgres://x@127.0.0.1:1/x"])
        #expect(outcome.status != 0)
        #expect(outcome.standardError.contains("COUPLET_LOG_LEVEL=loud is not valid"))
    }

    @Test("JSON log lines are one JSON object each")
    func jsonLogs() async throws {
        try await TestDatabase.with { database in
            let outcome = try await CoupletProcess.run(
                ["migrate", "--log-format", "json"],
                environment: ["COUPLET_DATABASE_URL": database.configuration.connectionString])
            #expect(outcome.status == 0)
            let lines = outcome.standardError.split(separator: "\n")
            #expect(lines.count == CoupletSchema.migrations.count)
            for line in lines {
                let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                #expect(object?["message"] as? String == "applied migration")
                #expect(object?["level"] as? String == "info")
            }
        }
    }

    @Test("every command's help reads and exits 0", arguments: [
        ["--help"], ["migrate", "--help"], ["status", "--help"], ["bench", "--help"], ["bench", "roundtrip", "--help"],
    ])
    func help(arguments: [String]) async throws {
        let outcome = try await CoupletProcess.run(arguments)
        #expect(outcome.status == 0)
        #expect(outcome.standardOutput.contains("USAGE: couplet"))
    }
}
