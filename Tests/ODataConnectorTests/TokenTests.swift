import Foundation
import Testing
@testable import ODataConnector

@Suite struct TokenTests {
    @Test func concurrentCallersShareOneTokenRequest() async throws {
        let log = ServerLog()
        let handler = routing(token: { _ in
            try? await Task.sleep(for: .milliseconds(50))
            return .token("token-1")
        }, api: { _ in .json(#"{"value":[]}"#) })
        try await TestServer.run(handler, log: log) { server in
            try await TestSetup().withClient(server) { client, tokens in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<8 { group.addTask { _ = try await client.send(.get("accounts")) } }
                    try await group.waitForAll()
                }
                #expect(await tokens.tokenRequests == 1)
            }
        }
        let tokenRequests = await log.tokenRequests
        #expect(tokenRequests.count == 1)
        let form = try #require(tokenRequests.first).formFields
        #expect(tokenRequests.first?.path == "/auth/contoso.onmicrosoft.com/oauth2/v2.0/token")
        #expect(tokenRequests.first?.header("Content-Type") == "application/x-www-form-urlencoded")
        #expect(form == [
            "client_id": "535fb089-9ff3-47b6-9bfb-4f1264799865", "client_secret": TestSetup.secret,
            "scope": "https://org.crm.dynamics.com/.default", "grant_type": "client_credentials",
        ])
        #expect(await log.apiRequests.allSatisfy { $0.header("Authorization") == "Bearer token-1" })
    }

    @Test func aTokenIsRefreshedBeforeItExpires() async throws {
        let log = ServerLog()
        let issued = Counter()
        // A token for 30 s, refreshed once 80 % of its life is left to run: fresh for its first 6 s, a
        // window wide enough for two requests on a machine loaded by the whole suite (2 s was not).
        let handler = routing(token: { _ in .token("token-\(await issued.next())", expiresIn: 30) }, api: { _ in .json(#"{"value":[]}"#) })
        var setup = TestSetup()
        setup.refresh = TokenRefreshPolicy(maximumMargin: .seconds(300), lifetimeFraction: 0.8)
        try await TestServer.run(handler, log: log) { server in
            try await setup.withClient(server) { client, _ in
                _ = try await client.send(.get("accounts"))
                _ = try await client.send(.get("accounts"))
                try await Task.sleep(for: .milliseconds(6_200))
                _ = try await client.send(.get("accounts"))
            }
        }
        #expect(await log.tokenRequests.count == 2)
        #expect(await log.apiRequests.map { $0.header("Authorization") } == ["Bearer token-1", "Bearer token-1", "Bearer token-2"])
    }

    @Test func theRefreshMarginIsTheSmallerOfItsTwoBounds() {
        #expect(TokenRefreshPolicy().usableLifetime(seconds: 3599) == .seconds(3299))
        #expect(TokenRefreshPolicy().usableLifetime(seconds: 600) == .seconds(540))
        #expect(TokenRefreshPolicy(lifetimeFraction: 0.9).usableLifetime(seconds: 1) == .milliseconds(100))
    }

    @Test func aRefusedTokenIsRefreshedOnceAndTheRequestRetriedOnce() async throws {
        let log = ServerLog()
        let issued = Counter()
        let handler = routing(token: { _ in .token("token-\(await issued.next())") }, api: { request in
            request.header("Authorization") == "Bearer token-1"
                ? .json(401, #"{"error":{"code":"0x80048306","message":"token expired"}}"#)
                : .json(#"{"value":[]}"#)
        })
        try await TestServer.run(handler, log: log) { server in
            try await TestSetup().withClient(server) { client, _ in
                let response = try await client.send(.get("accounts"))
                #expect(response.status == 200)
            }
        }
        #expect(await log.tokenRequests.count == 2)
        #expect(await log.apiRequests.count == 2)
    }

    @Test func aSecond401IsTheAnswer() async throws {
        let log = ServerLog()
        let issued = Counter()
        let handler = routing(token: { _ in .token("token-\(await issued.next())") }, api: { _ in
            .json(401, #"{"error":{"code":"0x80048306","message":"The user is not a member of the organization."}}"#)
        })
        let error = try await TestServer.run(handler, log: log) { server in
            try await TestSetup().withClient(server) { client, _ in
                try await expectODataError { _ = try await client.send(.get("accounts")) }
            }
        }
        #expect(error.kind == .service(status: 401, code: "0x80048306", message: "The user is not a member of the organization."))
        #expect(await log.apiRequests.count == 2)
        #expect(await log.tokenRequests.count == 2)
    }

    @Test func aRefusalNamesTheAADSTSCodeAndNeverTheSecret() async throws {
        let log = ServerLog()
        let capture = LogCapture()
        let refusal = #"""
        {"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.\r\nTrace ID: 255d1aef-8c98-452f-ac51-23d051240864\r\nCorrelation ID: fb3d2015-bc17-4bb9-bb85-30c5cf1aaaa7\r\nTimestamp: 2026-12-07 10:02:12Z","error_codes":[7000215],"timestamp":"2026-12-07 10:02:12Z","trace_id":"255d1aef-8c98-452f-ac51-23d051240864","correlation_id":"fb3d2015-bc17-4bb9-bb85-30c5cf1aaaa7"}
        """#
        let handler = routing(token: { _ in .json(401, refusal) }, api: { _ in .json(#"{"value":[]}"#) })
        let error = try await TestServer.run(handler, log: log) { server in
            try await TestSetup().withClient(server, logger: capture.logger()) { client, _ in
                try await expectODataError { _ = try await client.send(.get("accounts")) }
            }
        }
        #expect(error.description == "the token endpoint refused endpoint crm's credentials: AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.")
        guard case .tokenRefused(401, "AADSTS7000215", _) = error.kind else {
            Issue.record("\(error.kind)")
            return
        }
        #expect(await log.tokenRequests.count == 1, "a refusal is not retried")
        #expect(await log.apiRequests.isEmpty)
        for text in [error.description, String(reflecting: error), capture.text] {
            #expect(!text.contains(TestSetup.secret))
            #expect(!text.contains("s3cr3t"))
        }
        #expect(!capture.text.isEmpty)
    }

    @Test func anUnavailableTokenEndpointIsRetried() async throws {
        let log = ServerLog()
        let calls = Counter()
        let handler = routing(token: { _ in
            await calls.next() == 1 ? ScriptedResponse(status: 503, headers: [("Content-Type", "text/html")], body: "<html>busy</html>") : .token("token-1")
        }, api: { _ in .json(#"{"value":[]}"#) })
        try await TestServer.run(handler, log: log) { server in
            try await TestSetup().withClient(server) { client, _ in
                _ = try await client.send(.create("accounts", body: .object(["name": .string("A")]), recordIDSupplied: false))
            }
        }
        #expect(await log.tokenRequests.count == 2)
        #expect(await log.apiRequests.count == 1)
    }
}

/// A counter shared by a test's handlers: `next()` returns 1, 2, 3…
actor Counter {
    private var value = 0
    func next() -> Int { value += 1; return value }
    var current: Int { value }
}
