import DataverseEmulator
import Demo
import Foundation
import Postgres
import PostgresTestSupport
import Testing

/// The emulator serves the demo CRM's tables as they are: entity sets, lookups, binds, metadata.
@Suite("Emulator over the demo CRM")
struct DemoCRMTests {
    static let user = "10000000-0000-0000-0000-000000000001"
    static let team = "20000000-0000-0000-0000-000000000001"
    static let currency = "30000000-0000-0000-0000-000000000001"
    static let account = "40000000-0000-0000-0000-000000000001"
    static let contact = "50000000-0000-0000-0000-000000000001"

    static let setup = CRMSchema.script + """

        INSERT INTO systemuser (systemuserid, fullname) VALUES ('\(user)', 'Alex Seller');
        INSERT INTO team (teamid, name) VALUES ('\(team)', 'Sales Team');
        INSERT INTO transactioncurrency (transactioncurrencyid, isocurrencycode, currencyname, exchangerate)
          VALUES ('\(currency)', 'EUR', 'Euro', 1);
        INSERT INTO account (accountid, name, ownerid, transactioncurrencyid) VALUES ('\(account)', 'Contoso', '\(user)', '\(currency)');
        INSERT INTO contact (contactid, fullname, lastname, parentcustomerid) VALUES ('\(contact)', 'Yvonne McKay', 'McKay', '\(account)');
        """

    @Test("Entity sets: English plurals of the tables keyed <table>id; other tables are not entities")
    func entitySets() async throws {
        try await withEmulator(setup: Self.setup) { emulated in
            let service = try await emulated.send(.GET, "")
            let names = Set(service.json["value"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? [])
            for name in ["accounts", "contacts", "systemusers", "teams", "transactioncurrencies", "opportunities", "salesorders", "salesorderdetails", "invoices", "uoms", "uomschedules", "pricelevels", "productpricelevels", "posts", "organizations"] {
                #expect(names.contains(name), "\(name) missing from \(names.sorted())")
            }
            #expect(!names.contains("account_statisticses") && !names.contains("paymenttermsoptions"))
            do {
                let value = try await emulated.send(.GET, "account_statisticses").status
                #expect(value == 404)
            }
        }
    }

    @Test("Metadata: EntityDefinitions with Attributes, and lookup targets, in the documented shapes")
    func metadata() async throws {
        try await withEmulator(setup: Self.setup) { emulated in
            let entity = try await emulated.send(
                .GET, "EntityDefinitions(LogicalName='account')?$select=LogicalName,EntitySetName,PrimaryIdAttribute&$expand=Attributes($select=LogicalName,AttributeType)").json
            #expect(entity["@odata.context"]?.stringValue?.hasSuffix("$metadata#EntityDefinitions(LogicalName,EntitySetName,PrimaryIdAttribute,Attributes(LogicalName,AttributeType))/$entity") == true)
            #expect(entity["EntitySetName"] == .string("accounts"))
            #expect(entity["PrimaryIdAttribute"] == .string("accountid"))
            #expect(entity["MetadataId"]?.stringValue.map(isGUID) == true)
            let attributes = entity["Attributes"]?.arrayValue ?? []
            func type(_ name: String) -> String? { attributes.first { $0["LogicalName"] == .string(name) }?["AttributeType"]?.stringValue }
            #expect(type("accountid") == "Uniqueidentifier")
            #expect(type("name") == "String")
            #expect(type("ownerid") == "Owner")
            #expect(type("owneridtype") == "EntityName")
            #expect(type("transactioncurrencyid") == "Lookup")
            #expect(type("creditlimit") == "Money")
            #expect(type("statecode") == "State")
            #expect(type("paymenttermscode") == "Picklist")
            #expect(type("modifiedon") == "DateTime")

            let lookups = try await emulated.send(
                .GET, "EntityDefinitions(LogicalName='contact')/Attributes/Microsoft.Dynamics.CRM.LookupAttributeMetadata?$select=LogicalName,Targets").json
            #expect(lookups["@odata.context"]?.stringValue?.hasSuffix("$metadata#EntityDefinitions('contact')/Attributes/Microsoft.Dynamics.CRM.LookupAttributeMetadata(LogicalName,Targets)") == true)
            let targets = Dictionary(uniqueKeysWithValues: (lookups["value"]?.arrayValue ?? []).compactMap { value -> (String, [String])? in
                guard let name = value["LogicalName"]?.stringValue, let targets = value["Targets"]?.arrayValue else { return nil }
                #expect(value["@odata.type"] == .string("#Microsoft.Dynamics.CRM.LookupAttributeMetadata"))
                return (name, targets.compactMap(\.stringValue))
            })
            #expect(targets["ownerid"] == ["systemuser", "team"])
            #expect(targets["parentcustomerid"] == ["account", "contact"])
            #expect(targets["transactioncurrencyid"] == ["transactioncurrency"])
            let unknown = try await emulated.send(.GET, "EntityDefinitions(LogicalName='account')?$select=Colour")
            #expect(unknown.status == 400)
        }
    }

    @Test("Lookups read as _<name>_value with the documented annotations when asked")
    func lookupValues() async throws {
        try await withEmulator(setup: Self.setup) { emulated in
            let plain = try await emulated.send(.GET, "accounts(\(Self.account))?$select=name,_ownerid_value").json
            #expect(plain["_ownerid_value"] == .string(Self.user))
            #expect(plain["_ownerid_value@Microsoft.Dynamics.CRM.lookuplogicalname"] == nil)
            let reply = try await emulated.send(
                .GET, "contacts(\(Self.contact))?$select=fullname,_parentcustomerid_value", headers: [("Prefer", #"odata.include-annotations="*""#)])
            #expect(reply.header("Preference-Applied") == #"odata.include-annotations="*""#)
            let contact = reply.json
            #expect(contact["_parentcustomerid_value"] == .string(Self.account))
            #expect(contact["_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname"] == .string("account"))
            #expect(contact["_parentcustomerid_value@Microsoft.Dynamics.CRM.associatednavigationproperty"] == .string("parentcustomerid_account"))
            #expect(contact["_parentcustomerid_value@OData.Community.Display.V1.FormattedValue"] == .string("Contoso"))
            #expect(contact["parentcustomeridtype"] == nil)
            let filtered = try await emulated.send(.GET, "accounts?$select=name&$filter=_ownerid_value eq \(Self.user)").json
            #expect(filtered["value"]?.arrayValue?.count == 1)
        }
    }

    @Test("Binds set the lookup and its type column; wrong targets and missing records are refused")
    func binds() async throws {
        try await withEmulator(setup: Self.setup) { emulated in
            let toTeam = try await emulated.send(
                .PATCH, "accounts(\(Self.account))", headers: [("If-Match", "*")], body: #"{"ownerid@odata.bind": "/teams(\#(Self.team))"}"#)
            #expect(toTeam.status == 204)
            let owner = try await emulated.send(
                .GET, "accounts(\(Self.account))?$select=_ownerid_value", headers: [("Prefer", #"odata.include-annotations="Microsoft.Dynamics.CRM.lookuplogicalname""#)]).json
            #expect(owner["_ownerid_value@Microsoft.Dynamics.CRM.lookuplogicalname"] == .string("team"))

            let created = try await emulated.send(
                .POST, "contacts", headers: [("Prefer", "return=representation")],
                body: #"{"lastname": "New", "parentcustomerid_contact@odata.bind": "/contacts(\#(Self.contact))"}"#)
            #expect(created.status == 201)
            let id = try #require(created.json["contactid"]?.stringValue)
            let connection = try await emulated.database.connect()
            defer { connection.close() }
            let type = try await connection.query("SELECT parentcustomeridtype FROM contact WHERE contactid = \(id)::uuid").single().decode(String.self, at: 0)
            #expect(type == "contact")

            let wrongSet = try await emulated.send(.POST, "contacts", body: #"{"lastname": "X", "parentcustomerid@odata.bind": "/teams(\#(Self.team))"}"#)
            #expect(wrongSet.status == 400)
            let missing = try await emulated.send(.POST, "contacts", body: #"{"lastname": "X", "parentcustomerid@odata.bind": "/accounts(00000000-0000-0000-0000-00000000dead)"}"#)
            #expect(missing.status == 400)
            #expect(missing.json["error"]?["message"] == .string("account With Id = 00000000-0000-0000-0000-00000000dead Does Not Exist"))
            let direct = try await emulated.send(.POST, "contacts", body: #"{"lastname": "X", "parentcustomerid": "\#(Self.account)"}"#)
            #expect(direct.status == 400)
            let cleared = try await emulated.send(.PATCH, "contacts(\(Self.contact))", headers: [("If-Match", "*")], body: #"{"parentcustomerid@odata.bind": null}"#)
            #expect(cleared.status == 204)
            do {
                let value = try await emulated.send(.GET, "contacts(\(Self.contact))?$select=_parentcustomerid_value").json["_parentcustomerid_value"]
                #expect(value == .null)
            }
        }
    }

    @Test("A seeded demo CRM is served whole: paging through every account")
    func seededDemo() async throws {
        try await TestDatabase.with { erp in
            try await TestDatabase.with { crm in
                let erpConnection = try await erp.connect()
                let crmConnection = try await crm.connect()
                _ = try await DemoSeeder(seed: 7, size: DemoSize(customers: 12, items: 5), today: DemoDay(Date()))
                    .seed(erp: erpConnection, crm: crmConnection, reset: false)
                let count = try await crmConnection.query("SELECT count(*) FROM account").single().decode(Int.self, at: 0)
                erpConnection.close()
                crmConnection.close()
                try await withEmulator(on: crm) { emulated in
                    var seen = 0
                    var next: String? = "accounts?$select=name,_ownerid_value,_primarycontactid_value"
                    while let link = next {
                        let reply = try await emulated.send(.GET, link, headers: [("Prefer", "odata.maxpagesize=5")])
                        #expect(reply.status == 200, "\(reply.body)")
                        seen += reply.json["value"]?.arrayValue?.count ?? 0
                        next = reply.json["@odata.nextLink"]?.stringValue
                    }
                    #expect(seen == count)
                }
            }
        }
    }

    @Test("A lookup set and cleared through <lookup>/$ref, as the association documentation does it")
    func references() async throws {
        try await withEmulator(setup: Self.setup) { emulated in
            let set = try await emulated.send(
                .PUT, "accounts(\(Self.account))/primarycontactid/$ref", body: #"{"@odata.id": "\#(emulated.emulator.serviceRoot)contacts(\#(Self.contact))"}"#)
            #expect(set.status == 204, "\(set.body)")
            let after = try await emulated.send(.GET, "accounts(\(Self.account))?$select=_primarycontactid_value").json
            #expect(after["_primarycontactid_value"] == .string(Self.contact))
            #expect(try await emulated.send(.DELETE, "accounts(\(Self.account))/primarycontactid/$ref").status == 204)
            let cleared = try await emulated.send(.GET, "accounts(\(Self.account))?$select=_primarycontactid_value").json
            #expect(cleared["_primarycontactid_value"] == .null)
            #expect(try await emulated.send(.DELETE, "accounts(\(Self.account))/primarycontactid").status == 400)
        }
    }

    @Test("The entity list, and the CSDL document that is not emulated")
    func entityDefinitionsList() async throws {
        try await withEmulator(setup: Self.setup) { emulated in
            let list = try await emulated.send(.GET, "EntityDefinitions?$select=LogicalName,EntitySetName").json
            let names = list["value"]?.arrayValue?.compactMap { $0["LogicalName"]?.stringValue } ?? []
            #expect(names.contains("account") && names.contains("transactioncurrency"))
            #expect(try await emulated.send(.GET, "$metadata").status == 501)
            #expect(try await emulated.send(.GET, "EntityDefinitions(LogicalName='nothing')").status == 404)
        }
    }

    @Test("$expand of lookups: single- and multi-target, on one record and on create with return=representation")
    func expandLookups() async throws {
        try await withEmulator(setup: Self.setup) { emulated in
            let contact = try await emulated.send(.GET, "contacts(\(Self.contact))?$select=fullname&$expand=parentcustomerid_account($select=name)").json
            #expect(contact["@odata.context"]?.stringValue?.hasSuffix("$metadata#contacts(fullname,parentcustomerid_account(name))/$entity") == true)
            #expect(contact["parentcustomerid_account"]?["name"] == .string("Contoso"))
            let account = try await emulated.send(.GET, "accounts(\(Self.account))?$select=name&$expand=ownerid($select=fullname),transactioncurrencyid($select=isocurrencycode)").json
            #expect(account["ownerid"]?["fullname"] == .string("Alex Seller"))
            #expect(account["transactioncurrencyid"]?["isocurrencycode"] == .string("EUR"))
            let created = try await emulated.send(
                .POST, "contacts?$select=lastname&$expand=parentcustomerid_account($select=name)", headers: [("Prefer", "return=representation")],
                body: #"{"lastname": "Expanded", "parentcustomerid_account@odata.bind": "/accounts(\#(Self.account))"}"#)
            #expect(created.status == 201)
            #expect(created.json["parentcustomerid_account"]?["name"] == .string("Contoso"))
            #expect(try await emulated.send(.GET, "accounts?$expand=contact_customer_accounts").status == 400)
            #expect(try await emulated.send(.GET, "accounts?$expand=ownerid($filter=fullname eq 'x')").status == 400)
        }
    }

    @Test("One property of a record: GET <entityset>(<id>)/<property>; a collection-valued navigation property is not found")
    func singleProperty() async throws {
        try await withEmulator(setup: Self.setup) { emulated in
            let name = try await emulated.send(.GET, "accounts(\(Self.account))/name").json
            #expect(name["value"] == .string("Contoso"))
            #expect(name["@odata.context"]?.stringValue?.hasSuffix("$metadata#accounts(\(Self.account))/name") == true)
            let lookup = try await emulated.send(.GET, "accounts(\(Self.account))/_ownerid_value").json
            #expect(lookup["value"] == .string(Self.user))
            let related = try await emulated.send(.GET, "accounts(\(Self.account))/Account_Tasks")
            #expect(related.status == 404)
            #expect(related.json["error"]?["code"] == .string("0x8006088a"))
        }
    }
}
