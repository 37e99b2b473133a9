import Foundation
import Testing
@testable import Sync

/// The CUSTOMER ↔ account mapping of DOMAIN.md, with one field of each kind.
enum CustomerFields {
    static let mapping = MappingSettings(name: "CUSTOMER", localTable: "customer", integrationTable: "account",
                                         direction: .bidirectional)

    static func fields() throws -> [FieldMapping] {
        [
            FieldMapping(local: "name", integration: "name"),
            FieldMapping(local: "salesperson_code", integration: "ownerid", direction: .toIntegration,
                         toIntegration: try chain("lookup(SALESPEOPLE)"), notNull: true),
            FieldMapping(local: "credit_limit", integration: "creditlimit", comparison: .numeric),
            FieldMapping(local: "phone_no", integration: "telephone1", direction: .fromIntegration,
                         fromIntegration: try chain("trim")),
            FieldMapping(local: "", integration: "customertypecode", direction: .toIntegration, constant: "3"),
        ]
    }

    /// Salesperson JR is coupled to CRM user user-7; nobody else is coupled.
    static func salespeople(_ mapping: String, _ value: String) -> String? {
        mapping == "SALESPEOPLE" && value == "JR" ? "user-7" : nil
    }

    static func diff(_ direction: SyncDirection = .toIntegration) throws -> FieldDiff {
        FieldDiff(mapping: mapping, fields: try fields(), direction: direction)
    }

    static let erpRecord: FieldValues = ["name": "Adatum", "salesperson_code": "JR", "credit_limit": "1.50", "phone_no": "0301"]
    static let crmRecord: FieldValues = ["name": "Adatum", "ownerid": "user-7", "creditlimit": "1.5",
                                         "telephone1": " 0302 ", "customertypecode": "3"]
}

@Suite("FieldDiff")
struct FieldDiffTests {
    @Test("an update writes nothing when every carried field already holds its value")
    func nothingChanged() throws {
        let changes = try CustomerFields.diff().changes(sourceID: "10000", source: CustomerFields.erpRecord,
                                                        target: CustomerFields.crmRecord, lookup: CustomerFields.salespeople)
        #expect(changes.isEmpty)
    }

    @Test("an update writes only the fields that differ")
    func onlyChangedFields() throws {
        var source = CustomerFields.erpRecord
        source["name"] = "Adatum Corporation"
        let changes = try CustomerFields.diff().changes(sourceID: "10000", source: source,
                                                        target: CustomerFields.crmRecord, lookup: CustomerFields.salespeople)
        #expect(changes == ["name": "Adatum Corporation"])
    }

    @Test("a NULL source value is written as NULL over a value")
    func writesNull() throws {
        var source = CustomerFields.erpRecord
        source["name"] = .some(nil)
        let changes = try CustomerFields.diff().changes(sourceID: "10000", source: source,
                                                        target: CustomerFields.crmRecord, lookup: CustomerFields.salespeople)
        #expect(changes.count == 1)
        #expect(changes["name"] == .some(nil))
    }

    @Test("NULL and the empty string differ")
    func nullIsNotEmpty() throws {
        var target = CustomerFields.crmRecord
        target["name"] = ""
        var source = CustomerFields.erpRecord
        source["name"] = .some(nil)
        let changes = try CustomerFields.diff().changes(sourceID: "10000", source: source, target: target,
                                                        lookup: CustomerFields.salespeople)
        #expect(changes.keys.sorted() == ["name"])
    }

    @Test("an insert writes every non-NULL value and leaves NULLs to the target's defaults")
    func insertWritesAllValues() throws {
        var source = CustomerFields.erpRecord
        source["credit_limit"] = .some(nil)
        let changes = try CustomerFields.diff().changes(sourceID: "10000", source: source, target: nil,
                                                        lookup: CustomerFields.salespeople)
        #expect(changes == ["name": "Adatum", "ownerid": "user-7", "customertypecode": "3"])
    }

    @Test("a field mapped only the other way is never written")
    func perFieldDirection() throws {
        var target = CustomerFields.crmRecord
        target["telephone1"] = "999"
        let toCRM = try CustomerFields.diff(.toIntegration).changes(
            sourceID: "10000", source: CustomerFields.erpRecord, target: target, lookup: CustomerFields.salespeople)
        #expect(toCRM["telephone1"] == nil)

        var erp = CustomerFields.erpRecord
        erp["salesperson_code"] = "XX"
        let toERP = try CustomerFields.diff(.fromIntegration).changes(
            sourceID: "acc-1", source: CustomerFields.crmRecord, target: erp)
        #expect(toERP == ["phone_no": "0302"])
    }

    @Test("the diff keeps only the fields of its direction")
    func keepsFieldsOfDirection() throws {
        #expect(try CustomerFields.diff(.toIntegration).fields.map(\.integrationField) == ["name", "ownerid", "creditlimit", "customertypecode"])
        #expect(try CustomerFields.diff(.fromIntegration).fields.map(\.localField) == ["name", "credit_limit", "phone_no"])
    }

    @Test("a constant is written without reading a source column, and only when it differs")
    func constants() throws {
        var target = CustomerFields.crmRecord
        target["customertypecode"] = "1"
        let changes = try CustomerFields.diff().changes(sourceID: "10000", source: CustomerFields.erpRecord,
                                                        target: target, lookup: CustomerFields.salespeople)
        #expect(changes == ["customertypecode": "3"])
    }

    @Test("a constant passes through the direction's rules")
    func constantIsTransformed() throws {
        let field = FieldMapping(local: "x", integration: "code", direction: .toIntegration,
                                 toIntegration: try chain("lowercase"), constant: "ABC")
        let diff = FieldDiff(mapping: CustomerFields.mapping, fields: [field], direction: .toIntegration)
        #expect(try diff.changes(sourceID: "1", source: [:], target: nil) == ["code": "abc"])
    }

    @Test("numeric fields compare as numbers", arguments: [
        ("1.50", "1.5", true), ("1.5", "1.6", false), ("100", "1e2", true), ("-0", "0", true),
        ("abc", "abc", true), ("abc", "ABC", false), ("1", "", false),
    ])
    func numericComparison(left: String, right: String, same: Bool) {
        #expect(FieldComparison.numeric.same(left, right) == same)
        #expect(FieldComparison.numeric.same(right, left) == same)
    }

    @Test("text comparison is exact", arguments: [
        ("a", "a", true), ("a", "A", false), ("1.5", "1.50", false), ("\u{E9}", "e\u{301}", false), ("", "", true),
        ("Avenue des Champs-Élysées 101, 75008 Paris", "Avenue des Champs-Élysées 101, 75008 Paris", true),
        ("Avenue des Champs-Élysées 101, 75008 Paris", "Avenue des Champs-Élysées 101, 75008 Pari5", false),
    ])
    func textComparison(left: String, right: String, same: Bool) {
        #expect(FieldComparison.text.same(left, right) == same)
    }

    @Test("date-time fields compare as instants", arguments: [
        ("2025-03-30 01:00:00+02", "2025-03-29T23:00:00Z", true),
        ("2025-03-29 23:00:00", "2025-03-29 23:00:00+00", true),
        ("2025-03-30", "2025-03-30 00:00:00+00", true),
        ("2025-03-30 01:00:00+02", "2025-03-30 01:00:00+00", false),
        ("soon", "soon", true), ("soon", "later", false),
    ])
    func dateTimeComparison(left: String, right: String, same: Bool) {
        #expect(FieldComparison.dateTime.same(left, right) == same)
    }

    @Test("NULL equals only NULL under every comparison", arguments: [FieldComparison.text, .numeric, .dateTime])
    func nullComparison(comparison: FieldComparison) {
        #expect(comparison.same(nil, nil))
        #expect(!comparison.same(nil, "0"))
        #expect(!comparison.same("", nil))
    }

    @Test("numeric fields do not rewrite an equal number")
    func numericEqualNotWritten() throws {
        var source = CustomerFields.erpRecord
        source["credit_limit"] = "1.500"
        let changes = try CustomerFields.diff().changes(sourceID: "10000", source: source,
                                                        target: CustomerFields.crmRecord, lookup: CustomerFields.salespeople)
        #expect(changes.isEmpty)
    }

    @Test("a not-null field with an empty value is not transferred: the target keeps its value, as in Business Central",
          arguments: [Optional<String>.none, ""])
    func notNullKeepsTarget(value: String?) throws {
        let field = FieldMapping(local: "salesperson_code", integration: "ownerid", notNull: true)
        let other = FieldMapping(local: "name", integration: "name")
        let diff = FieldDiff(mapping: CustomerFields.mapping, fields: [field, other], direction: .toIntegration)
        let changes = try diff.changes(sourceID: "10000", source: ["salesperson_code": value, "name": "B"],
                                       target: ["ownerid": "user-7", "name": "A"])
        #expect(changes == ["name": "B"], "the rest of the record travels")
    }

    @Test("a not-null field with a value is written as any other")
    func notNullWithValue() throws {
        let field = FieldMapping(local: "code", integration: "code", notNull: true)
        let diff = FieldDiff(mapping: CustomerFields.mapping, fields: [field], direction: .toIntegration)
        #expect(try diff.changes(sourceID: "1", source: ["code": "X"], target: ["code": "Y"]) == ["code": "X"])
    }

    @Test("an insert leaves an empty not-null field to the target's default")
    func notNullInsert() throws {
        let changes = try CustomerFields.diff().changes(
            sourceID: "10000", source: ["name": "A", "salesperson_code": "", "credit_limit": "1"], target: nil, lookup: CustomerFields.salespeople)
        #expect(changes.keys.sorted() == ["creditlimit", "customertypecode", "name"], "every field but the empty salesperson")
    }

    @Test("a failing rule fails the record naming the field and the rule")
    func transformationFailure() throws {
        let field = FieldMapping(local: "credit_limit", integration: "creditlimit", toIntegration: try chain("trim | round(2)"))
        let diff = FieldDiff(mapping: CustomerFields.mapping, fields: [field], direction: .toIntegration)
        let failure = try #require(throws: SyncFailure.self) {
            try diff.changes(sourceID: "10000", source: ["credit_limit": "lots"], target: ["creditlimit": "1"])
        }
        #expect(failure.code == .transformationFailed)
        #expect(failure.field == "credit_limit")
        #expect(failure.detail == "trim | round(2)")
        #expect(failure.message == "customer 10000 cannot be synchronized by mapping CUSTOMER: field credit_limit → creditlimit: round(2) cannot be applied to \"lots\": it is not a number. Correct credit_limit on customer 10000 or the field's rules, then run CUSTOMER again.")
    }

    @Test("a regex past its step budget fails the record, naming the field and the rule, and takes no longer")
    func regexStepBudget() throws {
        let rule = "regex_match(\"(x+x+)+y\")"
        let field = FieldMapping(local: "name", integration: "name", toIntegration: try chain(rule))
        let diff = FieldDiff(mapping: CustomerFields.mapping, fields: [field], direction: .toIntegration)
        let started = ContinuousClock.now
        let failure = try #require(throws: SyncFailure.self) {
            try diff.changes(sourceID: "10000", source: ["name": String(repeating: "x", count: 40)], target: ["name": "Adatum"])
        }
        #expect(ContinuousClock.now - started < .seconds(2))
        #expect(failure.code == .transformationFailed)
        #expect(failure.detail == rule)
        #expect(failure.message.hasPrefix("customer 10000 cannot be synchronized by mapping CUSTOMER: field name → name: \(rule) cannot be applied to"))
        #expect(failure.message.contains("more than 1000000 steps"))
    }

    @Test("an uncoupled reference fails with the message that names the missing coupling")
    func uncoupledReference() throws {
        var source = CustomerFields.erpRecord
        source["salesperson_code"] = "PS"
        let failure = try #require(throws: SyncFailure.self) {
            try CustomerFields.diff().changes(sourceID: "10000", source: source, target: CustomerFields.crmRecord,
                                              lookup: CustomerFields.salespeople)
        }
        #expect(failure == .uncoupledReference(mapping: "CUSTOMER", record: RecordIdentity(table: "customer", id: "10000"),
                                               field: "salesperson_code", value: "PS", referencedMapping: "SALESPEOPLE"))
    }

    @Test("a field that clears on failure writes NULL instead of failing")
    func clearOnFailure() throws {
        let field = FieldMapping(local: "currency_code", integration: "transactioncurrencyid",
                                 toIntegration: try chain("lookup(CURRENCY)"), clearOnFailure: true)
        let diff = FieldDiff(mapping: CustomerFields.mapping, fields: [field], direction: .toIntegration)
        let changes = try diff.changes(sourceID: "10000", source: ["currency_code": "XTS"],
                                       target: ["transactioncurrencyid": "cur-1"]) { _, _ in nil }
        #expect(changes.count == 1)
        #expect(changes["transactioncurrencyid"] == .some(nil))
    }

    @Test("a not-null field cleared on a failed lookup keeps the target's value")
    func clearOnFailureNotNull() throws {
        let field = FieldMapping(local: "currency_code", integration: "transactioncurrencyid",
                                 toIntegration: try chain("lookup(CURRENCY)"), notNull: true, clearOnFailure: true)
        let diff = FieldDiff(mapping: CustomerFields.mapping, fields: [field], direction: .toIntegration)
        let changes = try diff.changes(sourceID: "10000", source: ["currency_code": "XTS"], target: ["transactioncurrencyid": "cur-1"]) { _, _ in nil }
        #expect(changes.isEmpty)
    }

    @Test("a source column that was not read fails the record naming it")
    func missingSourceColumn() throws {
        let failure = try #require(throws: SyncFailure.self) {
            try CustomerFields.diff().changes(sourceID: "10000", source: ["name": "A"], target: nil,
                                              lookup: CustomerFields.salespeople)
        }
        #expect(failure.code == .missingField)
        #expect(failure.field == "salesperson_code")
        #expect(failure.message.contains("reads column salesperson_code, which was not read from customer"))
    }

    @Test("a target column that was not read counts as different")
    func missingTargetColumn() throws {
        var target = CustomerFields.crmRecord
        target.removeValue(forKey: "name")
        let changes = try CustomerFields.diff().changes(sourceID: "10000", source: CustomerFields.erpRecord,
                                                        target: target, lookup: CustomerFields.salespeople)
        #expect(changes == ["name": "Adatum"])
    }

    @Test("the resolver gets the value after the preceding rules")
    func resolverInput() throws {
        let field = FieldMapping(local: "sp", integration: "ownerid", direction: .toIntegration,
                                 toIntegration: try chain("trim | uppercase | lookup(SALESPEOPLE)"))
        let diff = FieldDiff(mapping: CustomerFields.mapping, fields: [field], direction: .toIntegration)
        let changes = try diff.changes(sourceID: "1", source: ["sp": " jr "], target: nil, lookup: CustomerFields.salespeople)
        #expect(changes == ["ownerid": "user-7"])
    }

    @Test("referencedMappings lists the lookups of the direction only")
    func referencedMappings() throws {
        #expect(try CustomerFields.diff(.toIntegration).referencedMappings == ["SALESPEOPLE"])
        #expect(try CustomerFields.diff(.fromIntegration).referencedMappings.isEmpty)
    }
}
