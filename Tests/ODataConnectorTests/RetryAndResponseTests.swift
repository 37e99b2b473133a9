import Foundation
import Testing
@testable import ODataConnector

@Suite struct RetryAndResponseTests {
    @Test func serverErrorsAreRetriedWithBackoffUntilSuccess() async throws {
        let log = ServerLog()
        let calls = Counter()
        let handler = routing(api: { _ in
            switch await calls.next() {
            case 1: return ScriptedResponse(status: 503, headers: [("Content-Type", "text/html")], body: "<html><body>Service Unavailable</body></html>")
            case 2: return .json(500, #"{"error":{"code":"0x80040216","message":"An unexpected error occurred."}}"#)
            default: return .json(#"{"value":[{"name":"Contoso"}]}"#)
            }
        })
        try await TestServer.run(handler, log: log) { server in
            try await TestSetup().withClient(server) { client, _ in
                let response = try await client.send(.get("accounts"))
                #expect(response.body?["value"]?.arrayValue?.count == 1)
            }
        }
        let arrivals = await log.apiRequests.map(\.arrivedAt)
        #expect(arrivals.count == 3)
    }

    @Test func retryingStopsAfterTheAttemptBound() async throws {
        let log = ServerLog()
        let handler = routing(api: { _ in ScriptedResponse(status: 502, headers: [("Content-Type", "text/plain")], body: "Bad Gateway") })
        var setup = TestSetup()
        setup.retry = ODataRetryPolicy(maximumAttempts: 3, baseDelay: .milliseconds(5), maximumDelay: .milliseconds(20), maximumTotalTime: .seconds(10))
        let error = try await TestServer.run(handler, log: log) { server in
            try await setup.withClient(server) { client, _ in
                try await expectODataError { _ = try await client.send(.get("accounts")) }
            }
        }
        #expect(await log.apiRequests.count == 3)
        guard case .gaveUp(attempts: 3, let last) = error.kind else {
            Issue.record("\(error)")
            return
        }
        #expect(last.contains("502"))
        #expect(error.description.hasPrefix("endpoint crm: gave up after 3 attempts: "))
    }

    @Test func retryingStopsAtTheTimeBound() async throws {
        let log = ServerLog()
        let handler = routing(api: { _ in .json(503, #"{"error":{"code":"0x0","message":"busy"}}"#) })
        var setup = TestSetup()
        setup.retry = ODataRetryPolicy(maximumAttempts: 100, baseDelay: .milliseconds(40), maximumDelay: .milliseconds(40), maximumTotalTime: .milliseconds(150))
        let started = ContinuousClock.now
        let error = try await TestServer.run(handler, log: log) { server in
            try await setup.withClient(server) { client, _ in
                try await expectODataError { _ = try await client.send(.get("accounts")) }
            }
        }
        #expect(ContinuousClock.now - started < .seconds(2))
        guard case .gaveUp = error.kind else { Issue.record("\(error)"); return }
        #expect(await log.apiRequests.count < 100)
    }

    @Test func aCreateWithoutItsIDIsNotRetried() async throws {
        let log = ServerLog()
        let handler = routing(api: { _ in .json(500, #"{"error":{"code":"0x80040216","message":"An unexpected error occurred."}}"#) })
        let error = try await TestServer.run(handler, log: log) { server in
            try await TestSetup().withClient(server) { client, _ in
                try await expectODataError {
                    _ = try await client.send(.create("accounts", body: .object(["name": .string("A")]), recordIDSupplied: false))
                }
            }
        }
        #expect(error.kind == .service(status: 500, code: "0x80040216", message: "An unexpected error occurred."))
        #expect(await log.apiRequests.count == 1)
    }

    @Test func anUpdateWithIfMatchIsRetried() async throws {
        let log = ServerLog()
        let calls = Counter()
        let handler = routing(api: { _ in
            await calls.next() == 1 ? ScriptedResponse(status: 504) : ScriptedResponse(status: 204, headers: [("OData-EntityId", "x")])
        })
        try await TestServer.run(handler, log: log) { server in
            try await TestSetup().withClient(server) { client, _ in
                let response = try await client.send(.update("accounts(1)", body: .object(["name": .string("B")]), ifMatch: "W/\"1\""))
                #expect(response.status == 204)
                #expect(response.body == nil)
            }
        }
        #expect(await log.apiRequests.map(\.method) == ["PATCH", "PATCH"])
        #expect(await log.apiRequests.first?.header("If-Match") == "W/\"1\"")
    }

    @Test func aRequestsOwnHeadersCannotReplaceTheClients() async throws {
        let log = ServerLog()
        try await TestServer.run(routing(api: { _ in .json(#"{"value":[]}"#) }), log: log) { server in
            try await TestSetup().withClient(server) { client, _ in
                _ = try await client.send(.get("accounts", headers: [("Authorization", "Bearer forged"), ("Prefer", "odata.include-annotations=\"*\"")]))
            }
        }
        let sent = try #require(await log.apiRequests.first)
        #expect(sent.headers.filter { $0.name.lowercased() == "authorization" }.map(\.value) == ["Bearer token-1"])
        #expect(sent.header("Prefer") == "odata.include-annotations=\"*\"")
    }

    @Test func aSlowAnswerTimesOutAndIsRetried() async throws {
        let log = ServerLog()
        let calls = Counter()
        let handler = routing(api: { _ in
            if await calls.next() == 1 { try? await Task.sleep(for: .milliseconds(1200)) }
            return .json(#"{"value":[]}"#)
        })
        try await TestServer.run(handler, log: log) { server in
            try await TestSetup().withClient(server) { client, _ in
                _ = try await client.send(ODataRequest(method: .get, resource: "accounts", isIdempotent: true, timeout: .milliseconds(400)))
            }
        }
        #expect(await log.apiRequests.count >= 2, "the first attempt timed out and was sent again")
    }

    @Test func aRefusedConnectionIsRetriedThenReported() async throws {
        var setup = TestSetup()
        setup.retry = ODataRetryPolicy(maximumAttempts: 2, baseDelay: .milliseconds(5), maximumDelay: .milliseconds(5), maximumTotalTime: .seconds(5))
        setup.timeouts = ODataTimeouts(request: .seconds(2), connect: .milliseconds(200))
        let closed = try #require(URL(string: "http://127.0.0.1:1/"))
        let error = try await setup.withClient(closed) { client, _ in
            try await expectODataError { _ = try await client.send(.get("accounts")) }
        }
        guard case .gaveUp(attempts: 2, _) = error.kind else { Issue.record("\(error)"); return }
    }

    @Test func serviceErrorsOfBothServicesAreParsed() async throws {
        let handler = routing(api: { request in
            request.path.contains("bc")
                ? .json(400, #"{"error":{"code":"BadRequest_NotFound","message":"Bad Request - Error in query syntax.  CorrelationId:  d0b1a5c4-9e0e-4a3a-8a4b-0e2a5b6f8f7d."}}"#)
                : .json(404, #"{"error":{"code":"0x80040217","message":"account With Id = 9f3162f6-804a-e611-80d1-00155d4333fa Does Not Exist"}}"#)
        })
        try await TestServer.run(handler) { server in
            try await TestSetup().withClient(server) { client, _ in
                let dataverse = try await expectODataError { _ = try await client.send(.get("accounts(9f3162f6-804a-e611-80d1-00155d4333fa)")) }
                #expect(dataverse.kind == .service(status: 404, code: "0x80040217", message: "account With Id = 9f3162f6-804a-e611-80d1-00155d4333fa Does Not Exist"))
                let businessCentral = try await expectODataError { _ = try await client.send(.get("bc/customers")) }
                guard case .service(400, "BadRequest_NotFound", _) = businessCentral.kind else { Issue.record("\(businessCentral)"); return }
                #expect(businessCentral.description.hasPrefix("endpoint crm: the service answered 400 BadRequest_NotFound: Bad Request"))
            }
        }
    }

    @Test func untrustedAnswersBecomeClearErrors() async throws {
        let html = "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body>" + String(repeating: "proxy trouble ", count: 50) + "</body></html>"
        let handler = routing(api: { request in
            switch request.path {
            case let path where path.hasSuffix("html200"): return ScriptedResponse(status: 200, headers: [("Content-Type", "text/html; charset=utf-8")], body: html)
            case let path where path.hasSuffix("html404"): return ScriptedResponse(status: 404, headers: [("Content-Type", "text/html")], body: html)
            case let path where path.hasSuffix("truncated"): return .json(#"{"value":[{"name":"Contoso","revenue":12"#)
            case let path where path.hasSuffix("plain"): return ScriptedResponse(status: 200, headers: [("Content-Type", "text/plain")], body: #"{"value":[]}"#)
            case let path where path.hasSuffix("garbage"): return .json("not json at all")
            case let path where path.hasSuffix("empty"): return ScriptedResponse(status: 200, headers: [("Content-Type", "application/json")])
            case let path where path.hasSuffix("redirect"): return ScriptedResponse(status: 302, headers: [("Location", "https://evil.example/")])
            default: return ScriptedResponse(status: 200, headers: [("Content-Type", "application/json")], body: "{\"value\":[" + String(repeating: "1,", count: 4000) + "1]}")
            }
        })
        var setup = TestSetup()
        setup.limits = ODataLimits(maximumResponseBytes: 4096)
        try await TestServer.run(handler) { server in
            try await setup.withClient(server) { client, _ in
                func failure(_ path: String) async throws -> ODataError {
                    try await expectODataError { _ = try await client.send(.get(path)) }
                }
                let html200 = try await failure("html200")
                guard case .invalidResponse(200, let problem, let excerpt) = html200.kind else { Issue.record("\(html200)"); return }
                #expect(problem.contains("HTML"))
                #expect(excerpt.count <= 200)
                #expect(excerpt.hasPrefix("<!DOCTYPE html> <html><head><title>502 Bad Gateway"))
                #expect(html200.description.hasPrefix("endpoint crm: the response (status 200) is not usable: an HTML page"))
                let html404 = try await failure("html404")
                guard case .invalidResponse(404, let problem404, _) = html404.kind else { Issue.record("\(html404)"); return }
                #expect(problem404.contains("HTML"))
                let truncated = try await failure("truncated")
                guard case .invalidResponse(200, let cut, _) = truncated.kind else { Issue.record("\(truncated)"); return }
                #expect(cut.contains("cut short"))
                let plain = try await failure("plain")
                guard case .invalidResponse(200, let type, _) = plain.kind else { Issue.record("\(plain)"); return }
                #expect(type.contains("text/plain"))
                let garbage = try await failure("garbage")
                guard case .invalidResponse(200, let notJSON, _) = garbage.kind else { Issue.record("\(garbage)"); return }
                #expect(notJSON.contains("not valid JSON"))
                let empty = try await failure("empty")
                guard case .invalidResponse(200, let emptyProblem, _) = empty.kind else { Issue.record("\(empty)"); return }
                #expect(emptyProblem.contains("empty"))
                let redirect = try await failure("redirect")
                guard case .invalidResponse(302, let redirectProblem, _) = redirect.kind else { Issue.record("\(redirect)"); return }
                #expect(redirectProblem.contains("redirect"))
                let large = try await failure("large")
                #expect(large.kind == .responseTooLarge(status: 200, limit: 4096))
            }
        }
    }

    @Test func decimalsTravelExactlyBothWays() async throws {
        let log = ServerLog()
        let handler = routing(api: { request in
            request.method == "PATCH"
                ? ScriptedResponse(status: 204)
                : .json(#"{"@odata.etag":"W/\"77180907\"","revenue":1234.5600,"exchangerate":1.0000000000,"creditlimit":0.1}"#)
        })
        try await TestServer.run(handler, log: log) { server in
            try await TestSetup().withClient(server) { client, _ in
                let record = try await client.send(.get("accounts(1)?$select=revenue"))
                #expect(record.body?["revenue"] == .number("1234.5600"))
                #expect(record.body?["exchangerate"]?.numberText == "1.0000000000")
                #expect(record.etag == "W/\"77180907\"")
                let revenue = try #require(ODataJSON.number(exactly: "1234.5600"))
                _ = try await client.send(.update("accounts(1)", body: .object(["revenue": revenue, "creditlimit": .number("0.1")]), ifMatch: "*"))
            }
        }
        let patch = try #require(await log.apiRequests.last)
        #expect(patch.bodyText == #"{"revenue":1234.5600,"creditlimit":0.1}"#)
        #expect(patch.header("Content-Type") == "application/json")
        #expect(patch.header("OData-Version") == "4.0")
    }

    @Test func requestsStayOnTheServiceHost() async throws {
        try await TestSetup().withClient(#require(URL(string: "https://org.crm.dynamics.com/"))) { client, _ in
            let relative = try client.resolve("accounts")
            #expect(relative.absoluteString == "https://org.crm.dynamics.com/api/data/v9.2/accounts")
            let absolute = try client.resolve("https://org.crm.dynamics.com/api/data/v9.2/accounts?$skiptoken=1")
            #expect(absolute.host == "org.crm.dynamics.com")
            for foreign in ["https://evil.example/api/data/v9.2/accounts", "http://org.crm.dynamics.com/api/data/v9.2/accounts",
                            "https://org.crm.dynamics.com:8443/api/data/v9.2/accounts", "https://org.crm.dynamics.com.evil.example/x"] {
                #expect(throws: ODataError.self, "\(foreign)") { try client.resolve(foreign) }
            }
        }
    }

    @Test func backoffHasFullJitterWithinItsCeiling() {
        let policy = ODataRetryPolicy(baseDelay: .milliseconds(100), maximumDelay: .seconds(1))
        for retry in 1...20 {
            let delay = policy.backoff(beforeRetry: retry)
            #expect(delay >= .zero)
            #expect(delay <= min(.seconds(1), .milliseconds(100) * (1 << min(retry - 1, 20))))
        }
        #expect(policy.backoff(beforeRetry: Int.max) <= .seconds(1))
    }
}
