import Foundation
import Postgres
import PostgresTestSupport
import Testing
@testable import Sync

/// An implementation of `TableEndpoint` under test: `open` runs its body with an endpoint on a
/// fresh, empty table of the conformance shape — key `sampleid` (uuid), `name` (text), `amount`
/// (a number the table refuses below zero) and `modifiedon` — reading name and amount.
struct ConformanceSubject: Sendable, CustomTestStringConvertible {
    /// What is tested, for the test's name.
    let name: String
    /// The key column: `sampleid`, or `id` where the service names every key so (Business Central).
    var key = "sampleid"
    /// Runs `body` with an endpoint on a fresh table.
    let open: @Sendable (_ body: @Sendable (any TableEndpoint) async throws -> Void) async throws -> Void

    var testDescription: String { name }

    /// The side a subject's endpoint stands for: table `sample`, key `sampleid` and modified-on
    /// `modifiedon` unless the service names them otherwise.
    static func side(table: String = "sample", key: String = "sampleid", modified: String = "modifiedon") throws -> MappingSide {
        MappingSide(
            endpoint: "sample", table: try PostgresIdentifier(table), key: try PostgresIdentifier(key),
            modified: try PostgresIdentifier(modified), filter: nil, watermark: nil, template: [:])
    }

    /// The columns each endpoint reads.
    static let columns = ["name", "amount"]

    /// The reference: a table in memory.
    static let memory = ConformanceSubject(name: "memory") { body in
        try await body(MemoryTableEndpoint(key: "sampleid", columns: columns, refuses: { values in
            guard let amount = (values["amount"] ?? nil).flatMap({ Decimal(string: $0) }), amount < 0 else { return nil }
            return RecordRefusal(detail: "amount below zero", cause: "amount", column: "amount", reason: "the amount must not be negative")
        }))
    }

    /// A PostgreSQL table.
    static let postgres = ConformanceSubject(name: "postgres") { body in
        try await withTestConnection { db in
            try await db.runScript(table, name: "conformance table")
            try await body(try PostgresTableEndpoint(connection: db, side: side(), columns: columns))
        }
    }

    /// A Dataverse table through the connector, served by the emulator over the same PostgreSQL table.
    static let dataverse = ConformanceSubject(name: "dataverse") { body in
        try await TestDatabase.with { database in
            let db = try await database.connect()
            defer { db.close() }
            try await db.runScript(table, name: "conformance table")
            try await EmulatedDataverse.with(database.configuration) { dataverse in
                let session = try await dataverse.session()
                try await body(try await session.table(side(), columns: columns))
            }
        }
    }

    /// A Business Central entity set through the connector, served by the emulator over a table of
    /// the conformance shape as Business Central names it: key `id`, modified-on `lastModifiedDateTime`.
    static let businessCentral = ConformanceSubject(name: "business-central", key: "id") { body in
        try await TestDatabase.with { database in
            let db = try await database.connect()
            defer { db.close() }
            try await db.runScript(
                """
                CREATE TABLE samples (
                    id uuid PRIMARY KEY, name text, amount numeric(12,2) CONSTRAINT amount_not_negative CHECK (amount >= 0),
                    "lastModifiedDateTime" timestamptz NOT NULL DEFAULT now());
                """, name: "conformance entity set")
            try await EmulatedBusinessCentral.with(database.configuration) { company in
                let session = try await company.session()
                try await body(try await session.table(side(table: "samples", key: "id", modified: "lastModifiedDateTime"), columns: columns))
            }
        }
    }

    /// The table every PostgreSQL-backed subject reads, stamping modified-on as Dataverse does.
    static let table = """
        CREATE TABLE sample (
            sampleid uuid PRIMARY KEY, name text, amount numeric(12,2) CONSTRAINT amount_not_negative CHECK (amount >= 0),
            modifiedon timestamptz NOT NULL DEFAULT now());
        CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.modifiedon := now(); RETURN NEW; END $$;
        CREATE TRIGGER stamp BEFORE UPDATE ON sample FOR EACH ROW EXECUTE FUNCTION stamp();
        """

    /// Every implementation in this module's tests.
    static let all = [memory, postgres, dataverse, businessCentral]
}

/// The `TableEndpoint` contract, asserted alike of every implementation: what the engine's
/// promises (nothing overwritten, a refused record fails alone, optimistic writes, complete deltas)
/// rest on.
@Suite struct TableEndpointConformanceTests {
    /// New records with assigned keys, as the engine inserts them.
    private func newRecords(_ endpoint: any TableEndpoint, _ values: [FieldValues]) async throws -> [NewRecord] {
        try await endpoint.assignKeys(values.enumerated().map { NewRecord(values: $1, token: "conformance/\($0)/\(UUID())") })
    }

    /// Whether `values` are `expected`: the name as text, the amount as a number (an endpoint writes
    /// a number in its own text form: PostgreSQL `12.50`, Business Central `12.5`).
    static func same(_ values: FieldValues?, _ expected: FieldValues) -> Bool {
        guard let values, values.count == expected.count else { return false }
        let amount = { (values: FieldValues) in (values["amount"] ?? nil).flatMap { Decimal(string: $0) } }
        return (values["name"] ?? nil) == (expected["name"] ?? nil) && amount(values) == amount(expected)
    }

    /// Inserts `values`; returns the new records' ids in order (the test fails on any other outcome).
    private func seed(_ endpoint: any TableEndpoint, _ values: [FieldValues]) async throws -> [String] {
        try await endpoint.insert(try await newRecords(endpoint, values)).map { result in
            guard case .success(.inserted(let id, _)) = result else { throw ConformanceFailure("not inserted: \(result)") }
            return id
        }
    }

    @Test(arguments: ConformanceSubject.all)
    func insertsWithAssignedKeysAndReadsThemBack(_ subject: ConformanceSubject) async throws {
        try await subject.open { endpoint in
            let records = try await newRecords(endpoint, [["name": "Alpha", "amount": "12.50"], ["name": nil, "amount": "0.00"]])
            #expect(records.allSatisfy { $0.keyAssigned && ($0.values[subject.key] ?? nil) != nil })
            let ids = try await seed(endpoint, records.map(\.values))
            let read = Dictionary(try await endpoint.records(ids: ids).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            #expect(Self.same(read[ids[0]]?.values, ["name": "Alpha", "amount": "12.50"]))
            #expect(Self.same(read[ids[1]]?.values, ["name": String?.none, "amount": "0.00"]))
            #expect(try await endpoint.count() == 2)
        }
    }

    @Test(arguments: ConformanceSubject.all)
    func anInsertNeverChangesARecordItDidNotCreate(_ subject: ConformanceSubject) async throws {
        try await subject.open { endpoint in
            let id = try await seed(endpoint, [["name": "Person's own", "amount": "1.00"]])[0]
            let results = try await endpoint.insert([NewRecord(values: [subject.key: id, "name": "Couplet's", "amount": "2.00"], token: "t")])
            #expect(results.count == 1)
            guard case .success(.keyTaken(let taken)) = results.first else { Issue.record("expected keyTaken, got \(results)"); return }
            #expect(taken == id)
            #expect(try await endpoint.records(ids: [id]).first?.values["name"] == "Person's own")
        }
    }

    @Test(arguments: ConformanceSubject.all)
    func aRefusedRecordFailsAloneNamingItsColumn(_ subject: ConformanceSubject) async throws {
        try await subject.open { endpoint in
            let records = try await newRecords(
                endpoint, [["name": "First", "amount": "1.00"], ["name": "Negative", "amount": "-5.00"], ["name": "Third", "amount": "3.00"]])
            let results = try await endpoint.insert(records)
            #expect(results.count == 3)
            guard case .failure(let refusal) = results[1] else { Issue.record("expected a refusal, got \(results[1])"); return }
            #expect(refusal.column == "amount")
            for index in [0, 2] {
                guard case .success(.inserted) = results[index] else { Issue.record("record \(index) not inserted: \(results[index])"); continue }
            }
            #expect(Set(try await endpoint.records(in: KeyRange(), limit: 10).compactMap { $0.values["name"] ?? nil }) == ["First", "Third"])
        }
    }

    @Test(arguments: ConformanceSubject.all)
    func anUpdateLeavesARecordChangedSinceItWasRead(_ subject: ConformanceSubject) async throws {
        try await subject.open { endpoint in
            let ids = try await seed(endpoint, [["name": "One", "amount": "1.00"], ["name": "Two", "amount": "2.00"]])
            let read = Dictionary(try await endpoint.records(ids: ids).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            let stale = try #require(read[ids[0]]).modifiedOn.addingTimeInterval(-60)
            let fresh = try #require(read[ids[1]]).modifiedOn
            let results = try await endpoint.update([
                RecordChange(id: ids[0], values: ["name": "Overwritten"], expected: RecordStamp(modifiedOn: stale)),
                RecordChange(id: ids[1], values: ["name": "Written"], expected: RecordStamp(modifiedOn: fresh)),
            ])
            guard case .success(nil) = results[0], case .success(let stamp?) = results[1] else { Issue.record("\(results)"); return }
            #expect(stamp.modifiedOn >= fresh)
            let after = Dictionary(try await endpoint.records(ids: ids).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            #expect(after[ids[0]]?.values["name"] == "One")
            #expect(after[ids[1]]?.values["name"] == "Written")
            #expect(after[ids[1]]?.stamp == stamp)
        }
    }

    @Test(arguments: ConformanceSubject.all)
    func anUpdateLeavesARecordChangedInTheSameSecondAfterItWasRead(_ subject: ConformanceSubject) async throws {
        try await subject.open { endpoint in
            let ids = try await seed(endpoint, [["name": "One"]])
            let read = try #require(try await endpoint.records(ids: ids).first)
            // A person's edit right after the read: in the same second on an endpoint that stamps whole seconds.
            _ = try await endpoint.update([RecordChange(id: ids[0], values: ["name": "A person's"], expected: nil)])
            let results = try await endpoint.update([RecordChange(id: ids[0], values: ["name": "Overwritten"], expected: read.stamp)])
            guard case .success(nil) = results[0] else { Issue.record("the record changed since it was read was written: \(results)"); return }
            #expect(try await endpoint.records(ids: ids).first?.values["name"] == "A person's")
            let deleted = try await endpoint.delete([RecordDeletion(id: ids[0], expected: read.stamp)])
            #expect(deleted.map { (try? $0.get()) ?? true } == [false], "nor deleted")
        }
    }

    @Test(arguments: ConformanceSubject.all)
    func aRefusedUpdateFailsAloneAndWritesNothingOfIt(_ subject: ConformanceSubject) async throws {
        try await subject.open { endpoint in
            let ids = try await seed(endpoint, [["name": "One", "amount": "1.00"], ["name": "Two", "amount": "2.00"]])
            let results = try await endpoint.update([
                RecordChange(id: ids[0], values: ["name": "Half", "amount": "-1.00"], expected: nil),
                RecordChange(id: ids[1], values: ["amount": "5.00"], expected: nil),
            ])
            guard case .failure(let refusal) = results[0], case .success(_?) = results[1] else { Issue.record("\(results)"); return }
            #expect(refusal.column == "amount")
            let after = Dictionary(try await endpoint.records(ids: ids).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            #expect(Self.same(after[ids[0]]?.values, ["name": "One", "amount": "1.00"]))
            #expect((after[ids[1]]?.values["amount"] ?? nil).flatMap { Decimal(string: $0) } == 5)
        }
    }

    @Test(arguments: ConformanceSubject.all)
    func aDeletionTakesOnlyAnUnchangedRecord(_ subject: ConformanceSubject) async throws {
        try await subject.open { endpoint in
            let ids = try await seed(endpoint, [["name": "Kept"], ["name": "Gone"]])
            let read = Dictionary(try await endpoint.records(ids: ids).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            let results = try await endpoint.delete([
                RecordDeletion(id: ids[0], expected: RecordStamp(modifiedOn: try #require(read[ids[0]]).modifiedOn.addingTimeInterval(-60))),
                RecordDeletion(id: ids[1], expected: try #require(read[ids[1]]).stamp),
            ])
            #expect(results.map { (try? $0.get()) ?? nil } == [false, true])
            #expect(try await endpoint.existingIDs(ids) == [ids[0]])
        }
    }

    @Test(arguments: ConformanceSubject.all)
    func deltasPageThroughEveryChangeOnceInOrder(_ subject: ConformanceSubject) async throws {
        try await subject.open { endpoint in
            let ids = try await seed(endpoint, (1...5).map { ["name": "R\($0)", "amount": "\($0).00"] })
            var seen: [SyncRecord] = []
            var cursor: ChangeCursor?
            var calls = 0
            while case let page = try await endpoint.changes(since: nil, after: cursor, limit: 2), let last = page.last, calls < 10 {
                calls += 1
                #expect(page.count <= 2)
                seen += page
                cursor = ChangeCursor(modifiedOn: last.modifiedOn, id: last.id)
            }
            #expect(calls <= 3)
            #expect(Set(seen.map(\.id)) == Set(ids))
            #expect(seen.count == ids.count)
            #expect(zip(seen, seen.dropFirst()).allSatisfy { $0.modifiedOn <= $1.modifiedOn })
        }
    }

    @Test(arguments: ConformanceSubject.all)
    func aDeltaFromTheNewestStampFindsLaterChangesAndNothingOlder(_ subject: ConformanceSubject) async throws {
        try await subject.open { endpoint in
            let ids = try await seed(endpoint, (1...3).map { ["name": "R\($0)"] })
            let newest = try #require(try await endpoint.changes(since: nil, after: nil, limit: 10).map(\.modifiedOn).max())
            // An endpoint whose stamps are coarser than its order may answer the newest stamp's records again, never older ones.
            #expect(try await endpoint.changes(since: newest, after: nil, limit: 10).allSatisfy { $0.modifiedOn >= newest })
            let cap = try await endpoint.watermarkCap()
            try await Task.sleep(for: .milliseconds(1_100))  // past the second of the newest stamp
            let written = try await endpoint.update([RecordChange(id: ids[1], values: ["name": "Later"], expected: nil)])
            let stamp = try #require(try written[0].get())
            #expect(stamp.modifiedOn >= cap, "a write after the cap is stamped at or after it")
            let later = try await endpoint.changes(since: newest, after: nil, limit: 10)
            #expect(later.map(\.id).contains(ids[1]))
            #expect(later.first { $0.id == ids[1] }?.values["name"] == "Later")
        }
    }

    @Test(arguments: ConformanceSubject.all)
    func keyRangesCoverEveryRecordOnceInKeyOrder(_ subject: ConformanceSubject) async throws {
        try await subject.open { endpoint in
            let ids = try await seed(endpoint, (1...7).map { ["name": "R\($0)"] })
            let splits = try await endpoint.splitKeys(every: 3)
            #expect(splits.count == 2)
            var bounds: [String?] = [nil] + splits.map { $0 }
            bounds.append(nil)
            var seen: [String] = []
            for (after, upTo) in zip(bounds, bounds.dropFirst()) {
                seen += try await endpoint.records(in: KeyRange(after: after, upTo: upTo), limit: 100).map(\.id)
            }
            #expect(seen == ids.sorted())
        }
    }

    @Test(arguments: ConformanceSubject.all)
    func matchCandidatesAreNormalisedAlikeOnBothSides(_ subject: ConformanceSubject) async throws {
        try await subject.open { endpoint in
            let ids = try await seed(endpoint, [["name": "  Alpha   Beta "], ["name": "Gamma"], ["name": "gamma"]])
            let insensitive = try await endpoint.candidates(matching: ["name"], values: [["alpha beta"], ["GAMMA"], ["Delta"]], caseSensitive: false)
            #expect(insensitive.map { Set($0) } == [[ids[0]], [ids[1], ids[2]], []])
            let sensitive = try await endpoint.candidates(matching: ["name"], values: [["alpha beta"], ["Alpha Beta"]], caseSensitive: true)
            #expect(sensitive == [[], [ids[0]]])
        }
    }

    @Test(arguments: ConformanceSubject.all)
    func checksTellWhetherARecordHoldsWhatAWriteLeft(_ subject: ConformanceSubject) async throws {
        try await subject.open { endpoint in
            let ids = try await seed(endpoint, [["name": "Same", "amount": "1.00"], ["name": "Changed", "amount": "1.00"]])
            let checks = try await endpoint.check([
                ExpectedRecord(id: ids[0], values: ["name": "Same"]), ExpectedRecord(id: ids[1], values: ["name": "Other"]),
                ExpectedRecord(id: UUID().uuidString.lowercased(), values: ["name": "Never written"]),
            ])
            #expect(checks.count == 2)
            #expect(checks[ids[0]]?.agrees == true)
            #expect(checks[ids[1]]?.agrees == false)
        }
    }

    @Test(arguments: ConformanceSubject.all)
    func referringRecordsAreFoundByTheirExactValue(_ subject: ConformanceSubject) async throws {
        try await subject.open { endpoint in
            let ids = try await seed(endpoint, [["name": "C100"], ["name": "C100 "], ["name": "C200"], ["name": nil]])
            #expect(Set(try await endpoint.ids(whose: "name", isAnyOf: ["C100", "C300"])) == [ids[0]])
        }
    }
}

/// A conformance precondition that did not hold.
struct ConformanceFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
