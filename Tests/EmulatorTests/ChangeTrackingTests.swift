import DataverseEmulator
import Foundation
import Postgres
import Testing

/// Change tracking (use-change-tracking-synchronize-data-external-systems.md): delta links, deletions, expiry.
@Suite("Emulator change tracking")
struct ChangeTrackingTests {
    static let setup = """
        CREATE TABLE account (accountid uuid PRIMARY KEY DEFAULT gen_random_uuid(), name text NOT NULL, telephone1 text);
        INSERT INTO account (accountid, name) VALUES
          ('00000000-0000-0000-0000-000000000001', 'A'), ('00000000-0000-0000-0000-000000000002', 'B'),
          ('00000000-0000-0000-0000-000000000003', 'C');
        """

    /// The delta link of a fresh change-tracking read of all accounts.
    static func deltaLink(_ emulated: Emulated, pageSize: Int? = nil) async throws -> String {
        var headers = [("Prefer", "odata.track-changes")]
        if let pageSize { headers[0].1 += ",odata.maxpagesize=\(pageSize)" }
        var reply = try await emulated.send(.GET, "accounts?$select=name", headers: headers)
        while let next = reply.json["@odata.nextLink"]?.stringValue {
            #expect(reply.json["@odata.deltaLink"] == nil, "a delta link before the last page")
            reply = try await emulated.send(.GET, next, headers: headers)
        }
        guard let link = reply.json["@odata.deltaLink"]?.stringValue else { throw HarnessError("no delta link: \(reply.body)") }
        return link
    }

    @Test("The delta link comes with the last page; its token looks like the documentation's <version>!<date>")
    func pagedInitialRead() async throws {
        try await withEmulator(setup: Self.setup) { emulated in
            let link = try await Self.deltaLink(emulated, pageSize: 2)
            let token = try #require(link.components(separatedBy: "$deltatoken=").last?.removingPercentEncoding)
            #expect(token.range(of: #"^[0-9:,]+![0-9]{2}/[0-9]{2}/[0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2}$"#, options: .regularExpression) != nil, "token \(token)")
            let empty = try await emulated.send(.GET, link)
            #expect(empty.json["value"] == .array([]))
        }
    }

    @Test("Changes committed late by a transaction that was running at the token's read are not missed")
    func lateCommit() async throws {
        try await withEmulator(setup: Self.setup) { emulated in
            let writer = try await emulated.database.connect()
            defer { writer.close() }
            try await writer.runScript("BEGIN; INSERT INTO account (accountid, name) VALUES ('00000000-0000-0000-0000-000000000004', 'Late');", name: "open")
            let link = try await Self.deltaLink(emulated)
            try await writer.runScript("COMMIT", name: "commit")
            let delta = try await emulated.send(.GET, link)
            #expect(delta.json["value"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["Late"])
            let next = try #require(delta.json["@odata.deltaLink"]?.stringValue)
            do {
                let value = try await emulated.send(.GET, next).json["value"]
                #expect(value == .array([]))
            }
        }
    }

    @Test("Delta tokens expire after --delta-token-lifetime with an error asking for a full sync")
    func tokenLifetime() async throws {
        try await withEmulator(setup: Self.setup, configure: { $0.deltaTokenLifetime = 3 }) { emulated in
            let link = try await Self.deltaLink(emulated)
            do {
                let value = try await emulated.send(.GET, link).status
                #expect(value == 200)
            }
            try await Task.sleep(for: .milliseconds(3300))
            let expired = try await emulated.send(.GET, link)
            #expect(expired.status == 400)
            #expect(expired.json["error"]?["message"]?.stringValue?.contains("full sync") == true)
        }
    }

    @Test("Expiring all delta tokens now: old links fail, a new initial read gives a working one")
    func expireAll() async throws {
        try await withEmulator(setup: Self.setup) { emulated in
            let old = try await Self.deltaLink(emulated)
            emulated.emulator.expireDeltaTokens()
            do {
                let value = try await emulated.send(.GET, old).status
                #expect(value == 400)
            }
            let fresh = try await Self.deltaLink(emulated)
            do {
                let value = try await emulated.send(.GET, fresh).status
                #expect(value == 200)
            }
            do {
                let value = try await emulated.send(.POST, "/_emulator/expire-delta-tokens").status
                #expect(value == 204)
            }
            do {
                let value = try await emulated.send(.GET, fresh).status
                #expect(value == 400)
            }
        }
    }

    @Test("Etags change on every write; a delta returns updated records once and deletions as $deletedEntity")
    func etagsAndDeletions() async throws {
        try await withEmulator(setup: Self.setup) { emulated in
            let before = try await emulated.send(.GET, "accounts(00000000-0000-0000-0000-000000000001)").json["@odata.etag"]
            let link = try await Self.deltaLink(emulated)
            do {
                let value = try await emulated.send(.PATCH, "accounts(00000000-0000-0000-0000-000000000001)", headers: [("If-Match", "*")], body: #"{"telephone1":"555"}"#).status
                #expect(value == 204)
            }
            do {
                let value = try await emulated.send(.DELETE, "accounts(00000000-0000-0000-0000-000000000002)").status
                #expect(value == 204)
            }
            let after = try await emulated.send(.GET, "accounts(00000000-0000-0000-0000-000000000001)").json["@odata.etag"]
            #expect(before != after)
            let delta = try await emulated.send(.GET, link)
            let values = try #require(delta.json["value"]?.arrayValue)
            #expect(values.count == 2)
            #expect(values.first?["name"] == .string("A"))
            #expect(values.first?["@odata.etag"] == after)
            #expect(values.last?["reason"] == .string("deleted"))
            #expect(values.last?["id"] == .string("00000000-0000-0000-0000-000000000002"))
            #expect(values.last?["@odata.context"]?.stringValue?.hasSuffix("$metadata#accounts/$deletedEntity") == true)
        }
    }

    @Test("A delta larger than a page is paged by row version; deletions come with its last page")
    func pagedDelta() async throws {
        try await withEmulator(setup: Self.setup) { emulated in
            let link = try await Self.deltaLink(emulated)
            try await sql(emulated, """
                UPDATE account SET telephone1 = '1';
                INSERT INTO account (name) VALUES ('D'), ('E');
                DELETE FROM account WHERE name = 'B';
                """)
            var reply = try await emulated.send(.GET, link, headers: [("Prefer", "odata.maxpagesize=2")])
            var values: [JSONValue] = []
            var pages = 1
            while true {
                values += reply.json["value"]?.arrayValue ?? []
                guard let next = reply.json["@odata.nextLink"]?.stringValue else { break }
                #expect(reply.json["@odata.deltaLink"] == nil)
                reply = try await emulated.send(.GET, next, headers: [("Prefer", "odata.maxpagesize=2")])
                pages += 1
            }
            #expect(pages == 2)
            #expect(values.compactMap { $0["name"]?.stringValue }.sorted() == ["A", "C", "D", "E"])
            #expect(values.last?["reason"] == .string("deleted"))
            #expect(reply.json["@odata.deltaLink"] != nil)
        }
    }

    @Test("<entityset>/$count with a delta token counts the changes since it")
    func deltaCount() async throws {
        try await withEmulator(setup: Self.setup) { emulated in
            let link = try await Self.deltaLink(emulated)
            let token = try #require(link.components(separatedBy: "$deltatoken=").last)
            try await sql(emulated, "UPDATE account SET telephone1 = '1' WHERE name = 'A'; DELETE FROM account WHERE name = 'B';")
            let count = try await emulated.send(.GET, "accounts/$count?$deltatoken=" + token)
            #expect(count.status == 200)
            #expect(count.body == "2")
            #expect(count.header("Content-Type")?.hasPrefix("text/plain") == true)
        }
    }
}
