import Foundation
import Postgres
import PostgresTestSupport
import Testing

/// `couplet-emulator dataverse` as a process: the secret from the environment, the port on stdout.
@Suite("couplet-emulator dataverse")
struct CommandLineTests {
    /// The binary beside `couplet` (`COUPLET_BINARY` when `deploy/test` set it).
    static var binary: URL { CoupletProcess.binary.deletingLastPathComponent().appending(path: "couplet-emulator") }

    /// The test database's URL: the server's from the environment, with the database's name.
    static func url(_ database: TestDatabase) throws -> String {
        guard let server = ProcessInfo.processInfo.environment["COUPLET_TEST_DATABASE_URL"],
            var components = URLComponents(string: server)
        else { throw HarnessError("COUPLET_TEST_DATABASE_URL is not set") }
        components.path = "/" + database.name
        guard let url = components.string else { throw HarnessError("no URL") }
        return url
    }

    @Test("Prints the port it listens on, takes the secret from the environment and never prints it, stops on SIGTERM")
    func serves() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            try await connection.runScript("CREATE TABLE account (accountid uuid PRIMARY KEY, name text NOT NULL);", name: "setup")
            connection.close()
            let secret = "cli-secret-\(UUID().uuidString)"
            let output = FileManager.default.temporaryDirectory.appending(path: "emulator-\(UUID().uuidString).out")
            let errors = FileManager.default.temporaryDirectory.appending(path: "emulator-\(UUID().uuidString).err")
            defer {
                try? FileManager.default.removeItem(at: output)
                try? FileManager.default.removeItem(at: errors)
            }
            _ = FileManager.default.createFile(atPath: output.path, contents: nil)
            _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
            let process = Process()
            process.executableURL = Self.binary
            process.arguments = ["dataverse", "--database", try Self.url(database), "--port", "0", "--request-limit", "2"]
            process.environment = ProcessInfo.processInfo.environment.merging(["COUPLET_EMULATOR_CLIENT_SECRET": secret]) { $1 }
            process.standardOutput = try FileHandle(forWritingTo: output)
            process.standardError = try FileHandle(forWritingTo: errors)
            try process.run()
            defer { if process.isRunning { process.terminate() } }

            var base: String?
            for _ in 0..<300 where base == nil {
                let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
                if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("listening on http://127.0.0.1:") }) {
                    base = String(line.dropFirst("listening on ".count))
                }
                if base == nil { try await Task.sleep(for: .milliseconds(100)) }
            }
            let root = try #require(base, "no 'listening on' line: \((try? String(contentsOf: errors, encoding: .utf8)) ?? "")")
            let form = "client_id=51f81489-12ee-4a9e-aaae-a2591f45987d&client_secret=\(secret)&grant_type=client_credentials&scope=\(Emulated.formEncoded(root + "/.default"))"
            let token = try await Emulated.send(.POST, root + "/tenant/oauth2/v2.0/token", headers: [("Content-Type", "application/x-www-form-urlencoded")], body: form)
            let accessToken = try #require(token.json["access_token"]?.stringValue, "\(token.body)")
            let headers = [("Authorization", "Bearer \(accessToken)")]
            do {
                let value = try await Emulated.send(.GET, root + "/api/data/v9.2/accounts", headers: headers, body: nil).status
                #expect(value == 200)
            }
            do {
                let value = try await Emulated.send(.GET, root + "/api/data/v9.2/accounts", headers: headers, body: nil).status
                #expect(value == 200)
            }
            do {
                let value = try await Emulated.send(.GET, root + "/api/data/v9.2/accounts", headers: headers, body: nil).status
                #expect(value == 429)
            }

            process.terminate()
            for _ in 0..<100 where process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
            #expect(!process.isRunning)
            let printed = ((try? String(contentsOf: output, encoding: .utf8)) ?? "") + ((try? String(contentsOf: errors, encoding: .utf8)) ?? "")
            #expect(!printed.contains(secret))
        }
    }

    @Test("Refuses to start without COUPLET_EMULATOR_CLIENT_SECRET")
    func secretRequired() async throws {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = ["dataverse", "--database", "postgres://nowhere/none"]
        process.environment = ProcessInfo.processInfo.environment.filter { $0.key != "COUPLET_EMULATOR_CLIENT_SECRET" }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<100 where process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        #expect(!process.isRunning)
        #expect(process.terminationStatus != 0)
    }
}
