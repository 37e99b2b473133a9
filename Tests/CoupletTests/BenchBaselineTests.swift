import Foundation
import PostgresTestSupport
import Testing

/// The benchmarks' independent baselines run for real: pgbench against the minimal SQL queue and a
/// prepared SELECT, PgQueuer installed from PyPI. Small sizes: these prove the measurements work,
/// the figures come from release builds on an idle machine.
@Suite("couplet bench: baselines measured in the same run")
struct BenchBaselineTests {
    private static func figures(_ arguments: [String]) async throws -> [String: Any] {
        let server = try #require(ProcessInfo.processInfo.environment["COUPLET_TEST_DATABASE_URL"])
        let outcome = try await CoupletProcess.run(arguments + ["--json"], environment: ["COUPLET_DATABASE_URL": server])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        return try #require(try JSONSerialization.jsonObject(with: Data(outcome.standardOutput.utf8)) as? [String: Any], "\(outcome.standardOutput)")
    }

    @Test("bench queue drains the same jobs with Couplet, the minimal SQL queue (pgbench) and PgQueuer, round by round")
    func queueBaselines() async throws {
        let script = DocumentationPage.repository.appendingPathComponent("deploy/bench/pgqueuer-drain").path
        let figures = try await Self.figures(
            ["bench", "queue", "--jobs", "400", "--workers", "1", "--rounds", "2", "--latency-samples", "3", "--pgqueuer-script", script])
        for key in ["enqueue_jobs_per_s", "minimal_queue_enqueue_jobs_per_s", "process_jobs_per_s", "minimal_queue_process_jobs_per_s",
                    "pgqueuer_process_jobs_per_s", "plain_loop_process_jobs_per_s"] {
            #expect((figures[key] as? Double ?? 0) > 0, "\(key): \(figures)")
        }
        for key in ["round_jobs_per_s", "round_minimal_queue_jobs_per_s", "round_pgqueuer_jobs_per_s"] {
            let rounds = figures[key] as? [Double] ?? []
            #expect(rounds.count == 2 && rounds.allSatisfy { $0 > 0 }, "\(key): \(figures)")
        }
    }

    @Test("bench roundtrip runs pgbench -M prepared beside Couplet's connection")
    func roundTripBaseline() async throws {
        let figures = try await Self.figures(["bench", "roundtrip", "--seconds", "1", "--rounds", "1"])
        #expect((figures["roundtrips_per_s"] as? Double ?? 0) > 0, "\(figures)")
        #expect((figures["pgbench_roundtrips_per_s"] as? Double ?? 0) > 0, "\(figures)")
    }
}
