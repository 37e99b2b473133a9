import BusinessCentralEmulator
import Foundation
import Testing

/// Writing: creates with defaults, updates and deletes under `If-Match`, and the service's errors.
@Suite("Business Central emulator writes")
struct BusinessCentralWriteTests {
    @Test("POST assigns the id and column defaults (the number series) and answers 201 with the entity, Location and ETag")
    func create() async throws {
        try await withBusinessCentral(setup: customerTables) { bc in
            let created = try await bc.send(
                .POST, bc.company + "customers", body: #"{"displayName": "Adatum", "creditLimit": 1500.25, "lastModifiedDateTime": "2001-01-01T00:00:00Z"}"#)
            #expect(created.status == 201, "\(created.body)")
            let id = try #require(created.json["id"]?.stringValue)
            #expect(UUID(uuidString: id) != nil && id == id.lowercased())
            #expect(created.json["number"] == .string("10000"))
            #expect(created.json["creditLimit"] == .number("1500.25"))
            #expect(created.json["type"] == .string("Company"))
            #expect(created.json["lastModifiedDateTime"]?.stringValue?.hasPrefix("2001") == false)
            #expect(created.json["@odata.context"]?.stringValue == bc.root + "$metadata#" + bc.company + "customers/$entity")
            #expect(created.header("Location") == bc.root + bc.company + "customers(\(id))")
            #expect(created.header("ETag") == created.json["@odata.etag"]?.stringValue)
            let next = try await bc.send(.POST, bc.company + "customers", body: #"{"displayName": "Fabrikam", "firstOrderDate": "2026-12-07"}"#)
            #expect(next.json["number"] == .string("10010"))
            #expect(next.json["firstOrderDate"] == .string("2026-12-07"))
        }
    }

    @Test("PATCH and DELETE require If-Match; a stale etag answers 409 Request_EntityChanged; * matches any")
    func concurrency() async throws {
        try await withBusinessCentral(setup: customerTables) { bc in
            let created = try await bc.send(.POST, bc.company + "customers", body: #"{"displayName": "Adatum"}"#)
            let id = try #require(created.json["id"]?.stringValue)
            let firstETag = try #require(created.json["@odata.etag"]?.stringValue)
            let record = bc.company + "customers(\(id))"

            let unconditional = try await bc.send(.PATCH, record, body: #"{"city": "Atlanta"}"#)
            #expect(unconditional.status == 400)
            #expect(unconditional.json["error"]?["code"]?.stringValue == "BadRequest_InvalidToken")

            let updated = try await bc.send(.PATCH, record, headers: [("If-Match", firstETag)], body: #"{"city": "Atlanta"}"#)
            #expect(updated.status == 200, "\(updated.body)")
            #expect(updated.json["city"] == .string("Atlanta"))
            let secondETag = try #require(updated.json["@odata.etag"]?.stringValue)
            #expect(secondETag != firstETag)
            #expect(updated.json["lastModifiedDateTime"] != created.json["lastModifiedDateTime"])

            let stale = try await bc.send(.PATCH, record, headers: [("If-Match", firstETag)], body: #"{"city": "Boston"}"#)
            #expect(stale.status == 409)
            #expect(stale.json["error"]?["code"]?.stringValue == "Request_EntityChanged")
            #expect(stale.json["error"]?["message"]?.stringValue?.hasPrefix("Another user has already changed the record.") == true)
            let staleDelete = try await bc.send(.DELETE, record, headers: [("If-Match", firstETag)])
            #expect(staleDelete.status == 409)
            #expect(try await bc.send(.DELETE, record).status == 400)

            let anyVersion = try await bc.send(.PATCH, record, headers: [("If-Match", "*")], body: #"{"city": "Boston"}"#)
            #expect(anyVersion.status == 200)
            let deleted = try await bc.send(.DELETE, record, headers: [("If-Match", try #require(anyVersion.json["@odata.etag"]?.stringValue))])
            #expect(deleted.status == 204)
            #expect(try await bc.send(.GET, record).status == 404)
            #expect(try await bc.send(.PATCH, record, headers: [("If-Match", "*")], body: "{}").status == 404)
        }
    }

    @Test("Errors name the field: NOT NULL, CHECK, unique, foreign key, too long, unknown property, wrong type, enum option")
    func errors() async throws {
        let currencies = """
            CREATE TABLE currencies (id uuid PRIMARY KEY, code varchar(10) NOT NULL);
            INSERT INTO currencies VALUES ('00000000-0000-0000-0000-0000000000aa', 'USD');
            ALTER TABLE customers ADD CONSTRAINT customer_currency FOREIGN KEY ("currencyId") REFERENCES currencies;
            """
        try await withBusinessCentral(setup: customerTables + currencies) { bc in
            func refusal(_ body: String) async throws -> (Int, String, String) {
                let reply = try await bc.send(.POST, bc.company + "customers", body: body)
                return (reply.status, reply.json["error"]?["code"]?.stringValue ?? "", reply.json["error"]?["message"]?.stringValue ?? "")
            }
            let missing = try await refusal(#"{"city": "Atlanta"}"#)
            #expect(missing.0 == 400 && missing.1 == "BadRequest_RequiredParamNotProvided" && missing.2.contains("displayName"), "\(missing)")
            let negative = try await refusal(#"{"displayName": "A", "creditLimit": -1}"#)
            #expect(negative.0 == 400 && negative.1 == "Application_FieldValidationException" && negative.2.contains("creditLimit"), "\(negative)")
            _ = try await refusal(#"{"displayName": "A", "number": "N1"}"#)
            let duplicate = try await refusal(#"{"displayName": "B", "number": "N1"}"#)
            #expect(duplicate.0 == 400 && duplicate.1 == "Internal_EntityWithSameKeyExists", "\(duplicate)")
            #expect(duplicate.2.hasPrefix("The customer already exists. Identification fields and values: number='N1'"), "\(duplicate)")
            let long = try await refusal(#"{"displayName": "A", "city": "\#(String(repeating: "x", count: 31))"}"#)
            #expect(long.0 == 400 && long.1 == "Application_StringExceededLength", "\(long)")
            let unknown = try await refusal(#"{"displayName": "A", "nickname": "x"}"#)
            #expect(unknown.0 == 400 && unknown.2.contains("'nickname' does not exist on type 'Microsoft.NAV.customer'"), "\(unknown)")
            let mistyped = try await refusal(#"{"displayName": "A", "creditLimit": "lots"}"#)
            #expect(mistyped.0 == 400 && mistyped.2.contains("Edm.Decimal"), "\(mistyped)")
            let option = try await refusal(#"{"displayName": "A", "blocked": "Everything"}"#)
            #expect(option.0 == 400 && option.2.hasPrefix("'Everything' is not an option. The existing options are:  ,Ship,Invoice,All"), "\(option)")
            let badDate = try await refusal(#"{"displayName": "A", "firstOrderDate": "07.12.2026"}"#)
            #expect(badDate.0 == 400 && badDate.2.hasPrefix("Unable to convert value to Date"), "\(badDate)")
            let notJSON = try await refusal("displayName=A")
            #expect(notJSON.0 == 400 && notJSON.1 == "BadRequest" && notJSON.2.hasPrefix("Invalid Request Body"), "\(notJSON)")
            let unrelated = try await refusal(#"{"displayName": "A", "currencyId": "\#(UUID().uuidString)"}"#)
            #expect(unrelated.0 == 400 && unrelated.1 == "Internal_InvalidTableRelation", "\(unrelated)")
            #expect(unrelated.2.hasPrefix("The field currencyId of table customer contains a value ("), "\(unrelated)")
            #expect(unrelated.2.contains("that cannot be found in the related table (currencies)."), "\(unrelated)")
            let related = try await bc.send(
                .POST, bc.company + "customers", body: #"{"displayName": "B", "currencyId": "00000000-0000-0000-0000-0000000000AA"}"#)
            #expect(related.json["currencyId"] == .string("00000000-0000-0000-0000-0000000000aa"))
            let currency = bc.company + "currencies(00000000-0000-0000-0000-0000000000aa)"
            let referenced = try await bc.send(.DELETE, currency, headers: [("If-Match", "*")])
            #expect(referenced.status == 400 && referenced.json["error"]?["code"]?.stringValue == "Application_DialogException", "\(referenced.body)")
            let count = try await bc.send(.GET, bc.company + "customers/$count")
            #expect(count.body == "2")
        }
    }
}
