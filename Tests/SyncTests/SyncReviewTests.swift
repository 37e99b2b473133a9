import Foundation
import Postgres
import PostgresTestSupport
import Testing

@testable import Sync

@Suite("Full synchronization review")
struct SyncReviewTests {
    @Test("recommendations: no records, couple first (both sides hold records, none coupled, no match fields), else a full sync")
    func recommendations() {
        #expect(ReviewRecommendation(couplings: 0, local: 0, integration: 0, matches: false) == .noRecords)
        #expect(ReviewRecommendation(couplings: 0, local: 5, integration: 3, matches: false) == .coupleFirst)
        #expect(ReviewRecommendation(couplings: 0, local: 5, integration: 3, matches: true) == .fullSync, "a full sync matches inline")
        #expect(ReviewRecommendation(couplings: 2, local: 5, integration: 3, matches: false) == .fullSync)
        #expect(ReviewRecommendation(couplings: 0, local: 5, integration: 0, matches: false) == .fullSync)
        #expect(ReviewRecommendation(couplings: 0, local: nil, integration: 3, matches: false) == .fullSync)
    }

    @Test("dependency order puts each mapping after what it depends on; a cycle goes last")
    func order() {
        let order = SyncReview.dependencyOrder([
            "CUSTOMER": ["SALESPEOPLE", "CURRENCY"], "CONTACT": ["CUSTOMER", "VENDOR"], "CURRENCY": [], "SALESPEOPLE": [],
            "VENDOR": [], "X": ["Y"], "Y": ["X"], "ITEM": ["DISABLED"],
        ])
        #expect(order == ["CURRENCY", "ITEM", "SALESPEOPLE", "CUSTOMER", "VENDOR", "CONTACT", "X", "Y"])
    }

    @Test("a review enqueues what depends on nothing, then each mapping once its dependencies finished; a failure blocks its dependents")
    func reviewFlow() async throws {
        try await withMigratedDatabase { _, db in
            try await db.runScript(
                """
                INSERT INTO couplet.endpoints (name) VALUES ('erp'), ('crm');
                INSERT INTO couplet.table_mappings (name, local_endpoint, local_table, local_key, local_modified,
                    integration_endpoint, integration_table, integration_key, integration_modified, direction, depends_on, enabled)
                SELECT n, 'erp', 't', 'k', 'm', 'crm', 't', 'k', 'm', 'to_integration', d, e
                FROM (VALUES ('A', '{}'::text[], true), ('B', '{A}', true), ('C', '{A,B}', true), ('D', '{}', true),
                             ('E', '{D}', true), ('F', '{E}', true), ('OFF', '{}', false), ('G', '{OFF}', true)) AS v(n, d, e);
                """, name: "mappings")
            #expect(try await SyncReview.start(on: db) == ["A", "D", "G"], "G's dependency is disabled")
            await #expect(throws: SyncFailure.self) { try await SyncReview.start(on: db) }
            try await SyncReview.finish(mapping: "A", job: try await job(of: "A", db), failure: nil, on: db)
            #expect(try await states(db) == [
                "A": "finished", "B": "enqueued", "C": "waiting", "D": "enqueued", "E": "waiting", "F": "waiting", "G": "enqueued",
            ])
            try await SyncReview.finish(mapping: "B", job: try await job(of: "B", db), failure: nil, on: db)
            try await SyncReview.finish(mapping: "D", job: try await job(of: "D", db), failure: "endpoint erp is down", on: db)
            let after = try await states(db)
            #expect(after["C"] == "enqueued" && after["D"] == "failed" && after["E"] == "blocked" && after["F"] == "blocked")
            let message = try await db.query("SELECT message FROM couplet.sync_review WHERE mapping = 'F'").single().decode(String.self, at: 0)
            #expect(message == "waits for D, whose full sync failed")
            let jobs = try await db.query(
                "SELECT args->>'mapping', (args->>'review')::bool FROM couplet.jobs WHERE kind = 'sync.full' ORDER BY id"
            ).map { try $0.decode((String, Bool).self) }
            #expect(jobs.map(\.0) == ["A", "D", "G", "B", "C"], "each mapping enqueued once")
            #expect(jobs.allSatisfy { $0.1 })
            try await db.runScript("UPDATE couplet.jobs SET state = 'completed'", name: "jobs ended")
            #expect(try await SyncReview.start(on: db) == ["A", "D", "G"], "a finished review can run again")
        }
    }

    private func job(of mapping: String, _ db: PostgresConnection) async throws -> Int64 {
        try await db.query("SELECT job_id FROM couplet.sync_review WHERE mapping = \(mapping)").single().decode(Int64.self, at: 0)
    }

    private func states(_ db: PostgresConnection) async throws -> [String: String] {
        Dictionary(uniqueKeysWithValues: try await db.query("SELECT mapping, state FROM couplet.sync_review").map {
            try $0.decode((String, String).self)
        })
    }
}
