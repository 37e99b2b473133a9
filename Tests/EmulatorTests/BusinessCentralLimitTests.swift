import BusinessCentralEmulator
import Foundation
import Testing

/// Tokens, API limits, fault switches and the URL layout.
@Suite("Business Central emulator tokens, limits and faults")
struct BusinessCentralLimitTests {
    @Test("Tokens are for <resource>/.default; an expired token answers 401 until a new one is fetched")
    func tokens() async throws {
        try await withBusinessCentral(setup: customerTables, configure: { $0.resource = "https://api.businesscentral.dynamics.com" }) { bc in
            let wrongScope = try await Emulated.send(
                .POST, bc.emulator.tokenURL(), headers: [("Content-Type", "application/x-www-form-urlencoded")],
                body: EmulatedBusinessCentral.tokenForm(bc.emulator, scope: "https://graph.microsoft.com/.default"))
            #expect(wrongScope.status == 400)
            #expect(wrongScope.json["error"]?.stringValue == "invalid_scope")
            #expect(try await bc.send(.GET, "companies").status == 200)

            bc.emulator.expireAccessTokens()
            let expired = try await bc.send(.GET, "companies")
            #expect(expired.status == 401)
            #expect(expired.json["error"]?["code"]?.stringValue == "Authentication_InvalidCredentials")
            #expect(expired.header("WWW-Authenticate")?.contains("resource_id=\"https://api.businesscentral.dynamics.com\"") == true)
            #expect(try await bc.send(.GET, "companies", token: "").status == 401)
            #expect(try await bc.send(.GET, "companies", token: try await bc.fetchToken()).status == 200)
        }
    }

    @Test("More requests than the limit within the window answer 429 Application_TooManyRequests with Retry-After")
    func requestLimit() async throws {
        try await withBusinessCentral(setup: customerTables, configure: { $0.requestLimit = 2; $0.limitWindow = 60 }) { bc in
            #expect(try await bc.send(.GET, "companies").status == 200)
            #expect(try await bc.send(.GET, "companies").status == 200)
            let throttled = try await bc.send(.GET, "companies")
            #expect(throttled.status == 429)
            #expect(throttled.json["error"]?["code"]?.stringValue == "Application_TooManyRequests")
            #expect(throttled.json["error"]?["message"]?.stringValue?.hasPrefix("Too many requests reached. Actual (3). Maximum (2).") == true)
            let retryAfter = try #require(throttled.header("Retry-After").flatMap { Int($0) })
            #expect((1...60).contains(retryAfter))
            #expect(bc.emulator.stats().throttledResponses == 1)
        }
    }

    @Test("More concurrent requests than the limit answer 429")
    func concurrencyLimit() async throws {
        try await withBusinessCentral(setup: customerTables, configure: { $0.concurrentRequestLimit = 1 }) { bc in
            bc.emulator.inject(.delay(seconds: 2), count: 1)
            async let slow = bc.send(.GET, "companies")
            try await Task.sleep(for: .milliseconds(500))
            let second = try await bc.send(.GET, "companies")
            #expect(second.status == 429)
            #expect(second.header("Retry-After") == "1")
            #expect(try await slow.status == 200)
        }
    }

    @Test("Fault switches, in-process and over /_emulator/: status, HTML bad gateway, truncated JSON, stats")
    func faults() async throws {
        try await withBusinessCentral(setup: customerTables) { bc in
            bc.emulator.inject(.status(503), count: 1)
            let unavailable = try await bc.send(.GET, "companies")
            #expect(unavailable.status == 503)
            #expect(unavailable.json["error"]?["code"] != nil)
            #expect(try await bc.send(.POST, "/_emulator/faults", body: #"{"kind": "html"}"#).status == 204)
            let html = try await bc.send(.GET, "companies")
            #expect(html.status == 502 && html.body.contains("<html>"))
            bc.emulator.inject(.truncatedJSON)
            let cut = try await bc.send(.GET, "companies")
            #expect(cut.status == 200 && cut.json == .null)
            #expect(try await bc.send(.POST, "/_emulator/faults", body: #"{"kind": "nonsense"}"#).status == 400)
            let stats = try await bc.send(.GET, "/_emulator/stats").json
            #expect(stats["requestsByRoute"]?["GET companies"] == .number("3"))
            #expect(stats["faultsPlayed"] == .number("3"))
            #expect(try await bc.send(.POST, "/_emulator/expire-access-tokens").status == 204)
            #expect(try await bc.send(.GET, "companies").status == 401)
        }
    }

    @Test("The API root without the tenant works; an unknown environment or path answers 404")
    func urlLayout() async throws {
        try await withBusinessCentral(setup: customerTables) { bc in
            #expect(try await bc.send(.GET, "/v2.0/production/api/v2.0/companies").status == 200)
            let environment = try await bc.send(.GET, "/v2.0/tenant/sandbox/api/v2.0/companies")
            #expect(environment.status == 404)
            #expect(try await bc.send(.GET, "/v2.0/tenant/production/api/v1.0/companies").status == 404)
            let vendors = try await bc.send(.GET, bc.company + "vendors")
            #expect(vendors.status == 404 && vendors.json["error"]?["code"]?.stringValue == "BadRequest_ResourceNotFound")
            #expect(vendors.json["error"]?["message"]?.stringValue?.hasPrefix("Resource not found for the segment 'vendors'.") == true)
            let post = try await bc.send(.POST, "companies", body: "{}")
            #expect(post.status == 405 && post.json["error"]?["code"]?.stringValue == "BadRequest_MethodNotAllowed")
            #expect(post.json["error"]?["message"]?.stringValue?.hasPrefix("'POST' requests for 'companies' of EdmType 'Entity' are not allowed") == true)
            let guid = try await bc.send(.GET, "companies(not-a-guid)")
            #expect(guid.status == 400 && guid.json["error"]?["code"]?.stringValue == "Application_InvalidGUID")
        }
    }
}
