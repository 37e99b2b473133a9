import BusinessCentralEmulator
import Foundation
import Testing

/// JSON `$batch`: at most 100 requests, continue-on-error, dependsOn and atomicity groups.
@Suite("Business Central emulator batches")
struct BusinessCentralBatchTests {
    /// A batch body from `(id, method, url, body, extra members)` requests.
    static func batch(_ requests: [(id: String, method: String, url: String, body: String?, extra: String)]) -> String {
        let items = requests.map { request in
            var members = [#""id": "\#(request.id)""#, #""method": "\#(request.method)""#, #""url": "\#(request.url)""#]
            members.append(#""headers": {"Content-Type": "application/json", "If-Match": "*"}"#)
            if let body = request.body { members.append(#""body": \#(body)"#) }
            if !request.extra.isEmpty { members.append(request.extra) }
            return "{" + members.joined(separator: ", ") + "}"
        }
        return #"{"requests": ["# + items.joined(separator: ", ") + "]}"
    }

    static func statuses(_ reply: Reply) -> [String: Int] {
        var result: [String: Int] = [:]
        for response in reply.json["responses"]?.arrayValue ?? [] {
            if let id = response["id"]?.stringValue, case .number(let status)? = response["status"] { result[id] = Int(status) }
        }
        return result
    }

    @Test("A batch of 100 runs; 101 is refused")
    func limit() async throws {
        try await withBusinessCentral(setup: customerTables) { bc in
            let hundred = (1...100).map { ("r\($0)", "POST", bc.company + "customers", Optional(#"{"displayName": "C\#($0)"}"#), "") }
            let reply = try await bc.send(.POST, "$batch", body: Self.batch(hundred))
            #expect(reply.status == 200)
            #expect(Self.statuses(reply).values.allSatisfy { $0 == 201 } && Self.statuses(reply).count == 100)
            let tooMany = try await bc.send(.POST, "$batch", body: Self.batch(hundred + [("r101", "GET", bc.company + "customers", nil, "")]))
            #expect(tooMany.status == 400)
            #expect(try await bc.send(.GET, bc.company + "customers/$count").body == "100")
            #expect(bc.emulator.stats().requestsByRoute["POST $batch"] == 2)
        }
    }

    @Test("Without continue-on-error the batch stops at the first failure; with it every request runs")
    func continueOnError() async throws {
        try await withBusinessCentral(setup: customerTables) { bc in
            let requests = [
                ("a", "POST", bc.company + "customers", Optional(#"{"displayName": "A"}"#), ""),
                ("b", "POST", bc.company + "customers", Optional(#"{"city": "no name"}"#), ""),
                ("c", "POST", "/v2.0/tenant/production/api/v2.0/" + bc.company + "customers", Optional(#"{"displayName": "C"}"#), ""),
            ]
            let stopped = try await bc.send(.POST, "$batch", body: Self.batch(requests))
            #expect(Self.statuses(stopped) == ["a": 201, "b": 400])
            let continued = try await bc.send(.POST, "$batch", headers: [("Prefer", "odata.continue-on-error")], body: Self.batch(requests))
            #expect(Self.statuses(continued) == ["a": 201, "b": 400, "c": 201])
            #expect(try await bc.send(.GET, bc.company + "customers/$count").body == "3")
        }
    }

    @Test("dependsOn a failed request answers 424; an atomicity group keeps none of its changes when one fails")
    func dependenciesAndGroups() async throws {
        try await withBusinessCentral(setup: customerTables) { bc in
            let requests = [
                ("g1", "POST", bc.company + "customers", Optional(#"{"displayName": "Grouped 1"}"#), #""atomicityGroup": "g""#),
                ("g2", "POST", bc.company + "customers", Optional(#"{"displayName": null}"#), #""atomicityGroup": "g""#),
                ("after", "POST", bc.company + "customers", Optional(#"{"displayName": "After"}"#), #""dependsOn": ["g"]"#),
                ("free", "POST", bc.company + "customers", Optional(#"{"displayName": "Free"}"#), ""),
                ("needsFree", "GET", bc.company + "customers?$filter=displayName eq 'Free'", nil, #""dependsOn": ["free"]"#),
            ]
            let reply = try await bc.send(.POST, "$batch", headers: [("Prefer", "odata.continue-on-error")], body: Self.batch(requests))
            #expect(Self.statuses(reply) == ["g1": 424, "g2": 400, "after": 424, "free": 201, "needsFree": 200], "\(reply.body)")
            let names = try await bc.send(.GET, bc.company + "customers").json["value"]?.arrayValue?.compactMap { $0["displayName"]?.stringValue }
            #expect(names == ["Free"])
            let inner = try #require(reply.json["responses"]?.arrayValue?.first { $0["id"]?.stringValue == "free" })
            #expect(inner["headers"]?["location"]?.stringValue?.hasPrefix(bc.root) == true)
            #expect(inner["body"]?["displayName"] == .string("Free"))
        }
    }
}
