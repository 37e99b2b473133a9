import Foundation
import Testing
@testable import Sync

@Suite("Coupling")
struct CouplingTests {
    @Test("a side counts as changed when its modified-on differs from the stored one", arguments: [
        (-1, true), (0, false), (1, true),
    ])
    func changedByModifiedOn(offset: Int, changed: Bool) {
        #expect(Timeline.coupling().hasChanged(.local, stamp: RecordStamp(modifiedOn: minute(offset))) == changed)
    }

    @Test("with the same modified-on, another row version is a change (an edit in the same second); an unknown version leaves it to the modified-on")
    func changedByVersion() {
        var coupling = Timeline.coupling()
        coupling.integration.lastSynced = RecordStamp(modifiedOn: minute(0), version: "W/\"7\"")
        #expect(!coupling.hasChanged(.integration, stamp: RecordStamp(modifiedOn: minute(0), version: "W/\"7\"")))
        #expect(coupling.hasChanged(.integration, stamp: RecordStamp(modifiedOn: minute(0), version: "W/\"8\"")))
        #expect(coupling.hasChanged(.integration, stamp: RecordStamp(modifiedOn: minute(1), version: "W/\"7\"")))
        #expect(!coupling.hasChanged(.integration, stamp: RecordStamp(modifiedOn: minute(0))), "a record read without its version")
        #expect(!Timeline.coupling().hasChanged(.local, stamp: RecordStamp(modifiedOn: minute(0), version: "W/\"8\"")),
                "a coupling stored before versions were kept")
    }

    @Test("a side never synced counts as changed")
    func neverSynced() {
        #expect(Coupling(localID: "1", integrationID: "a").hasChanged(.integration, stamp: RecordStamp(modifiedOn: minute(-100))))
    }

    @Test("a side whose last pass failed counts as changed unless the coupling is skipped")
    func failedCountsAsChanged() {
        #expect(Timeline.coupling(localResult: .failure).hasChanged(.local, stamp: RecordStamp(modifiedOn: minute(0))))
        #expect(!Timeline.coupling(skipped: true, localResult: .failure).hasChanged(.local, stamp: RecordStamp(modifiedOn: minute(0))))
        #expect(!Timeline.coupling(localResult: .failure).hasChanged(.integration, stamp: RecordStamp(modifiedOn: minute(0))))
    }

    @Test("the same failure class twice in a row skips; a different one or a first one does not", arguments: [
        (Optional<String>.none, "A", false), ("A", "A", true), ("A", "B", false), ("A", "a", false), ("", "", true),
    ])
    func skipRule(previous: String?, new: String, skipped: Bool) {
        #expect(Coupling.becomesSkipped(previousClass: previous, newClass: new) == skipped)
    }

    @Test("the skip rule compares the class, not the message: a message that differs every run still skips")
    func skipComparesClass() {
        let first = SyncFailure(code: .writeRefused, message: "refused at 10:00", cause: "23514:credit_check")
        let second = SyncFailure(code: .writeRefused, message: "refused at 10:05", cause: "23514:credit_check")
        let coupling = Timeline.coupling()
            .recordingFailure(direction: .toIntegration, failure: first, at: minute(1))
            .recordingFailure(direction: .toIntegration, failure: second, at: minute(2))
        #expect(coupling.isSkipped)
    }

    @Test("a first failure is recorded on the source side and keeps the stored modified-on")
    func firstFailure() {
        let coupling = Timeline.coupling().recordingFailure(direction: .toIntegration, failure: .sample("E"), at: minute(9))
        #expect(coupling.local == CouplingSide(lastSynced: RecordStamp(modifiedOn: minute(0)), lastResult: .failure, lastError: "E", lastErrorClass: "write_refused:E", lastRun: minute(9)))
        #expect(coupling.integration == Timeline.coupling().integration)
        #expect(!coupling.isSkipped)
    }

    @Test("failing twice in a row with the same message skips the coupling")
    func secondIdenticalFailureSkips() {
        let coupling = Timeline.coupling()
            .recordingFailure(direction: .fromIntegration, failure: .sample("E"), at: minute(1))
            .recordingFailure(direction: .fromIntegration, failure: .sample("E"), at: minute(2))
        #expect(coupling.isSkipped)
        #expect(coupling.integration.lastRun == minute(2))
    }

    @Test("a failure that is not skippable (an uncoupled reference) never skips, however often it repeats")
    func unskippableFailuresDoNotSkip() {
        let coupling = Timeline.coupling()
            .recordingFailure(direction: .toIntegration, failure: .waiting("E"), at: minute(1))
            .recordingFailure(direction: .toIntegration, failure: .waiting("E"), at: minute(2))
            .recordingFailure(direction: .toIntegration, failure: .waiting("E"), at: minute(3))
        #expect(!coupling.isSkipped)
        #expect(coupling.local.lastResult == .failure, "still retried as a failure")
        let reference = SyncFailure.uncoupledReference(
            mapping: "CUSTOMER", record: RecordIdentity(table: "customer", id: "1"), field: "salesperson_code", value: "JR",
            referencedMapping: "SALESPEOPLE")
        #expect(!reference.isSkippable)
        #expect(SyncFailure(code: .writeRefused, message: "no").isSkippable)
    }

    @Test("failing twice with different messages does not skip")
    func differentFailuresDoNotSkip() {
        let coupling = Timeline.coupling()
            .recordingFailure(direction: .toIntegration, failure: .sample("E1"), at: minute(1))
            .recordingFailure(direction: .toIntegration, failure: .sample("E2"), at: minute(2))
        #expect(!coupling.isSkipped)
        #expect(coupling.local.lastError == "E2")
    }

    @Test("failures of different sides are not consecutive failures of one side")
    func sidesAreSeparate() {
        let coupling = Timeline.coupling()
            .recordingFailure(direction: .toIntegration, failure: .sample("E"), at: minute(1))
            .recordingFailure(direction: .fromIntegration, failure: .sample("E"), at: minute(2))
        #expect(!coupling.isSkipped)
    }

    @Test("a success in between breaks the run of failures")
    func successBreaksTheRun() {
        let coupling = Timeline.coupling()
            .recordingFailure(direction: .toIntegration, failure: .sample("E"), at: minute(1))
            .recordingSuccess(direction: .toIntegration, source: RecordStamp(modifiedOn: minute(1)), target: RecordStamp(modifiedOn: minute(1)), at: minute(1))
            .recordingFailure(direction: .toIntegration, failure: .sample("E"), at: minute(2))
        #expect(!coupling.isSkipped)
    }

    @Test("a success stores both modified-ons so the write does not echo back")
    func successStoresBothSides() {
        let coupling = Timeline.coupling(localResult: .failure)
            .recordingSuccess(direction: .toIntegration, source: RecordStamp(modifiedOn: minute(5)), target: RecordStamp(modifiedOn: minute(6)), at: minute(7))
        #expect(coupling.local == CouplingSide(lastSynced: RecordStamp(modifiedOn: minute(5)), lastResult: .success, lastError: nil, lastRun: minute(7)))
        #expect(coupling.integration.lastSynced == RecordStamp(modifiedOn: minute(6)))
        #expect(coupling.integration.lastResult == .success)
        #expect(!coupling.hasChanged(.integration, stamp: RecordStamp(modifiedOn: minute(6))))
        #expect(!coupling.hasChanged(.local, stamp: RecordStamp(modifiedOn: minute(5))))
    }

    @Test("a success without a target write leaves the target side as it was")
    func successWithoutWrite() {
        let before = Timeline.coupling(integrationResult: .failure)
        let after = before.recordingSuccess(direction: .toIntegration, source: RecordStamp(modifiedOn: minute(5)), target: nil, at: minute(7))
        #expect(after.integration == before.integration)
    }

    @Test("a person's retry releases the skip, and the same error skips again at once")
    func retry() {
        let skipped = Timeline.coupling()
            .recordingFailure(direction: .toIntegration, failure: .sample("E"), at: minute(1))
            .recordingFailure(direction: .toIntegration, failure: .sample("E"), at: minute(2))
        let retried = skipped.retrying()
        #expect(!retried.isSkipped)
        #expect(retried.local.lastError == "E")
        #expect(retried.recordingFailure(direction: .toIntegration, failure: .sample("E"), at: minute(3)).isSkipped)
    }

    @Test("a skipped record stays out of runs until retried: end to end with the decision")
    func skipEndToEnd() {
        var coupling = Timeline.coupling()
        var decisions: [SyncDecision] = []
        for run in 1...3 {
            let decision = decide(source: Timeline.changed, counterpart: .coupled(coupling, target: Timeline.unchanged),
                                  probe: ChangesProbe(.failure(diffFailure)))
            decisions.append(decision)
            if case .fail(let failure) = decision {
                coupling = coupling.recordingFailure(direction: .toIntegration, failure: failure, at: minute(run))
            }
        }
        #expect(decisions == [.fail(diffFailure), .fail(diffFailure), .skip(.couplingSkipped)])
    }

    @Test("ids and side states are addressed by side")
    func sides() {
        var coupling = Timeline.coupling()
        #expect(coupling.id(on: .local) == "10000")
        #expect(coupling.id(on: .integration) == "acc-1")
        coupling[.integration].lastError = "x"
        #expect(coupling.integration.lastError == "x")
        #expect(coupling[.local] == coupling.local)
    }
}

@Suite("Directions and sides")
struct DirectionTests {
    @Test("a pass reads its source side and writes the other")
    func passSides() {
        #expect(SyncDirection.toIntegration.source == .local)
        #expect(SyncDirection.toIntegration.target == .integration)
        #expect(SyncDirection.fromIntegration.source == .integration)
        #expect(SyncDirection.fromIntegration.target == .local)
        #expect(SyncSide.local.opposite == .integration)
    }

    @Test("a mapping's passes run to the integration side first", arguments: [
        (MappingDirection.toIntegration, [SyncDirection.toIntegration]),
        (.fromIntegration, [.fromIntegration]),
        (.bidirectional, [.toIntegration, .fromIntegration]),
    ])
    func passes(direction: MappingDirection, passes: [SyncDirection]) {
        #expect(direction.passes == passes)
        for pass in SyncDirection.allCases {
            #expect(direction.includes(pass) == passes.contains(pass))
        }
    }

    @Test("field mappings name their column and rules per side and direction")
    func fieldMappingSides() throws {
        let field = FieldMapping(local: "no", integration: "accountnumber", toIntegration: try chain("trim"), fromIntegration: try chain("uppercase"))
        #expect(field.field(on: .local) == "no")
        #expect(field.field(on: .integration) == "accountnumber")
        #expect(field.transformation(for: .toIntegration).rules == [.trim])
        #expect(field.transformation(for: .fromIntegration).rules == [.uppercase])
    }

    @Test("mapping settings name tables and records per side, with Business Central's defaults")
    func mappingSettings() {
        let mapping = MappingSettings(name: "ITEM-PRODUCT", localTable: "item", integrationTable: "product", direction: .bidirectional)
        #expect(mapping.table(on: .integration) == "product")
        #expect(mapping.record("1000", on: .local).description == "item 1000")
        #expect(mapping.syncOnlyCoupled && mapping.allowInsert && !mapping.matchConfigured)
        #expect(mapping.updateConflictPolicy == .fail && mapping.deletionConflictPolicy == .fail)
    }
}

extension SyncFailure {
    /// A failure of the record's own data whose class is `text`.
    static func sample(_ text: String) -> SyncFailure { SyncFailure(code: .writeRefused, message: text, cause: text) }
    /// A failure that waits for another record (never skipped).
    static func waiting(_ text: String) -> SyncFailure { SyncFailure(code: .uncoupledReference, message: text, cause: text) }
}
