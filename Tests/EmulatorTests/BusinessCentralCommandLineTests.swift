import Foundation
import Postgres
import PostgresTestSupport
import Testing

/// `couplet-emulator business-central` as a process: the secret from the environment, the port on stdout.
@Suite("couplet-emulator business-central")
struct BusinessCentralCommandLineTests {
    @Test("Prints the port, serves the companies given as NAME=SCHEMA, limits requests, never prints the secret, stops on SIGTERM")
    func serves() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            try await connection.runScript("CREATE SCHEMA cronus; CREATE TABLE cronus.customers (id uuid PRIMARY KEY, \"displayName\" text NOT NULL);", name: "setup")
            connection.close()
            let secret = "bc-cli-secret-\(UUID().uuidString)"
            let output = FileManager.default.temporaryDirectory.appending(path: "bc-emulator-\(UUID().uuidString).out")
            let errors = FileManager.default.temporaryDirectory.appending(path: "bc-emulator-\(UUID().uuidString).err")
            defer {
                try? FileManager.default.removeItem(at: output)
                try? FileManager.default.removeItem(at: errors)
            }
            _ = FileManager.default.createFile(atPath: output.path, contents: nil)
            _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
            let process = Process()
            process.executableURL = CommandLineTests.binary
            process.arguments = [
                "business-central", "--database", try CommandLineTests.url(database), "--port", "0", "--company", "CRONUS USA, Inc.=cronus",
                "--environment", "sandbox", "--request-limit", "3", "--resource", "https://api.businesscentral.dynamics.com",
            ]
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
            let address = try #require(base, "no 'listening on' line: \((try? String(contentsOf: errors, encoding: .utf8)) ?? "")")
            let form = "client_id=6a3b8f5e-2c1d-4e7a-9b0f-3d5c7e9a1b2c&client_secret=\(secret)&grant_type=client_credentials"
                + "&scope=\(Emulated.formEncoded("https://api.businesscentral.dynamics.com/.default"))"
            let token = try await Emulated.send(.POST, address + "/tenant/oauth2/v2.0/token", headers: [("Content-Type", "application/x-www-form-urlencoded")], body: form)
            let accessToken = try #require(token.json["access_token"]?.stringValue, "\(token.body)")
            let headers = [("Authorization", "Bearer \(accessToken)")]
            let root = address + "/v2.0/tenant/sandbox/api/v2.0/"
            let companies = try await Emulated.send(.GET, root + "companies", headers: headers, body: nil)
            let company = try #require(companies.json["value"]?.arrayValue?.first)
            #expect(company["name"] == .string("CRONUS USA, Inc."))
            let id = try #require(company["id"]?.stringValue)
            #expect(try await Emulated.send(.GET, root + "companies(\(id))/customers", headers: headers, body: nil).status == 200)
            #expect(try await Emulated.send(.GET, root + "companies", headers: headers, body: nil).status == 200)
            #expect(try await Emulated.send(.GET, root + "companies", headers: headers, body: nil).status == 429)

            process.terminate()
            for _ in 0..<100 where process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
            #expect(!process.isRunning)
            let printed = ((try? String(contentsOf: output, encoding: .utf8)) ?? "") + ((try? String(contentsOf: errors, encoding: .utf8)) ?? "")
            #expect(!printed.contains(secret))
        }
    }

    @Test("Refuses a company that is not NAME=SCHEMA, and a missing secret")
    func refusals() async throws {
        for (arguments, environment) in [
            (["business-central", "--database", "postgres://nowhere/none", "--company", "no schema"], ["COUPLET_EMULATOR_CLIENT_SECRET": "s"]),
            (["business-central", "--database", "postgres://nowhere/none"], [:]),
        ] {
            let process = Process()
            process.executableURL = CommandLineTests.binary
            process.arguments = arguments
            process.environment = ProcessInfo.processInfo.environment.filter { $0.key != "COUPLET_EMULATOR_CLIENT_SECRET" }.merging(environment) { $1 }
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            for _ in 0..<100 where process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
            #expect(!process.isRunning)
            #expect(process.terminationStatus != 0)
        }
    }
}
