import Foundation
import Testing
@testable import ODataConnector

@Suite struct MultipartBatchTests {
    static let account = "accounts(00000000-0000-0000-0000-000000000001)"
    static let root = URL(string: "https://org.crm.dynamics.com/api/data/v9.2/") ?? URL(fileURLWithPath: "/")

    static func createTask(_ number: Int) -> ODataBatchRequest {
        ODataBatchRequest(method: .post, url: "tasks", body: .object([
            "subject": .string("Task \(number) in batch"),
            "regardingobjectid_account_task@odata.bind": .string(account),
        ]))
    }

    static let readTasks = ODataBatchRequest(method: .get, url: "\(account)/Account_Tasks?$select=subject")

    /// The documentation's first batch: three creates and a GET.
    static let plainBatch = ODataBatch(items: [.request(createTask(1)), .request(createTask(2)), .request(createTask(3)), .request(readTasks)])
    /// The documentation's change set batch.
    static let changeSetBatch = ODataBatch(items: [.changeSet([createTask(1), createTask(2), createTask(3)]), .request(readTasks)])

    private func lf(_ text: String) -> String { text.replacingOccurrences(of: "\r\n", with: "\n") }
    private func crlf(_ text: String) -> [UInt8] { Array(lf(text).replacingOccurrences(of: "\n", with: "\r\n").utf8) }

    @Test func theRequestIsTheDocumentationsExample() throws {
        let encoded = ODataMultipartBatch.encode(Self.plainBatch, serviceRoot: Self.root, batchID: "80dd1615-2a10-428a-bb6f-0e559792721f", prettyBodies: true)
        #expect(encoded.contentType == #"multipart/mixed; boundary="batch_80dd1615-2a10-428a-bb6f-0e559792721f""#)
        #expect(lf(encoded.body) == (try golden("execute-batch-operations-using-web-api.batch-request.http")))
        let compact = ODataMultipartBatch.encode(Self.plainBatch, serviceRoot: Self.root, batchID: "1")
        #expect(!compact.body.replacingOccurrences(of: "\r\n", with: "").contains("\n"), "every line ends in CRLF")
    }

    @Test func theChangeSetRequestIsTheDocumentationsExample() throws {
        let encoded = ODataMultipartBatch.encode(
            Self.changeSetBatch, serviceRoot: Self.root, batchID: "22975cad-7f57-410d-be15-6363209367ea",
            changeSetID: { _ in "246e6bfe-89a4-4c77-b293-7a433f082e8a" }, prettyBodies: true
        )
        #expect(lf(encoded.body) == (try golden("execute-batch-operations-using-web-api.changeset-request.http")))
    }

    @Test(arguments: [false, true])
    func theResponseIsReadWithLFOrCRLF(crlfLines: Bool) throws {
        let text = try golden("execute-batch-operations-using-web-api.batch-response.http")
        let body = crlfLines ? crlf(text) : Array(text.utf8)
        let result = try ODataMultipartBatch.decode(
            body, contentType: "multipart/mixed; boundary=batchresponse_01346794-f2e2-4d45-8cc2-f97e09fe8916",
            status: 200, for: Self.plainBatch, endpoint: "crm"
        )
        #expect(result.responses.map(\.status) == [204, 204, 204, 200])
        #expect(result.responses.map(\.requestIndex) == [0, 1, 2, 3])
        #expect(result.notExecuted == 0)
        #expect(result.responses[0].entityID == "[Organization Uri]/api/data/v9.2/tasks(d31ba648-c592-ed11-aad1-000d3a993550)")
        #expect(result.responses[0].body == nil)
        let tasks = try #require(result.responses[3].body?["value"]?.arrayValue)
        #expect(tasks.map { $0["@odata.etag"]?.stringValue } == [#"W/"77180907""#, #"W/"77180910""#, #"W/"77180913""#])
    }

    @Test func theChangeSetResponseIsMatchedByContentID() throws {
        let text = try golden("execute-batch-operations-using-web-api.changeset-response.http")
        let result = try ODataMultipartBatch.decode(
            crlf(text), contentType: "multipart/mixed; boundary=batchresponse_f27ef42d-51b0-4685-bac9-f468f844de2f",
            status: 200, for: Self.changeSetBatch, endpoint: "crm"
        )
        #expect(result.responses.map(\.contentID) == ["1", "2", "3", nil])
        #expect(result.responses.map(\.status) == [204, 204, 204, 200])
        #expect(result.responses[2].entityID?.hasSuffix("tasks(e93ffc82-e292-ed11-aad1-000d3a9933c9)") == true)
    }

    @Test func headersWithoutASpaceAfterTheColonAreRead() throws {
        let batch = ODataBatch(items: [.changeSet([
            ODataBatchRequest(method: .post, url: "contacts", body: .object(["firstname": .string("First Name")])),
            ODataBatchRequest(method: .put, url: "$1/lastname", body: .object(["value": .string("BBBBB")])),
        ])])
        let result = try ODataMultipartBatch.decode(
            Array(golden("execute-batch-operations-using-web-api.reference-uri-response.http").utf8),
            contentType: "multipart/mixed; boundary=batchresponse_2cb48f48-39a8-41ea-aa52-132fa8ab3c2d", status: 200, for: batch, endpoint: "crm"
        )
        #expect(result.responses.count == 2)
        #expect(result.responses[0].entityID == "[Organization URI]/api/data/v9.2/contacts(f8ea5d2c-8c75-e911-a97a-000d3a34a1bd)")
        let encoded = ODataMultipartBatch.encode(batch, serviceRoot: Self.root, batchID: "AAA123", changeSetID: { _ in "x" })
        #expect(encoded.body.contains("\r\nPUT $1/lastname HTTP/1.1\r\n"))
    }

    static let threeCreates = ODataBatch(items: [.request(createTask(1)), .request(createTask(2)), .request(createTask(3))])

    @Test func aFailureStopsTheBatchWithoutContinueOnError() throws {
        let body = Array(try golden("execute-batch-operations-using-web-api.error-response.http").utf8)
        let contentType = "multipart/mixed; boundary=batchresponse_156da4b8-cd2c-4862-a911-4aaab97c001a"
        let result = try ODataMultipartBatch.decode(body, contentType: contentType, status: 400, for: Self.threeCreates, endpoint: "crm")
        #expect(result.status == 400)
        #expect(result.responses.count == 1)
        #expect(result.notExecuted == 2)
        #expect(result.responses[0].serviceError?.code == "0x80044331")
        var continuing = Self.threeCreates
        continuing.continueOnError = true
        #expect(throws: ODataError.self) {
            try ODataMultipartBatch.decode(body, contentType: contentType, status: 400, for: continuing, endpoint: "crm")
        }
    }

    @Test func continueOnErrorAnswersEveryRequest() throws {
        var batch = Self.threeCreates
        batch.continueOnError = true
        let result = try ODataMultipartBatch.decode(
            Array(golden("execute-batch-operations-using-web-api.continue-on-error-response.http").utf8),
            contentType: "multipart/mixed; boundary=batchresponse_f44bd09d-573f-4a30-bca0-2e500ee7e139", status: 200, for: batch, endpoint: "crm"
        )
        #expect(result.responses.map(\.status) == [400, 204, 204])
        #expect(result.responses[0].serviceError?.message.hasPrefix("A validation error occurred.") == true)
    }

    @Test func answersThatDoNotMatchAreRefused() throws {
        let text = try golden("execute-batch-operations-using-web-api.batch-response.http")
        let contentType = "multipart/mixed; boundary=batchresponse_01346794-f2e2-4d45-8cc2-f97e09fe8916"
        let closing = "--batchresponse_01346794-f2e2-4d45-8cc2-f97e09fe8916--\n"
        let cutShort = String(text.dropLast(closing.count + 40))
        let cases: [(String, ODataBatch, String)] = [
            (cutShort, Self.plainBatch, "closing boundary"),
            (text, Self.threeCreates, "4 answers to 3 batch items"),
            (text, ODataBatch(items: Self.plainBatch.items + [.request(Self.readTasks)]), "no failure stopped the batch"),
            (text, ODataBatch(items: [.changeSet([Self.createTask(1)])] + Self.plainBatch.items.dropFirst()), "a change set answered with a single 204"),
            (text.replacingOccurrences(of: "Content-Type: application/http", with: "Content-Type: text/plain"), Self.plainBatch, "where an HTTP response was expected"),
            (text.replacingOccurrences(of: "HTTP/1.1 200 OK", with: "HTTP/1.1 OK"), Self.plainBatch, "status line"),
            (text.replacingOccurrences(of: "\"value\": [", with: "\"value\": [[["), Self.plainBatch, "does not parse"),
            ("no boundary here", Self.plainBatch, "no part starts"),
        ]
        for (body, batch, expected) in cases {
            do {
                _ = try ODataMultipartBatch.decode(Array(body.utf8), contentType: contentType, status: 200, for: batch, endpoint: "crm")
                Issue.record("accepted; expected \(expected)")
            } catch let error as ODataError {
                #expect(error.description.contains(expected), "\(error)")
            }
        }
    }

    @Test func aBatchTravelsToTheService() async throws {
        let log = ServerLog()
        let answer = try golden("execute-batch-operations-using-web-api.continue-on-error-response.http")
        let handler = routing(api: { _ in
            ScriptedResponse(status: 200, headers: [("Content-Type", "multipart/mixed; boundary=batchresponse_f44bd09d-573f-4a30-bca0-2e500ee7e139")], body: answer)
        })
        var batch = Self.threeCreates
        batch.continueOnError = true
        try await TestServer.run(handler, log: log) { server in
            try await TestSetup().withClient(server) { client, _ in
                let result = try await client.batch(batch)
                #expect(result.responses.map(\.status) == [400, 204, 204])
                let empty = try await expectODataError { _ = try await client.batch(ODataBatch(items: [])) }
                guard case .invalidRequest = empty.kind else { Issue.record("\(empty)"); return }
                let offHost = try await expectODataError {
                    _ = try await client.batch(ODataBatch(items: [.request(ODataBatchRequest(method: .get, url: "https://evil.example/x"))]))
                }
                guard case .invalidRequest = offHost.kind else { Issue.record("\(offHost)"); return }
            }
        }
        let sent = try #require(await log.apiRequests.first)
        #expect(await log.apiRequests.count == 1)
        #expect(sent.method == "POST")
        #expect(sent.path == "/api/data/v9.2/$batch")
        #expect(sent.header("Prefer") == "odata.continue-on-error")
        let contentType = try #require(sent.header("Content-Type"))
        let boundary = try #require(ResponseReader.parameter("boundary", of: contentType))
        #expect(boundary.hasPrefix("batch_"))
        #expect(sent.bodyText.hasPrefix("--\(boundary)\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nPOST /api/data/v9.2/tasks HTTP/1.1\r\n"))
        #expect(sent.bodyText.hasSuffix("\r\n--\(boundary)--\r\n"))
    }
}
