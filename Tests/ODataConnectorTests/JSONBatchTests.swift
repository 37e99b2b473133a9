import Foundation
import Testing
@testable import ODataConnector

@Suite struct JSONBatchTests {
    static let item = "items(7ce0af2e-0963-460f-9b1f-0014aea3e117)"

    static func patch(_ id: String, _ url: String, _ body: ODataJSON) -> ODataJSONBatchRequest {
        ODataJSONBatchRequest(id: id, method: .patch, url: url,
                              headers: [("Company", "CRONUS International Ltd."), ("Content-Type", "application/json"), ("If-Match", "*")], body: body)
    }

    /// The documentation's example batch.
    static let batch = ODataJSONBatch(requests: [
        patch("1", item, .object(["displayName": .string("Touring Bicycle v2")])),
        patch("2", "\(item)/picture(7ce0af2e-0963-460f-9b1f-0014aea3e117)/contentValue", .object(["value": .string("Picture Blob")])),
        patch("3", item, .object(["type": .string("Invalid Type")])),
    ], isolationSnapshot: true)

    @Test func theRequestCarriesTheDocumentationsRequests() throws {
        let documented = try #require(ODataJSON.parse(golden("use-odata-batch.request.json"))["requests"]?.arrayValue)
        let written = try #require(Self.batch.json["requests"]?.arrayValue)
        #expect(written.count == documented.count)
        for (mine, theirs) in zip(written, documented) {
            for member in ["method", "url", "headers", "body"] {
                #expect(mine[member] == theirs[member], "\(member)")
            }
        }
        #expect(written.map { $0["id"]?.stringValue } == ["1", "2", "3"])
        #expect(Self.batch.json.jsonText.hasPrefix(#"{"requests":[{"method":"PATCH","id":"1","url":"items("#))
    }

    @Test func theDocumentedAnswerIsPairedByOrderWhenIDsAreNull() throws {
        let answer = try ODataJSON.parse(golden("use-odata-batch.response.json"))
        let result = try Self.batch.decode(answer, status: 200, endpoint: "erp")
        #expect(result.responses.map(\.status) == [200, 204, 400])
        #expect(result.responses.map(\.contentID) == ["1", "2", "3"])
        #expect(result.responses[0].body?["displayName"] == .string("Touring Bicycle v2"))
        #expect(result.responses[2].serviceError?.code == "Unknown")
        #expect(result.responses[0].header("Content-Type") == "application/json; odata.metadata=minimal")
    }

    @Test func answersArePairedByID() throws {
        let answer = try ODataJSON.parse(#"{"responses":[{"id":"3","status":400,"headers":{},"body":{"error":{"code":"Request_EntityChanged","message":"Another user has already changed the record."}}},{"id":"1","status":200,"headers":{"etag":"W/\"JzE5OzEyOyc=\""}},{"id":"2","status":204,"headers":{}}]}"#)
        let result = try Self.batch.decode(answer, status: 200, endpoint: "erp")
        #expect(result.responses.map(\.contentID) == ["1", "2", "3"])
        #expect(result.responses[2].serviceError?.code == "Request_EntityChanged")
        #expect(result.responses[0].header("ETag") == #"W/"JzE5OzEyOyc=""#)
    }

    @Test func answersThatDoNotMatchAreRefused() throws {
        let cases = [
            #"{"value":[]}"#,
            #"{"responses":[{"id":"9","status":200},{"id":"1","status":200},{"id":"2","status":200}]}"#,
            #"{"responses":[{"id":"1","status":200},{"id":"1","status":200},{"id":"2","status":200}]}"#,
            #"{"responses":[{"id":"1","status":"OK"},{"id":"2","status":200},{"id":"3","status":200}]}"#,
            #"{"responses":[{"id":"1","status":200},{"id":"2","status":200}]}"#,
            #"{"responses":[{"id":"1","status":200},{"id":"2","status":200},{"id":"3","status":200},{"id":"4","status":200}]}"#,
        ]
        for text in cases {
            #expect(throws: ODataError.self, "\(text)") { try Self.batch.decode(ODataJSON.parse(text), status: 200, endpoint: "erp") }
        }
        let stopped = try Self.batch.decode(ODataJSON.parse(#"{"responses":[{"id":"1","status":400,"body":{"error":{"code":"x","message":"y"}}}]}"#), status: 200, endpoint: "erp")
        #expect(stopped.notExecuted == 2)
    }

    @Test func aJSONBatchTravelsToTheService() async throws {
        let log = ServerLog()
        let answer = try golden("use-odata-batch.response.json")
        try await TestServer.run(routing(api: { _ in .json(answer) }), log: log) { server in
            try await TestSetup().withClient(server) { client, _ in
                let result = try await client.jsonBatch(Self.batch)
                #expect(result.responses.map(\.status) == [200, 204, 400])
                let tooMany = ODataJSONBatch(requests: (0...ODataJSONBatch.maximumRequests).map {
                    ODataJSONBatchRequest(id: "\($0)", method: .get, url: "customers")
                })
                let error = try await expectODataError { _ = try await client.jsonBatch(tooMany) }
                guard case .invalidRequest(let problem) = error.kind else { Issue.record("\(error)"); return }
                #expect(problem.contains("1 to 100 requests, not 101"))
            }
        }
        let sent = try #require(await log.apiRequests.first)
        #expect(await log.apiRequests.count == 1)
        #expect(sent.path == "/api/data/v9.2/$batch")
        #expect(sent.header("Content-Type") == "application/json")
        #expect(sent.header("Isolation") == "snapshot")
        #expect(try ODataJSON.parse(sent.body) == Self.batch.json)
    }
}
