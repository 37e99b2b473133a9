import DataverseEmulator
import Foundation
import Postgres
import Testing

/// `$batch` beyond the documentation's examples: refused change sets, the 1000-request limit, `$n` in binds.
@Suite("Emulator $batch")
struct BatchTests {
    static let setup = """
        CREATE TABLE account (accountid uuid PRIMARY KEY DEFAULT gen_random_uuid(), name text NOT NULL);
        CREATE TABLE contact (
          contactid uuid PRIMARY KEY DEFAULT gen_random_uuid(), lastname text NOT NULL,
          parentcustomerid uuid, parentcustomeridtype text NOT NULL DEFAULT 'account');
        """

    static func create(_ set: String, _ body: String, id: String? = nil) -> String {
        httpPart("POST /api/data/v9.2/\(set) HTTP/1.1\nContent-Type: application/json\n\n\(body)", contentID: id)
    }

    static func names(_ emulated: Emulated) async throws -> [String] {
        let connection = try await emulated.database.connect()
        defer { connection.close() }
        return try await connection.query("SELECT name FROM account ORDER BY name").map { try $0.decode(String.self, at: 0) }
    }

    @Test("Under continue-on-error a refused change set is rolled back alone and the batch goes on")
    func refusedChangeSetContinues() async throws {
        try await withEmulator(setup: Self.setup) { emulated in
            let refused = changeSetPart(boundary: "changeset_a", [
                Self.create("accounts", #"{"name": "Rolled back"}"#, id: "1"),
                Self.create("contacts", #"{"lastname": "X", "parentcustomerid_account@odata.bind": "/accounts(00000000-0000-0000-0000-00000000dead)"}"#, id: "2"),
            ])
            let accepted = changeSetPart(boundary: "changeset_b", [Self.create("accounts", #"{"name": "Kept"}"#, id: "1")])
            let body = batchBody(boundary: "batch_x", [refused, accepted])
            let reply = try await emulated.send(
                .POST, "$batch", headers: [("Content-Type", "multipart/mixed; boundary=batch_x"), ("Prefer", "odata.continue-on-error")], body: body)
            #expect(reply.status == 200)
            let parts = parseMultipart(reply.body)
            #expect(parts.count == 2)
            #expect(parts.first?.status == 400)
            #expect(parts.first?.headers.first { $0.0 == "content-id" }?.1 == "2")
            #expect(parts.first?.body.contains("Does Not Exist") == true)
            #expect(parts.last?.changeSet?.map(\.status) == [204])
            do {
                let value = try await Self.names(emulated)
                #expect(value == ["Kept"])
            }
        }
    }

    @Test("Without continue-on-error the batch stops at the refused change set and takes its status")
    func refusedChangeSetStops() async throws {
        try await withEmulator(setup: Self.setup) { emulated in
            let refused = changeSetPart(boundary: "changeset_a", [
                Self.create("accounts", #"{"name": "Rolled back"}"#), Self.create("accounts", #"{"nam": "typo"}"#),
            ])
            let never = changeSetPart(boundary: "changeset_b", [Self.create("accounts", #"{"name": "Never"}"#)])
            let reply = try await emulated.send(
                .POST, "$batch", headers: [("Content-Type", "multipart/mixed; boundary=batch_x")], body: batchBody(boundary: "batch_x", [refused, never]))
            #expect(reply.status == 400)
            #expect(parseMultipart(reply.body).count == 1)
            #expect(try await Self.names(emulated).isEmpty)
        }
    }

    @Test("$<Content-ID> names a record created earlier in the change set, in a bind")
    func contentIDReference() async throws {
        try await withEmulator(setup: Self.setup) { emulated in
            let set = changeSetPart(boundary: "changeset_a", [
                Self.create("accounts", #"{"name": "Parent"}"#, id: "1"),
                Self.create("contacts", #"{"lastname": "Child", "parentcustomerid_account@odata.bind": "$1"}"#, id: "2"),
            ])
            let reply = try await emulated.send(
                .POST, "$batch", headers: [("Content-Type", "multipart/mixed; boundary=batch_x")], body: batchBody(boundary: "batch_x", [set]))
            #expect(reply.status == 200)
            let contacts = try await emulated.send(
                .GET, "contacts?$select=lastname,_parentcustomerid_value", headers: [("Prefer", #"odata.include-annotations="*""#)])
            let contact = try #require(contacts.json["value"]?.arrayValue?.first)
            #expect(contact["_parentcustomerid_value@OData.Community.Display.V1.FormattedValue"] == .string("Parent"))
            #expect(contact["_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname"] == .string("account"))
        }
    }

    @Test("More than 1000 requests in one batch are refused whole")
    func requestLimit() async throws {
        try await withEmulator(setup: Self.setup) { emulated in
            let get = httpPart("GET /api/data/v9.2/accounts HTTP/1.1\n")
            let reply = try await emulated.send(
                .POST, "$batch", headers: [("Content-Type", "multipart/mixed; boundary=b")],
                body: batchBody(boundary: "b", Array(repeating: get, count: 1001)))
            #expect(reply.status == 400)
            #expect(reply.json["error"]?["message"]?.stringValue?.contains("1000") == true)
        }
    }

    @Test("GET is refused inside a change set")
    func getInChangeSet() async throws {
        try await withEmulator(setup: Self.setup) { emulated in
            let set = changeSetPart(boundary: "cs", [httpPart("GET /api/data/v9.2/accounts HTTP/1.1\n")])
            let reply = try await emulated.send(
                .POST, "$batch", headers: [("Content-Type", "multipart/mixed; boundary=b")], body: batchBody(boundary: "b", [set]))
            #expect(reply.status == 400)
        }
    }
}
