import Foundation
import Postgres
import PostgresTestSupport
import Testing

/// Records waiting for a reference, synced by a real scheduler and worker every second: the error
/// log holds one open error per record however many runs see it. CI runs a short soak; run the
/// ten-minute one on demand with `COUPLET_SOAK_SECONDS=600 swift test --filter ErrorLogSoakTests`.
@Suite("Error log soak with real processes", .serialized)
struct ErrorLogSoakTests {
    private static var seconds: Int {
        ProcessInfo.processInfo.environment["COUPLET_SOAK_SECONDS"].flatMap(Int.init).map { max($0, 5) } ?? 12
    }

    @Test("deltas every second for the soak: one open error per waiting record, counted per run; all close once the reference is coupled")
    func waitingRecordsDoNotFlood() async throws {
        try await SyncProcessFixture.with(customers: 0) { f in
            try await f.erp.query(
                """
                INSERT INTO customer (no, name, salesperson_code)
                SELECT n::text, 'Customer ' || n, CASE WHEN n <= 12 THEN 'JR' ELSE 'PS' END FROM generate_series(1, 20) n
                """)
            try await f.coordination.runScript(
                SampleTables.salespersonLookup() + """
                ;
                INSERT INTO couplet.schedules (name, expression, job_kind, args, queue, no_overlap)
                VALUES ('customer-delta', '* * * * * *', 'sync.delta', '{"mapping": "CUSTOMER"}', 'sync', true);
                """, name: "salespeople and schedule")
            let worker = try CoupletProcess.start(["worker"], environment: f.environment)
            let scheduler = try CoupletProcess.start(["scheduler"], environment: f.environment)
            defer {
                worker.terminate()
                scheduler.terminate()
            }
            try await Task.sleep(for: .seconds(Self.seconds))
            let runs = try await f.count(f.coordination, "SELECT count(*) FROM couplet.sync_runs WHERE kind = 'delta' AND state = 'succeeded'")
            #expect(runs >= 3, "the schedule ran deltas: \(runs)")
            let (rows, open, mostOccurrences) = try await f.coordination.query(
                "SELECT count(*), count(*) FILTER (WHERE closed_at IS NULL), max(occurrences) FROM couplet.sync_errors"
            ).single().decode((Int, Int, Int).self)
            #expect(rows == 12 && open == 12, "one error per waiting record, not one per run: \(rows) rows, \(open) open")
            #expect(mostOccurrences >= runs - 1, "each run that saw a record counted it: \(mostOccurrences) of \(runs) runs")
            let health = try await f.count(f.coordination, "SELECT errors_last_24h FROM couplet.sync_health WHERE mapping = 'CUSTOMER'")
            #expect(health == 12)

            try await f.coordination.query("INSERT INTO couplet.couplings (mapping, local_id, integration_id) VALUES ('SALESPEOPLE', 'JR', 'user-jr')")
            #expect(try await eventually(within: .seconds(30)) {
                try await f.count(f.coordination, "SELECT count(*) FROM couplet.sync_errors WHERE closed_at IS NULL") == 0
            }, "the errors close by themselves once their records sync")
            #expect(try await f.count(f.crm, "SELECT count(*) FROM account WHERE owner_id = 'user-jr'") == 12)
        }
    }
}
