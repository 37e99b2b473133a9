import Foundation
import Postgres
import PostgresTestSupport
import Testing

@Suite("Connection strings: errors name the setting, never a value")
struct ConnectionStringTests {
    @Test(
        "a malformed string is refused with the setting that is wrong and none of its text",
        arguments: [
            ("postgres://syncer:b64/Pass+Word@127.0.0.1:55432/couplet", "Pass+Word",
             "an '@' follows the host: write '/' in the user name or password as %2F"),
            ("postgres://syncer:Sup3r%ZZSecret@127.0.0.1/couplet", "Sup3r", "bad percent-escape in the password"),
            ("postgres://syncer:Sup3r%00Secret@127.0.0.1/couplet", "Sup3r", "%00 in the password"),
            ("postgres://syncer@db:5x32/couplet", "5x32", "the port is not a number"),
            ("postgres://syncer@db/couplet?sslmode=require&Sup3rSecret=1", "Sup3rSecret", "query parameter 2 is not a known setting"),
            ("host=db password=Kw Secret99 dbname=couplet", "Secret99",
             "the text after password= is not keyword=value (quote a value that contains spaces)"),
            ("host=db password='Kw Secret99", "Secret99", "the quoted value of password= has no closing quote"),
            ("host=db Secret99=x", "Secret99", "the setting after host= is not a known keyword"),
        ])
    func malformed(text: String, secret: String, reason: String) {
        let error = #expect(throws: PostgresError.self) { try PostgresConfiguration(text, source: "COUPLET_ENDPOINT_ERP_URL") }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.message == "COUPLET_ENDPOINT_ERP_URL is not a valid connection string: \(reason)")
        #expect(error.map { !String(reflecting: $0).contains(secret) } == true)
    }

    @Test("URLs and keyword strings parse as libpq reads them")
    func parses() throws {
        let url = try PostgresConfiguration("postgresql://u%40x:p%2Fw@[::1]:6432,db2:7000/sales%20db?sslmode=require&ssl=true")
        #expect(url.description == "u@x@::1,db2:6432,7000/sales db")
        #expect(url.containsPassword)
        let keywords = try PostgresConfiguration(#"host = db  port=6432 user='o\'brien' password=a\ b dbname="#)
        #expect(keywords.description == "o'brien@db:6432/o'brien")
        #expect(keywords.containsPassword)
    }

    @Test("a libpq connect error is scrubbed of every option value")
    func connectErrorScrubbed() async throws {
        let server = try TestDatabase.server()
        let text = "host=\(server.host ?? "127.0.0.1") port=\(server.port ?? "5432") user=nosuchuser password=Sup3rSecret sslmode=Sslm0deSecret"
        let error = await #expect(throws: PostgresError.self) { try await PostgresConnection.connect(text) }
        let message = error.map { String(reflecting: $0) } ?? ""
        #expect(!message.contains("Sup3rSecret") && !message.contains("Sslm0deSecret"), "\(message)")
        #expect(message.contains("cannot connect to nosuchuser@"), "\(message)")
    }

    @Test("libpqEnvironment hands every setting to another client through libpq's variables, and refuses one without a variable")
    func libpqEnvironment() throws {
        let server = try TestDatabase.server()
        let psql = Process()
        psql.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        psql.arguments = ["psql", "-X", "-A", "-t", "-c", "SELECT current_database() || ' ' || current_setting('application_name')"]
        psql.environment = try server.replacingDatabase(with: "template1").libpqEnvironment()
            .merging(["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin", "PGAPPNAME": "peer client"]) { $1 }
        let output = Pipe()
        psql.standardOutput = output
        try psql.run()
        let answer = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        psql.waitUntilExit()
        #expect(psql.terminationStatus == 0)
        #expect(answer.trimmingCharacters(in: .whitespacesAndNewlines) == "template1 peer client")

        let keepalives = try PostgresConfiguration("host=db keepalives=1 password=Sup3rSecret")
        let error = #expect(throws: PostgresError.self) { try keepalives.libpqEnvironment() }
        #expect(error?.message == "the setting keepalives has no libpq environment variable to pass it to another client")
    }
}
