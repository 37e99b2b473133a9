import DataverseEmulator
import Foundation
import Testing

/// The fault switches, in-process and over `/_emulator/`.
@Suite("Emulator fault switches")
struct FaultTests {
    static let setup = """
        CREATE TABLE account (accountid uuid PRIMARY KEY DEFAULT gen_random_uuid(), name text NOT NULL);
        INSERT INTO account (name) VALUES ('Contoso'), ('Fabrikam');
        """

    @Test("The next N responses are injected statuses with a JSON error, then answers are normal again")
    func injectedStatuses() async throws {
        try await withEmulator(setup: Self.setup) { emulated in
            emulated.emulator.inject(.status(503), count: 2)
            for _ in 0..<2 {
                let reply = try await emulated.send(.GET, "accounts")
                #expect(reply.status == 503)
                #expect(reply.json["error"]?["message"]?.stringValue != nil)
            }
            emulated.emulator.inject(.status(500))
            do {
                let value = try await emulated.send(.GET, "accounts").status
                #expect(value == 500)
            }
            do {
                let value = try await emulated.send(.GET, "accounts").status
                #expect(value == 200)
            }
            #expect(emulated.emulator.stats().faultsPlayed == 3)
        }
    }

    @Test("A delay answers normally, late")
    func delay() async throws {
        try await withEmulator(setup: Self.setup) { emulated in
            emulated.emulator.inject(.delay(seconds: 0.6))
            let start = ContinuousClock.now
            let reply = try await emulated.send(.GET, "accounts")
            #expect(reply.status == 200)
            #expect(ContinuousClock.now - start >= .milliseconds(600))
        }
    }

    @Test("A proxy's HTML error page: 502 text/html")
    func htmlPage() async throws {
        try await withEmulator(setup: Self.setup) { emulated in
            emulated.emulator.inject(.htmlBadGateway)
            let reply = try await emulated.send(.GET, "accounts")
            #expect(reply.status == 502)
            #expect(reply.header("Content-Type")?.hasPrefix("text/html") == true)
            #expect(reply.body.contains("<html>"))
        }
    }

    @Test("A truncated JSON body: 200 whose body does not parse")
    func truncatedJSON() async throws {
        try await withEmulator(setup: Self.setup) { emulated in
            emulated.emulator.inject(.truncatedJSON)
            let reply = try await emulated.send(.GET, "accounts")
            #expect(reply.status == 200)
            #expect(!reply.body.isEmpty)
            #expect((try? JSONValue.parse(reply.body)) == nil)
        }
    }

    @Test("A dropped connection fails the request; the next one is answered")
    func droppedConnection() async throws {
        try await withEmulator(setup: Self.setup) { emulated in
            emulated.emulator.inject(.dropConnection)
            await #expect(throws: (any Error).self) { try await emulated.send(.GET, "accounts") }
            do {
                let value = try await emulated.send(.GET, "accounts").status
                #expect(value == 200)
            }
        }
    }

    @Test("Token-scoped faults hit the token endpoint, not the Web API")
    func tokenScope() async throws {
        try await withEmulator(setup: Self.setup) { emulated in
            emulated.emulator.inject(.status(503), scope: .token)
            do {
                let value = try await emulated.send(.GET, "accounts").status
                #expect(value == 200)
            }
            let reply = try await Emulated.requestToken(emulator: emulated.emulator, form: Emulated.tokenForm(emulated.emulator))
            #expect(reply.status == 503)
            do {
                let value = try await emulated.fetchToken().isEmpty
                #expect(value == false)
            }
        }
    }

    @Test("The switches over HTTP: faults, stats, expiring tokens")
    func adminRoutes() async throws {
        try await withEmulator(setup: Self.setup) { emulated in
            let injected = try await emulated.send(.POST, "/_emulator/faults", body: #"{"kind": "status", "status": 500, "count": 1}"#)
            #expect(injected.status == 204)
            do {
                let value = try await emulated.send(.GET, "accounts").status
                #expect(value == 500)
            }
            do {
                let value = try await emulated.send(.POST, "/_emulator/faults", body: #"{"kind": "html"}"#).status
                #expect(value == 204)
            }
            do {
                let value = try await emulated.send(.DELETE, "/_emulator/faults").status
                #expect(value == 204)
            }
            do {
                let value = try await emulated.send(.GET, "accounts").status
                #expect(value == 200)
            }
            do {
                let value = try await emulated.send(.POST, "/_emulator/faults", body: #"{"kind": "nonsense"}"#).status
                #expect(value == 400)
            }

            let stats = try await emulated.send(.GET, "/_emulator/stats").json
            #expect(stats["requestsByRoute"]?["GET accounts"] == .number("2"))
            #expect(stats["throttledResponses"] == .number("0"))
            #expect(stats["maximumConcurrentRequests"] == .number("1"))

            do {
                let value = try await emulated.send(.POST, "/_emulator/expire-access-tokens").status
                #expect(value == 204)
            }
            let expired = try await emulated.send(.GET, "accounts")
            #expect(expired.status == 401)
            #expect(expired.header("WWW-Authenticate")?.hasPrefix("Bearer") == true)
            let fresh = try await emulated.fetchToken()
            do {
                let value = try await emulated.send(.GET, "accounts", token: fresh).status
                #expect(value == 200)
            }
        }
    }
}
