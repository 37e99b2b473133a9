import Foundation
import Testing
@testable import ODataConnector

@Suite struct EndpointSecretTests {
    private func temporaryFile(_ contents: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("couplet-secret-\(UUID().uuidString)").path
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func variableNamesFollowTheEndpointName() {
        #expect(EndpointSecret.variableName(endpoint: "crm") == "COUPLET_ENDPOINT_CRM_SECRET")
        #expect(EndpointSecret.variableName(endpoint: "bc-prod.eu") == "COUPLET_ENDPOINT_BC_PROD_EU_SECRET")
    }

    @Test func theVariableIsRead() throws {
        let secret = try EndpointSecret.read(endpoint: "crm", environment: ["COUPLET_ENDPOINT_CRM_SECRET": "abc"])
        #expect(secret.reveal() == "abc")
    }

    @Test func theFileLosesOneTrailingNewline() throws {
        for (contents, expected) in [("abc\n", "abc"), ("abc\r\n", "abc"), ("abc\n\n", "abc\n"), ("abc", "abc")] {
            let path = try temporaryFile(contents)
            defer { try? FileManager.default.removeItem(atPath: path) }
            let secret = try EndpointSecret.read(endpoint: "crm", environment: ["COUPLET_ENDPOINT_CRM_SECRET_FILE": path])
            #expect(secret.reveal() == expected)
        }
    }

    @Test func unusableSettingsAreRefusedWithoutTheSecret() throws {
        let big = try temporaryFile(String(repeating: "x", count: 100))
        let empty = try temporaryFile("\n")
        defer { try? FileManager.default.removeItem(atPath: big); try? FileManager.default.removeItem(atPath: empty) }
        let cases: [[String: String]] = [
            [:],
            ["COUPLET_ENDPOINT_CRM_SECRET": "hunter2", "COUPLET_ENDPOINT_CRM_SECRET_FILE": big],
            ["COUPLET_ENDPOINT_CRM_SECRET": ""],
            ["COUPLET_ENDPOINT_CRM_SECRET_FILE": big],
            ["COUPLET_ENDPOINT_CRM_SECRET_FILE": empty],
            ["COUPLET_ENDPOINT_CRM_SECRET_FILE": "/nonexistent/secret"],
        ]
        for environment in cases {
            do {
                _ = try EndpointSecret.read(endpoint: "crm", environment: environment, maximumFileBytes: 50)
                Issue.record("\(environment.keys) accepted")
            } catch {
                #expect(!error.description.contains("hunter2"))
                #expect(!error.description.contains("xxxx"))
                #expect(error.description.contains("COUPLET_ENDPOINT_CRM_SECRET"))
            }
        }
    }

    @Test func descriptionsAreRedacted() throws {
        let secret = EndpointSecret("hunter2")
        let credentials = ClientCredentials(tenant: "t", clientID: "c", secret: secret, resource: "https://org.crm.dynamics.com")
        let service = try ODataService(name: "crm", root: #require(URL(string: "https://org.crm.dynamics.com/api/data/v9.2")),
                                       credentials: credentials, protection: .dataverse)
        for text in ["\(secret)", String(reflecting: secret), "\(credentials)", "\(service)", String(reflecting: service)] {
            #expect(!text.contains("hunter2"), "\(text)")
        }
        var dumped = ""
        dump(service, to: &dumped)
        dump(AccessToken(value: "eyJ0eXAi-hunter2", refreshAt: .now), to: &dumped)
        #expect(!dumped.contains("hunter2"))
        #expect("\(AccessToken(value: "eyJ0eXAi-hunter2", refreshAt: .now))" == "AccessToken(<redacted>)")
        #expect(service.root.absoluteString == "https://org.crm.dynamics.com/api/data/v9.2/")
        #expect(credentials.scope == "https://org.crm.dynamics.com/.default")
        #expect(credentials.tokenEndpoint?.absoluteString == "https://login.microsoftonline.com/t/oauth2/v2.0/token")
    }
}
