import Foundation
import Logging
import Postgres
import PostgresTestSupport
import Testing

@testable import Sync

extension OwnSchemaFixture {
    /// A debtor synced to a new client: their ids.
    func coupledPair(name: String = "Adatum", credit: Int = 100) async throws -> (debtor: String, client: String) {
        try await erp.query("INSERT INTO debtor (name, credit_limit) VALUES (\(name), \(credit))")
        try await sync(.full)
        let debtor = try await value(erp, "SELECT id::text FROM debtor WHERE name = \(name)", as: String.self)
        let client = try await value(coordination, "SELECT integration_id FROM couplet.couplings WHERE local_id = \(debtor)", as: String.self)
        return (debtor, client)
    }

    /// Runs the job a record action enqueued, as a worker would: its stored args, decoded.
    @discardableResult
    func runJob(of entry: RecordActions.Entry) async throws -> [SyncDirection: SyncCounts] {
        let job = try #require(entry.jobID, "action \(entry.id) enqueued no job")
        let (kind, args) = try await coordination.query("SELECT kind, args::text FROM couplet.jobs WHERE id = \(job)").single()
            .decode((String, String).self)
        #expect(kind == "sync.records")
        let arguments = try JSONDecoder().decode(SyncJobs.Arguments.self, from: Data(args.utf8))
        return try await SyncEngine(coordination: coordination, endpoints: endpoints, logger: Logger(label: "test")).run(
            mapping: arguments.mapping, kind: .records, jobID: job, records: arguments.records, direction: arguments.direction)
    }

    /// The action as logged now.
    func logged(_ entry: RecordActions.Entry) async throws -> RecordActions.Entry {
        try #require(try await RecordActions.entry(entry.id, on: coordination))
    }

    /// `name/credit/manager` of the debtor and of the client, `-` when gone.
    func pairValues(debtor: String, client: String) async throws -> (debtor: String, client: String) {
        let erpRow = try await erp.query(
            "SELECT coalesce(max(name || '/' || coalesce(credit_limit::int::text, '') || '/' || coalesce(manager, '')), '-') FROM debtor WHERE id::text = \(debtor)")
        let crmRow = try await crm.query(
            "SELECT coalesce(max(name || '/' || coalesce(credit::int::text, '') || '/' || coalesce(manager, '')), '-') FROM client WHERE id::text = \(client)")
        return (try erpRow.single().decode(String.self, at: 0), try crmRow.single().decode(String.self, at: 0))
    }

    /// The open errors' failure classes.
    func openErrorClasses() async throws -> [String] {
        try await coordination.query("SELECT error_class FROM couplet.sync_errors WHERE closed_at IS NULL ORDER BY id").map { try $0.decode(String.self, at: 0) }
    }
}

@Suite("Record actions: a person's per-record resolution, carried out by the engine and logged")
struct RecordActionTests {
    @Test("resolve_conflict: the chosen record wins this conflict once, over a skipped coupling; only the winner's pass runs",
          arguments: [SyncSide.local, .integration])
    func useOneSide(winner: SyncSide) async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping()
            let (debtor, client) = try await f.coupledPair()
            try await f.erp.query("UPDATE debtor SET credit_limit = 200")
            try await f.crm.query("UPDATE client SET credit = 300, manager = 'BOB'")
            try await f.sync()
            try await f.sync()
            #expect(try await f.value(f.coordination, "SELECT skipped FROM couplet.couplings", as: Bool.self), "a conflict twice: skipped")
            #expect(try await f.openErrorClasses().contains("update_conflict"))

            let named = winner == .local ? debtor : client
            let entry = try await RecordActions.resolve(.use(winner), mapping: "DEBTOR", id: named, side: winner, on: f.coordination)
            #expect(entry.action == "use_\(winner.rawValue)" && entry.state == "pending" && entry.requestedBy == "postgres")
            #expect(entry.localID == debtor && entry.integrationID == client)
            #expect(!(try await f.value(f.coordination, "SELECT skipped FROM couplet.couplings", as: Bool.self)), "released")
            let counts = try await f.runJob(of: entry)
            #expect(Array(counts.keys) == [winner == .local ? .toIntegration : .fromIntegration], "\(counts)")

            let values = try await f.pairValues(debtor: debtor, client: client)
            let expected = winner == .local ? "Adatum/200/" : "Adatum/300/BOB"
            #expect(values.debtor == expected && values.client == expected, "\(values)")
            let settled = try await f.logged(entry)
            #expect(settled.state == "done" && settled.runID != nil && settled.settledAt != nil)
            let written = winner == .local ? "client \(client)" : "debtor \(debtor)"
            #expect(settled.outcome?.hasPrefix("updated \(written) (") == true, "\(settled.outcome ?? "")")
            #expect(try await f.openErrorClasses().isEmpty, "the conflict's errors closed")
            let next = try await f.sync()
            #expect(next.values.allSatisfy { $0.modified == 0 && $0.failed == 0 }, "in step: \(next)")
        }
    }

    @Test("restore_record: a deleted client is created again from its debtor and the pair coupled to it")
    func restoreDeletedCounterpart() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping()
            let (debtor, client) = try await f.coupledPair(credit: 150)
            try await f.crm.query("DELETE FROM client")
            try await f.sync(.full)
            #expect(try await f.openErrorClasses() == ["deleted_counterpart"])

            let entry = try await RecordActions.resolve(.restore, mapping: "DEBTOR", id: debtor, on: f.coordination)
            #expect(entry.action == "restore" && entry.state == "pending" && entry.integrationID == client)
            let counts = try await f.runJob(of: entry)
            #expect(counts[.toIntegration]?.inserted == 1, "\(counts)")
            let restored = try await f.value(f.coordination, "SELECT integration_id FROM couplet.couplings WHERE local_id = \(debtor)", as: String.self)
            #expect(try await f.value(f.crm, "SELECT count(*) FROM client", as: Int.self) == 1, "the key is derived from the debtor: \(restored), was \(client)")
            #expect(try await f.pairValues(debtor: debtor, client: restored) == ("Adatum/150/", "Adatum/150/"))
            #expect(try await f.value(f.crm, "SELECT number FROM client", as: String.self) == debtor)
            let settled = try await f.logged(entry)
            #expect(settled.state == "done" && settled.outcome == "restored as client \(restored)", "\(settled)")
            #expect(try await f.openErrorClasses().isEmpty)
        }
    }

    @Test("restore_record of a deleted debtor whose coupling remove_coupling removed: named by its old id, created again from the client")
    func restoreRememberedSurvivor() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping(deletionConflict: "remove_coupling")
            let (debtor, client) = try await f.coupledPair(credit: 120)
            try await f.erp.query("DELETE FROM debtor")
            let removed = try await f.sync(.full)
            #expect(removed[.fromIntegration]?.uncoupled == 1, "\(removed)")
            #expect(try await f.value(f.coordination, "SELECT count(*) FROM couplet.deleted_counterparts", as: Int.self) == 1)

            let entry = try await RecordActions.resolve(.restore, mapping: "DEBTOR", id: debtor, on: f.coordination)
            #expect(entry.localID == debtor && entry.integrationID == client)
            try await f.runJob(of: entry)
            #expect(try await f.pairValues(debtor: debtor, client: client) == ("Adatum/120/", "Adatum/120/"), "the debtor is back under its id")
            #expect(try await f.value(f.coordination, "SELECT count(*) FROM couplet.deleted_counterparts", as: Int.self) == 0)
            #expect(try await f.value(f.coordination, "SELECT integration_id FROM couplet.couplings WHERE local_id = \(debtor)", as: String.self) == client)
            #expect(try await f.logged(entry).state == "done")
        }
    }

    @Test("delete_survivor: the client of a deleted debtor is deleted by the pass from the debtor's side, and the pair's error closes")
    func deleteSurvivor() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping()
            let (debtor, client) = try await f.coupledPair()
            try await f.erp.query("DELETE FROM debtor")
            try await f.sync(.full)
            #expect(try await f.openErrorClasses() == ["deleted_counterpart"])

            let entry = try await RecordActions.resolve(.delete, mapping: "DEBTOR", id: client, side: .integration, on: f.coordination)
            #expect(entry.action == "delete" && entry.localID == debtor)
            let counts = try await f.runJob(of: entry)
            #expect(counts[.toIntegration]?.deleted == 1, "\(counts)")
            #expect(try await f.pairValues(debtor: debtor, client: client) == ("-", "-"))
            #expect(try await f.value(f.coordination, "SELECT count(*) FROM couplet.couplings", as: Int.self) == 0)
            let settled = try await f.logged(entry)
            #expect(settled.state == "done" && settled.outcome == "deleted client \(client)", "\(settled)")
            #expect(try await f.openErrorClasses().isEmpty)
        }
    }

    @Test("delete_survivor of a debtor whose client was deleted and its coupling removed: coupled again, then deleted")
    func deleteRememberedSurvivor() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping(deletionConflict: "remove_coupling")
            let (debtor, client) = try await f.coupledPair()
            try await f.crm.query("DELETE FROM client")
            try await f.sync(.full)
            #expect(try await f.value(f.coordination, "SELECT count(*) FROM couplet.couplings", as: Int.self) == 0)

            let entry = try await RecordActions.resolve(.delete, mapping: "DEBTOR", id: debtor, on: f.coordination)
            #expect(entry.integrationID == client)
            let counts = try await f.runJob(of: entry)
            #expect(counts[.fromIntegration]?.deleted == 1, "\(counts)")
            #expect(try await f.value(f.erp, "SELECT count(*) FROM debtor", as: Int.self) == 0)
            #expect(try await f.value(f.coordination, "SELECT count(*) FROM couplet.deleted_counterparts", as: Int.self) == 0)
            #expect(try await f.logged(entry).outcome == "deleted debtor \(debtor)")
        }
    }

    @Test("an action the pair's state does not call for is settled not_applicable with the reason, and changes nothing")
    func notApplicableChangesNothing() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping()
            let (debtor, client) = try await f.coupledPair()
            let before = try await f.pairValues(debtor: debtor, client: client)
            let entry = try await RecordActions.resolve(.restore, mapping: "DEBTOR", id: debtor, on: f.coordination)
            let counts = try await f.runJob(of: entry)
            #expect(counts.values.allSatisfy { $0.inserted == 0 && $0.modified == 0 && $0.deleted == 0 }, "\(counts)")
            #expect(try await f.pairValues(debtor: debtor, client: client) == before)
            #expect(try await f.value(f.crm, "SELECT count(*) FROM client", as: Int.self) == 1)
            let settled = try await f.logged(entry)
            #expect(settled.state == "not_applicable" && settled.runID != nil)
            #expect(settled.outcome?.hasPrefix("neither debtor \(debtor) nor client \(client) was deleted") == true, "\(settled.outcome ?? "")")
        }
    }

    @Test("a write the target refuses leaves the action pending, the failure in the error log; once fixed, the action is done")
    func failedWriteLeavesPending() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping()
            let (debtor, client) = try await f.coupledPair()
            try await f.erp.query("UPDATE debtor SET manager = 'ANNA'")
            try await f.crm.query("UPDATE client SET credit = -5")
            let entry = try await RecordActions.resolve(.use(.integration), mapping: "DEBTOR", id: debtor, on: f.coordination)
            let counts = try await f.runJob(of: entry)
            #expect(counts[.fromIntegration]?.failed == 1, "\(counts)")
            #expect(try await f.logged(entry).state == "pending")
            #expect(try await f.openErrorClasses().contains("write_refused:23514:credit_not_negative"))
            #expect(try await f.pairValues(debtor: debtor, client: client).debtor == "Adatum/100/ANNA", "nothing written")

            try await f.crm.query("UPDATE client SET credit = 5")
            try await f.runJob(of: entry)
            #expect(try await f.logged(entry).state == "done")
            #expect(try await f.pairValues(debtor: debtor, client: client).debtor == "Adatum/5/")
        }
    }

    @Test("couple and uncouple act at once and are logged; a later action supersedes a pending one; refusals name what is wrong")
    func coupleUncoupleSupersede() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping()
            let client = "00000000-0000-0000-0000-00000000000a"
            let coupled = try await RecordActions.couple(mapping: "DEBTOR", localID: "1", integrationID: client, on: f.coordination)
            #expect(coupled.action == "couple" && coupled.state == "done" && coupled.requestedBy == "postgres")
            let use = try await RecordActions.resolve(.use(.local), mapping: "DEBTOR", id: "1", on: f.coordination)
            let restore = try await RecordActions.resolve(.restore, mapping: "DEBTOR", id: client, side: .integration, on: f.coordination)
            let superseded = try await f.logged(use)
            #expect(superseded.state == "superseded" && superseded.outcome == "superseded by action \(restore.id) (restore by postgres)")
            let uncoupled = try await RecordActions.resolve(.uncouple, mapping: "DEBTOR", id: "1", on: f.coordination)
            #expect(uncoupled.state == "done" && uncoupled.integrationID == client)
            #expect(try await f.logged(restore).state == "superseded")
            #expect(try await f.value(f.coordination, "SELECT count(*) FROM couplet.couplings", as: Int.self) == 0)
            let log = try await RecordActions.recent(mapping: "DEBTOR", record: "1", limit: 10, on: f.coordination)
            #expect(log.map(\.action) == ["uncouple", "restore", "use_local", "couple"], "newest first")

            let again = await #expect(throws: RecordActions.Refusal.self) {
                try await RecordActions.resolve(.uncouple, mapping: "DEBTOR", id: "1", on: f.coordination)
            }
            #expect(again?.message == "DEBTOR 1 is not coupled")
            try await RecordActions.couple(mapping: "DEBTOR", localID: "1", integrationID: client, on: f.coordination)
            let taken = await #expect(throws: RecordActions.Refusal.self) {
                try await RecordActions.couple(mapping: "DEBTOR", localID: "2", integrationID: client, on: f.coordination)
            }
            #expect(taken?.message == "DEBTOR: 1 is already coupled to \(client); uncouple it first (couplet uncouple DEBTOR 1)")
            let nothing = await #expect(throws: RecordActions.Refusal.self) {
                try await RecordActions.resolve(.restore, mapping: "DEBTOR", id: "9", on: f.coordination)
            }
            #expect(nothing?.message == "DEBTOR: debtor 9 is not coupled, and no deleted counterpart is remembered for it")
            let unknown = await #expect(throws: RecordActions.Refusal.self) {
                try await RecordActions.resolve(.delete, mapping: "NOPE", id: "1", on: f.coordination)
            }
            #expect(unknown?.message == "there is no mapping \"NOPE\"")
            try await f.coordination.query("UPDATE couplet.table_mappings SET enabled = false")
            let disabled = await #expect(throws: RecordActions.Refusal.self) {
                try await RecordActions.resolve(.use(.local), mapping: "DEBTOR", id: "1", on: f.coordination)
            }
            #expect(disabled?.message == "DEBTOR is disabled (enabled: false in its mappings file); its jobs do nothing")
        }
    }

    @Test("sync_records: one job for the chosen records, logged per record; a direction runs only that pass, none runs both")
    func syncRecordsByDirection() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping()
            let (debtor, client) = try await f.coupledPair()
            try await f.crm.query("UPDATE client SET manager = 'BOB'")
            let logged = try await RecordActions.sync(
                mapping: "DEBTOR", side: .integration, ids: [client, " ", client], direction: .fromIntegration, on: f.coordination)
            #expect(logged.count == 1 && logged[0].action == "sync" && logged[0].state == "done")
            #expect(logged[0].localID == debtor && logged[0].outcome == "enqueued sync.records job \(logged[0].jobID ?? 0) (from_integration)")
            let one = try await f.runJob(of: logged[0])
            #expect(Array(one.keys) == [.fromIntegration] && one[.fromIntegration]?.modified == 1, "\(one)")
            #expect(try await f.pairValues(debtor: debtor, client: client).debtor == "Adatum/100/BOB")

            let both = try await RecordActions.sync(mapping: "DEBTOR", side: .local, ids: [debtor], direction: nil, on: f.coordination)
            let counts = try await f.runJob(of: both[0])
            #expect(Set(counts.keys) == [.toIntegration, .fromIntegration], "\(counts)")
            let refused = await #expect(throws: RecordActions.Refusal.self) {
                try await RecordActions.sync(mapping: "DEBTOR", side: .local, ids: [" "], direction: nil, on: f.coordination)
            }
            #expect(refused?.message == "DEBTOR: name at least one record to synchronize")
        }
    }
}
