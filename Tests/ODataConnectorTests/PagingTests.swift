import Foundation
import Testing
@testable import ODataConnector

@Suite struct PagingTests {
    @Test func pagesFollowNextLinksAndEndWithTheDeltaLink() async throws {
        let log = ServerLog()
        let handler = routing(api: { request in
            let host = request.header("Host") ?? ""
            if request.path.contains("skiptoken") {
                return .json(#"{"value":[{"name":"C"}],"@odata.deltaLink":"http://\#(host)/api/data/v9.2/accounts?$select=name&$deltatoken=919042%2108%2f22%2f2017"}"#)
            }
            return .json(#"{"@odata.context":"x","value":[{"name":"A"},{"name":"B"}],"@odata.nextLink":"http://\#(host)/api/data/v9.2/accounts?$select=name&$skiptoken=%3Ccookie%20pagenumber=%222%22%3E"}"#)
        })
        try await TestServer.run(handler, log: log) { server in
            try await TestSetup().withClient(server) { client, _ in
                var names: [String] = []
                var deltaLink: String?
                var pages = 0
                for try await page in client.pages(of: "accounts?$select=name", paging: ODataPaging(maximumPageSize: 2, trackChanges: true)) {
                    pages += 1
                    names += page.records.compactMap { $0["name"]?.stringValue }
                    deltaLink = page.deltaLink ?? deltaLink
                }
                #expect(pages == 2)
                #expect(names == ["A", "B", "C"])
                #expect(deltaLink?.contains("$deltatoken=") == true)
            }
        }
        let requests = await log.apiRequests
        #expect(requests.count == 2)
        #expect(requests.allSatisfy { $0.header("Prefer") == "odata.maxpagesize=2,odata.track-changes" })
        #expect(requests.last?.path.contains("$skiptoken=") == true)
    }

    @Test func aNextLinkToAnotherHostIsRefused() async throws {
        let log = ServerLog()
        let handler = routing(api: { _ in
            .json(#"{"value":[{"name":"A"}],"@odata.nextLink":"https://attacker.example/api/data/v9.2/accounts?$skiptoken=2"}"#)
        })
        let error = try await TestServer.run(handler, log: log) { server in
            try await TestSetup().withClient(server) { client, _ in
                try await expectODataError {
                    for try await _ in client.pages(of: "accounts") {}
                }
            }
        }
        guard case .invalidRequest(let problem) = error.kind else { Issue.record("\(error)"); return }
        #expect(problem.contains("not on the service's host"))
        #expect(await log.apiRequests.count == 1)
    }

    @Test func aPageWithoutValueIsRefused() async throws {
        let handler = routing(api: { _ in .json(#"{"name":"not a collection"}"#) })
        try await TestServer.run(handler) { server in
            try await TestSetup().withClient(server) { client, _ in
                let error = try await expectODataError { for try await _ in client.pages(of: "accounts") {} }
                guard case .invalidResponse(200, _, _) = error.kind else { Issue.record("\(error)"); return }
            }
        }
    }
}
