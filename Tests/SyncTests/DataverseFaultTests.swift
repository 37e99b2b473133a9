import DataverseEmulator
import Foundation
import Postgres
import Testing
@testable import Sync

/// The Web API misbehaving as the documentation says it may — throttling, server errors, expired
/// tokens, a proxy's HTML page, a dropped connection — while the engine syncs through the
/// Dataverse connector: nothing is lost and nothing is written twice.
@Suite struct DataverseFaultTests {
    /// Every one of `count` ERP debtors is in the CRM exactly once, coupled, with no open error.
    private func expectEveryDebtorOnce(_ f: DataverseFixture, count: Int) async throws {
        #expect(try await f.count(f.crm, "SELECT count(*) FROM account") == count)
        #expect(try await f.count(f.crm, "SELECT count(DISTINCT accountnumber) FROM account") == count)
        #expect(try await f.count(f.coordination, "SELECT count(*) FROM couplet.couplings WHERE mapping = 'DEBTOR'") == count)
        #expect(try await f.count(f.coordination, "SELECT count(*) FROM couplet.sync_errors WHERE closed_at IS NULL") == 0)
    }

    private func seed(_ f: DataverseFixture, _ count: Int) async throws {
        try await f.erp.query(
            "INSERT INTO debtor (name, country, credit_limit) SELECT 'Debtor ' || n, 'DE', n FROM generate_series(1, \(count)) n")
    }

    @Test("under a storm of 429s a full sync finishes with every record and no failure, only waits, never above the concurrency cap")
    func throttlingOnlyWaits() async throws {
        try await DataverseFixture.with(configure: { configuration in
            configuration.requestLimit = 20
            configuration.limitWindow = 1
        }) { f in
            try await seed(f, 200)
            let counts = try await f.sync(.full)
            #expect(counts[.toIntegration]?.inserted == 200)
            #expect(counts.values.allSatisfy { $0.failed == 0 })
            let stats = f.dataverse.emulator.stats()
            #expect(stats.throttledResponses > 0, "the limits were reached")
            #expect(stats.maximumConcurrentRequests <= 52)
            try await expectEveryDebtorOnce(f, count: 200)
        }
    }

    @Test("a burst of server errors is retried with backoff; the run carries every record once")
    func serverErrorsAreRetried() async throws {
        try await DataverseFixture.with { f in
            try await seed(f, 60)
            f.dataverse.emulator.inject(.status(503), count: 3)
            let counts = try await f.sync(.full)
            #expect(counts[.toIntegration]?.inserted == 60)
            #expect(f.dataverse.emulator.stats().faultsPlayed == 3)
            try await expectEveryDebtorOnce(f, count: 60)
        }
    }

    @Test("access tokens expired mid-stream are refreshed once and the request retried")
    func expiredTokensAreRefreshed() async throws {
        try await DataverseFixture.with { f in
            try await seed(f, 20)
            try await f.sync(.full)
            f.dataverse.emulator.expireAccessTokens()
            try await f.erp.query("UPDATE debtor SET country = 'AT' WHERE id <= 5")
            let counts = try await f.sync()
            #expect(counts[.toIntegration]?.modified == 5)
            #expect(try await f.count(f.crm, "SELECT count(*) FROM account WHERE address1_country = 'AT'") == 5)
            try await expectEveryDebtorOnce(f, count: 20)
        }
    }

    @Test("a proxy's HTML page, a truncated answer or a dropped connection fails the run, saying what came back; the next run completes it without duplicates",
          arguments: [(Fault.htmlBadGateway, "HTML page"), (.truncatedJSON, "cut short"), (.dropConnection, "connection")])
    func brokenAnswersLoseNothing(_ fault: Fault, _ words: String) async throws {
        try await DataverseFixture.with { f in
            try await seed(f, 90)
            f.dataverse.emulator.inject(fault, count: 20)
            let failure = await #expect(throws: (any Error).self) { try await f.sync(.full) }
            #expect("\(failure.map { "\($0)" } ?? "")".contains(words))
            #expect(!"\(failure.map { "\($0)" } ?? "")".contains(EmulatedDataverse.secret))
            f.dataverse.emulator.clearFaults()
            try await f.sync(.full)
            try await f.sync(.full)
            try await expectEveryDebtorOnce(f, count: 90)
        }
    }
}
