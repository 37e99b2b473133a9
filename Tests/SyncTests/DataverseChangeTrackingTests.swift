import DataverseEmulator
import Foundation
import InMemoryLogging
import Logging
import Postgres
import Testing
@testable import Sync

/// Deltas over Dataverse's change tracking: the engine keeps the delta token per mapping side, reads
/// the changes after it — deletions included, which a modified-on column cannot show — and falls
/// back to reading every record when the service refuses an expired token.
@Suite struct DataverseChangeTrackingTests {
    /// Applies the fixture's mappings again with DEBTOR edited by `edit` (before any run: the
    /// apply changes the mapping's revision).
    private func reapply(_ f: DataverseFixture, _ edit: (String) -> String) async throws {
        let file = try MappingFile.parse(edit(DataverseFixture.mappings(f.dataverse)), file: "mappings.yaml")
        try await MappingStore.apply(file, prune: false, on: f.coordination)
    }

    /// DEBTOR with `deletion_conflict: policy`.
    private func deletionConflict(_ policy: String) -> (String) -> String {
        { $0.replacingOccurrences(of: "    batch_size: 40\n", with: "    batch_size: 40\n    deletion_conflict: \(policy)\n") }
    }

    private func seedDebtors(_ f: DataverseFixture, _ names: [String]) async throws {
        for name in names { try await f.erp.query("INSERT INTO debtor (name, country, credit_limit) VALUES (\(name), 'DE', 10)") }
    }

    private func integrationToken(_ f: DataverseFixture) async throws -> String? {
        try await f.coordination.query("SELECT integration_change_token FROM couplet.table_mappings WHERE name = 'DEBTOR'")
            .single().decode(String?.self, at: 0)
    }

    @Test("a delta over the token carries an insert, an update and a deletion made in Dataverse; propagate deletes the ERP record")
    func deltaCarriesDeletionsWithPropagate() async throws {
        try await DataverseFixture.with { f in
            try await reapply(f, deletionConflict("propagate"))
            try await seedDebtors(f, ["Alpha", "Beta", "Delta"])
            try await f.sync(.full)
            #expect(try await integrationToken(f) != nil, "the full run stores a token")
            try await f.crm.runScript(
                """
                UPDATE account SET address1_country = 'AT' WHERE name = 'Alpha';
                DELETE FROM account WHERE name = 'Beta';
                INSERT INTO account (name, address1_country) VALUES ('Gamma', 'FR');
                """, name: "crm edits")
            let delta = try await f.sync()
            #expect(delta[.fromIntegration]?.inserted == 1)
            #expect(delta[.fromIntegration]?.modified == 1)
            #expect(delta[.fromIntegration]?.deleted == 1, "the deletion reaches the ERP in the delta: \(delta)")
            #expect(try await f.count(f.erp, "SELECT count(*) FROM debtor WHERE name = 'Beta'") == 0)
            #expect(try await f.count(f.erp, "SELECT count(*) FROM debtor WHERE name = 'Gamma' AND country = 'FR'") == 1)
            #expect(try await f.count(f.erp, "SELECT count(*) FROM debtor WHERE name = 'Alpha' AND country = 'AT'") == 1)
            #expect(try await f.count(f.coordination, "SELECT count(*) FROM couplet.couplings WHERE mapping = 'DEBTOR'") == 3)
            let quiet = try await f.sync()
            #expect(quiet.values.allSatisfy { $0.inserted + $0.modified + $0.deleted + $0.failed == 0 }, "nothing echoes: \(quiet)")
        }
    }

    @Test("a deletion in Dataverse under remove_coupling uncouples the ERP record in the delta and remembers it: a full run does not create it again")
    func deltaCarriesDeletionsWithRemoveCoupling() async throws {
        try await DataverseFixture.with { f in
            try await reapply(f, deletionConflict("remove_coupling"))
            try await seedDebtors(f, ["Alpha", "Beta"])
            try await f.sync(.full)
            try await f.crm.query("DELETE FROM account WHERE name = 'Beta'")
            let delta = try await f.sync()
            #expect(delta[.fromIntegration]?.uncoupled == 1, "\(delta)")
            #expect(try await f.count(f.coordination, "SELECT count(*) FROM couplet.couplings WHERE mapping = 'DEBTOR'") == 1)
            #expect(try await f.count(f.coordination, "SELECT count(*) FROM couplet.deleted_counterparts WHERE mapping = 'DEBTOR'") == 1)
            #expect(try await f.count(f.erp, "SELECT count(*) FROM debtor") == 2, "the survivor stays")
            try await f.sync(.full)
            #expect(try await f.count(f.crm, "SELECT count(*) FROM account WHERE name = 'Beta'") == 0, "not created again")
        }
    }

    @Test("with a filter on the Dataverse side, changed records outside it stay out, one that leaves it is not deleted, one deleted within it is")
    func filterKeepsOutsidersOutAndLeavingIsNoDeletion() async throws {
        try await DataverseFixture.with { f in
            try await reapply(f) {
                deletionConflict("propagate")($0).replacingOccurrences(
                    of: "integration: {endpoint: crm, table: account, key: accountid, modified: modifiedon}",
                    with: "integration: {endpoint: crm, table: account, key: accountid, modified: modifiedon, filter: \"address1_country = 'DE'\"}")
            }
            try await f.crm.runScript(
                "INSERT INTO account (name, address1_country) VALUES ('In One', 'DE'), ('In Two', 'DE'), ('In Three', 'DE'), ('Out', 'FR')",
                name: "accounts")
            let full = try await f.sync(.full)
            #expect(full[.fromIntegration]?.inserted == 3)
            try await f.crm.runScript(
                """
                UPDATE account SET name = 'In One renamed' WHERE name = 'In One';
                UPDATE account SET address1_country = 'FR' WHERE name = 'In Two';
                UPDATE account SET name = 'Out renamed' WHERE name = 'Out';
                INSERT INTO account (name, address1_country) VALUES ('Out Too', 'NL');
                DELETE FROM account WHERE name = 'In Three';
                """, name: "crm edits")
            let delta = try await f.sync()
            #expect(delta[.fromIntegration]?.modified == 1, "\(delta)")
            #expect(delta[.fromIntegration]?.inserted == 0)
            #expect(delta[.fromIntegration]?.deleted == 1)
            #expect(try await f.count(f.erp, "SELECT count(*) FROM debtor WHERE name = 'In Three'") == 0)
            #expect(try await f.count(f.erp, "SELECT count(*) FROM debtor WHERE name = 'In One renamed'") == 1)
            #expect(try await f.count(f.erp, "SELECT count(*) FROM debtor WHERE name = 'In Two'") == 1, "leaving the filter is no deletion")
            #expect(try await f.count(f.erp, "SELECT count(*) FROM debtor WHERE name LIKE 'Out%'") == 0)
        }
    }

    @Test("an expired token: the next delta logs why and reads every record, losing and doubling nothing; the delta after uses the fresh token")
    func expiredTokenFallsBackToAFullRead() async throws {
        let log = InMemoryLogHandler()
        try await DataverseFixture.with(logger: Logger(label: "test") { _ in log }) { f in
            try await reapply(f, deletionConflict("propagate"))
            try await seedDebtors(f, (1...6).map { "Debtor \($0)" })
            try await f.sync(.full)
            let before = try await integrationToken(f)
            try await f.crm.runScript(
                """
                UPDATE account SET address1_country = 'AT' WHERE name = 'Debtor 1';
                DELETE FROM account WHERE name = 'Debtor 2';
                """, name: "crm edits")
            f.dataverse.emulator.expireDeltaTokens()
            let resync = try await f.sync()
            #expect(resync[.fromIntegration]?.modified == 1, "\(resync)")
            #expect(resync[.fromIntegration]?.deleted == 1)
            #expect(resync[.fromIntegration]?.unchanged == 4, "every record was read")
            let warning = log.entries.first { $0.level == .warning && "\($0.message)".contains("refused the stored change token") }
            #expect(warning?.metadata["mapping"] == "DEBTOR", "\(log.entries)")
            #expect("\(warning?.metadata["reason"] ?? "")".contains("full sync"), "the service's reason is logged")
            let fresh = try await integrationToken(f)
            #expect(fresh != nil && fresh != before)
            #expect(try await f.count(f.erp, "SELECT count(*) FROM debtor") == 5)
            #expect(try await f.count(f.erp, "SELECT count(*) FROM debtor WHERE country = 'AT'") == 1)
            try await f.crm.query("UPDATE account SET address1_country = 'PL' WHERE name = 'Debtor 3'")
            let next = try await f.sync()
            #expect(next[.fromIntegration]?.modified == 1)
            #expect(next[.fromIntegration]?.unchanged == 0, "only the change after the fresh token is read: \(next)")
        }
    }

    @Test("a change still uncommitted while the first delta takes its token is read by the delta after it commits")
    func changeCommittedAroundTheTokenIsNotLost() async throws {
        try await DataverseFixture.with { f in
            try await seedDebtors(f, ["Alpha", "Beta"])
            try await f.sync(.full)
            try await f.coordination.query("UPDATE couplet.table_mappings SET integration_change_token = NULL WHERE name = 'DEBTOR'")
            try await f.crm.runScript("BEGIN; UPDATE account SET address1_country = 'AT' WHERE name = 'Alpha'", name: "open change")
            let first = try await f.sync()
            #expect(first[.fromIntegration]?.modified == 0, "not committed yet")
            #expect(try await integrationToken(f) != nil, "the first delta stores the token it took before reading")
            try await f.crm.runScript("COMMIT", name: "commit change")
            let second = try await f.sync()
            #expect(second[.fromIntegration]?.modified == 1, "\(second)")
            #expect(try await f.count(f.erp, "SELECT count(*) FROM debtor WHERE name = 'Alpha' AND country = 'AT'") == 1)
        }
    }

    @Test("more changes than a page: the delta follows the pages and carries every change and deletion")
    func changesOverSeveralPages() async throws {
        try await DataverseFixture.with(configure: { $0.maximumPageSize = 3 }) { f in
            try await reapply(f, deletionConflict("propagate"))
            try await seedDebtors(f, (1...10).map { "Debtor \($0)" })
            try await f.sync(.full)
            try await f.crm.runScript(
                """
                UPDATE account SET address1_country = 'AT' WHERE name IN ('Debtor 1', 'Debtor 2', 'Debtor 3', 'Debtor 4', 'Debtor 5', 'Debtor 6', 'Debtor 7');
                DELETE FROM account WHERE name IN ('Debtor 9', 'Debtor 10');
                """, name: "crm edits")
            let delta = try await f.sync()
            #expect(delta[.fromIntegration]?.modified == 7, "\(delta)")
            #expect(delta[.fromIntegration]?.deleted == 2)
            #expect(try await f.count(f.erp, "SELECT count(*) FROM debtor WHERE country = 'AT'") == 7)
            #expect(try await f.count(f.erp, "SELECT count(*) FROM debtor") == 8)
        }
    }
}
