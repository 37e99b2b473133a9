import Foundation
import Postgres
import Sync
import Testing

@Suite("Endpoint directory finds connection strings without showing them")
struct EndpointDirectoryTests {
    @Test("a bad endpoint URL names the variable and the part, never the password")
    func badURL() {
        let directory = EndpointDirectory(environment: ["COUPLET_ENDPOINT_ERP_URL": "postgres://syncer:Sup3r%ZZSecret@db/erp"])
        let error = #expect(throws: PostgresError.self) { try directory.configuration(of: "erp") }
        #expect(error?.message == "COUPLET_ENDPOINT_ERP_URL is not a valid connection string: bad percent-escape in the password")
    }

    @Test("COUPLET_ENDPOINT_<NAME>_URL_FILE reads the string from a file, as systemd credentials and Kubernetes secrets provide it")
    func secretsFile() throws {
        let file = FileManager.default.temporaryDirectory.appending(path: "couplet-endpoint-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        try "postgres://syncer:Fil3Secret@db:6432/erp\n".write(to: file, atomically: true, encoding: .utf8)
        let directory = EndpointDirectory(environment: ["COUPLET_ENDPOINT_ERP_URL_FILE": file.path])
        let configuration = try directory.configuration(of: "erp")
        #expect(configuration.description == "syncer@db:6432/erp" && configuration.containsPassword)

        let both = EndpointDirectory(environment: ["COUPLET_ENDPOINT_ERP_URL_FILE": file.path, "COUPLET_ENDPOINT_ERP_URL": "host=db"])
        let twice = #expect(throws: PostgresError.self) { try both.configuration(of: "erp") }
        #expect(twice?.message == "set COUPLET_ENDPOINT_ERP_URL or COUPLET_ENDPOINT_ERP_URL_FILE, not both")

        let missing = EndpointDirectory(environment: ["COUPLET_ENDPOINT_ERP_URL_FILE": file.path + ".missing"])
        let unreadable = #expect(throws: PostgresError.self) { try missing.configuration(of: "erp") }
        #expect(unreadable?.message.hasPrefix("COUPLET_ENDPOINT_ERP_URL_FILE cannot be read: ") == true, "\(String(describing: unreadable))")

        try "postgres://syncer:Sup3r%ZZSecret@db/erp".write(to: file, atomically: true, encoding: .utf8)
        let bad = #expect(throws: PostgresError.self) { try directory.configuration(of: "erp") }
        #expect(bad?.message == "COUPLET_ENDPOINT_ERP_URL_FILE is not a valid connection string: bad percent-escape in the password")
    }
}
