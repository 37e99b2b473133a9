import Foundation
import Testing

@testable import Sync

/// The comparison `couplet verify` makes, without a database: each field compared once, the way the mapping carries it.
@Suite("Comparing a coupled pair through the mapping")
struct PairComparisonTests {
    private let settings = MappingSettings(name: "CUSTOMER", localTable: "customer", integrationTable: "account", direction: .bidirectional)

    private func record(_ id: String, _ values: FieldValues, modifiedOn: Date = Date(timeIntervalSince1970: 100)) -> SyncRecord {
        SyncRecord(id: id, modifiedOn: modifiedOn, values: values)
    }

    private func synced(_ stamp: Date = Date(timeIntervalSince1970: 100)) -> Coupling {
        Coupling(localID: "1", integrationID: "a", local: CouplingSide(lastSynced: RecordStamp(modifiedOn: stamp)), integration: CouplingSide(lastSynced: RecordStamp(modifiedOn: stamp)))
    }

    @Test("a field carried both ways is compared through its to-integration rules only; numbers compare as numbers")
    func bothWaysComparedOnce() throws {
        let fields = [
            FieldMapping(local: "city", integration: "city", toIntegration: try TransformationChain(parsing: "trim")),
            FieldMapping(local: "credit_limit", integration: "credit_limit", direction: .toIntegration, comparison: .numeric),
        ]
        let comparison = PairComparison(mapping: settings, fields: fields)
        let local = record("1", ["city": "  London ", "credit_limit": "1500.5"])
        let integration = record("a", ["city": "London", "credit_limit": "1500.50"])
        #expect(try comparison.differences(local: local, integration: integration).isEmpty)
        let other = record("a", ["city": "Oxford", "credit_limit": "1500.50"])
        #expect(try comparison.differences(local: local, integration: other) == [
            FieldDifference(localField: "city", integrationField: "city", travels: .bidirectional)
        ])
    }

    @Test("a field only the CRM sends is compared the other way; a field the mapping does not carry is not compared")
    func fromOnlyAndUncarried() throws {
        var oneWay = settings
        oneWay.direction = .toIntegration
        let fields = [
            FieldMapping(local: "phone", integration: "telephone", direction: .fromIntegration, fromIntegration: try TransformationChain(parsing: "trim")),
            FieldMapping(local: "name", integration: "name"),
        ]
        let both = PairComparison(mapping: settings, fields: fields)
        let local = record("1", ["phone": "123", "name": "A"])
        let integration = record("a", ["telephone": " 124 ", "name": "A"])
        #expect(try both.differences(local: local, integration: integration).map(\.description) == ["phone ← telephone"])
        #expect(try PairComparison(mapping: oneWay, fields: fields).differences(local: local, integration: integration).isEmpty,
                "a to-integration mapping never carries phone")
    }

    @Test("lookups resolve as the engine's; a failing rule makes the pair not comparable")
    func lookups() throws {
        let fields = [FieldMapping(local: "salesperson_code", integration: "owner_id", direction: .toIntegration,
                                   toIntegration: try TransformationChain(parsing: "lookup(SALESPEOPLE)"))]
        let comparison = PairComparison(mapping: settings, fields: fields)
        let local = record("1", ["salesperson_code": "JR"])
        let integration = record("a", ["owner_id": "user-1"])
        let coupled: LookupResolver = { mapping, value in mapping == "SALESPEOPLE" && value == "JR" ? "user-1" : nil }
        #expect(comparison.state(of: synced(), local: local, integration: integration, lookups: [.toIntegration: coupled]) == nil)
        guard case .notComparable(let message) = comparison.state(of: synced(), local: local, integration: integration) else {
            Issue.record("an uncoupled reference cannot be compared")
            return
        }
        #expect(message.contains("SALESPEOPLE"))
    }

    @Test("a difference the changed record carries is pending; the same difference on unchanged stamps is drift")
    func pendingOrDrift() {
        let comparison = PairComparison(mapping: settings, fields: [FieldMapping(local: "name", integration: "name")])
        let local = record("1", ["name": "A"])
        let integration = record("a", ["name": "B"])
        #expect(comparison.state(of: synced(), local: local, integration: integration) == .differs([
            FieldDifference(localField: "name", integrationField: "name", travels: .bidirectional)
        ]))
        let edited = record("a", ["name": "B"], modifiedOn: Date(timeIntervalSince1970: 200))
        guard case .pending = comparison.state(of: synced(), local: local, integration: edited) else {
            Issue.record("the CRM's edit is carried by the next run")
            return
        }
        var skipped = synced()
        skipped.isSkipped = true
        guard case .differs = comparison.state(of: skipped, local: local, integration: edited) else {
            Issue.record("a skipped pair is not carried by any run")
            return
        }
    }
}
