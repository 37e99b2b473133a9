import DataverseEmulator
import Foundation
import Testing

/// The token endpoint and bearer tokens on the Web API.
@Suite("Emulator tokens")
struct TokenTests {
    static let setup = "CREATE TABLE account (accountid uuid PRIMARY KEY DEFAULT gen_random_uuid(), name text NOT NULL);"

    @Test("Every Web API call needs a bearer token: 401 with WWW-Authenticate otherwise")
    func bearerRequired() async throws {
        try await withEmulator(setup: Self.setup) { emulated in
            for token in ["", "not-a-token"] {
                let reply = try await emulated.send(.GET, "accounts", token: token)
                #expect(reply.status == 401)
                #expect(reply.header("WWW-Authenticate")?.contains("authorization_uri=") == true)
            }
            do {
                let value = try await emulated.send(.GET, "accounts").status
                #expect(value == 200)
            }
        }
    }

    @Test("A token lives --token-lifetime seconds; expires_in says so")
    func lifetime() async throws {
        try await withEmulator(setup: Self.setup, configure: { $0.tokenLifetime = 3 }) { emulated in
            let reply = try await Emulated.requestToken(emulator: emulated.emulator, form: Emulated.tokenForm(emulated.emulator))
            #expect(reply.json["expires_in"] == .number("3"))
            #expect(reply.json["ext_expires_in"] == .number("3"))
            #expect(reply.json["token_type"] == .string("Bearer"))
            do {
                let value = try await emulated.send(.GET, "accounts").status
                #expect(value == 200)
            }
            try await Task.sleep(for: .milliseconds(3300))
            do {
                let value = try await emulated.send(.GET, "accounts").status
                #expect(value == 401)
            }
        }
    }

    @Test("Expiring all tokens now: old ones are refused, new ones work")
    func expireAll() async throws {
        try await withEmulator(setup: Self.setup) { emulated in
            emulated.emulator.expireAccessTokens()
            do {
                let value = try await emulated.send(.GET, "accounts").status
                #expect(value == 401)
            }
            let fresh = try await emulated.fetchToken()
            do {
                let value = try await emulated.send(.GET, "accounts", token: fresh).status
                #expect(value == 200)
            }
        }
    }

    @Test("Wrong grant type, missing secret: the documented error shapes with their AADSTS codes")
    func otherErrors() async throws {
        try await withEmulator(setup: Self.setup) { emulated in
            let form = Emulated.tokenForm(emulated.emulator).replacingOccurrences(of: "client_credentials", with: "password")
            let grant = try await Emulated.requestToken(emulator: emulated.emulator, form: form)
            #expect(grant.status == 400)
            #expect(grant.json["error"] == .string("unsupported_grant_type"))
            #expect(grant.json["error_description"]?.stringValue?.hasPrefix("AADSTS70003:") == true)
            let noSecret = try await Emulated.requestToken(emulator: emulated.emulator, form: Emulated.tokenForm(emulated.emulator, secret: ""))
            #expect(noSecret.status == 401)
            #expect(noSecret.json["error_codes"] == .array([.number("7000218")]))
            for key in ["timestamp", "trace_id", "correlation_id"] { #expect(noSecret.json[key]?.stringValue != nil) }
        }
    }

    @Test("A configured environment URL is the token's resource; links still lead to the emulator")
    func environmentURL() async throws {
        try await withEmulator(setup: Self.setup + "INSERT INTO account (name) VALUES ('A'), ('B');", configure: { $0.environmentURL = "https://contoso.crm.dynamics.com" }) { emulated in
            let local = try await Emulated.requestToken(
                emulator: emulated.emulator, form: Emulated.tokenForm(emulated.emulator, scope: emulated.base + "/.default"))
            #expect(local.json["error"] == .string("invalid_scope"))
            let page = try await emulated.send(.GET, "accounts", headers: [("Prefer", "odata.maxpagesize=1")])
            #expect(page.json["@odata.nextLink"]?.stringValue?.hasPrefix(emulated.base + "/api/data/v9.2/accounts?") == true)
            let unauthorized = try await emulated.send(.GET, "accounts", token: "")
            #expect(unauthorized.header("WWW-Authenticate")?.contains("resource_id=https://contoso.crm.dynamics.com/") == true)
        }
    }
}
