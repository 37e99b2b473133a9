import Foundation
import Testing
@testable import Sync

@Suite("Messages")
struct MessageTests {
    @Test("the uncoupled-reference message names the record, the field, the value and what to couple")
    func uncoupledReference() {
        let failure = SyncFailure.uncoupledReference(mapping: "CUSTOMER", record: RecordIdentity(table: "customer", id: "10000"),
                                                     field: "salesperson_code", value: "JR", referencedMapping: "SALESPEOPLE")
        #expect(failure.code == .uncoupledReference)
        #expect(failure.field == "salesperson_code")
        #expect(failure.message == "customer 10000 cannot be synchronized by mapping CUSTOMER: its salesperson_code \"JR\" is not coupled in mapping SALESPEOPLE. Couple that record in SALESPEOPLE (manually or by match-based coupling), then run CUSTOMER again.")
        #expect(failure.description == failure.message)
    }

    @Test("a long referenced value is cut in the message")
    func uncoupledReferenceLongValue() {
        let value = String(repeating: "v", count: 80)
        let failure = SyncFailure.uncoupledReference(mapping: "CONTACT", record: RecordIdentity(table: "contact", id: "CT1"),
                                                     field: "company_no", value: value, referencedMapping: "CUSTOMER")
        #expect(failure.message.contains("\"" + String(repeating: "v", count: 60) + "…\""))
    }

    @Test("skip reasons explain themselves in distinct words")
    func skipReasons() {
        let reasons: [SkipReason] = [.directionNotMapped, .couplingSkipped, .notCoupled, .insertNotAllowed, .sourceDeleted]
        #expect(Set(reasons.map(\.description)).count == reasons.count)
        #expect(SkipReason.couplingSkipped.description.contains("retry"))
    }

    @Test("a transformation error's description is its message")
    func transformationErrorDescription() throws {
        let error = try #require(parseError("nope"))
        #expect(error.description == error.message)
    }

    @Test("every failure message of the decision ends by saying what to run")
    func failureMessagesEndWithAnAction() {
        var messages: Set<String> = []
        for item in DecisionCase.all {
            if case .fail(let failure) = item.decision, failure != diffFailure { messages.insert(failure.message) }
        }
        #expect(messages.count >= 6)
        for message in messages {
            #expect(message.hasSuffix("then run CUSTOMER again."))
        }
    }
}
