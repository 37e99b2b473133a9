import Metrics
import Postgres
import Queue

/// What the sync engine records through swift-metrics, and the gauges of the mappings' state.
///
/// Recorded by the worker that runs a pass: `couplet_sync_records_total{mapping, direction, result}`
/// (each batch's counts: inserted, modified, deleted, unchanged, skipped, failed, coupled, uncoupled),
/// `couplet_sync_runs_total{mapping, direction, kind, outcome}` and
/// `couplet_sync_run_duration_seconds{mapping, direction, kind}`. Mappings are configuration, so
/// their names are bounded labels; no record id is ever one.
enum SyncMetrics {
    /// Counts a batch's records by result.
    static func recordBatch(_ counts: SyncCounts, mapping: String, direction: SyncDirection) {
        for (result, count) in counts.byResult where count > 0 {
            Counter(label: "couplet_sync_records_total", dimensions: [("mapping", mapping), ("direction", direction.storedName), ("result", result)])
                .increment(by: Int64(count))
        }
    }

    /// Counts a finished pass (`succeeded`, `failed` or `cancelled`) and its run time.
    static func recordRun(mapping: String, direction: SyncDirection, kind: SyncKind, outcome: String, duration: Duration) {
        let labels = [("mapping", mapping), ("direction", direction.storedName), ("kind", kind.rawValue)]
        Counter(label: "couplet_sync_runs_total", dimensions: labels + [("outcome", outcome)]).increment()
        Timer(label: "couplet_sync_run_duration_seconds", dimensions: labels).record(duration: duration)
    }
}

extension SyncCounts {
    /// Each count with its name, in `couplet.sync_runs` column order.
    var byResult: [(String, Int)] {
        [("inserted", inserted), ("modified", modified), ("deleted", deleted), ("unchanged", unchanged),
         ("skipped", skipped), ("failed", failed), ("coupled", coupled), ("uncoupled", uncoupled)]
    }
}

extension MappingStore {
    /// The mappings' gauges. From `couplet.sync_health`, for every mapping:
    /// `couplet_sync_watermark_lag_seconds{mapping, side}` (how far behind now the side's watermark
    /// is: it grows while that side is quiet, and while its passes fail), `couplet_sync_open_errors{mapping}`,
    /// `couplet_sync_skipped_records{mapping}` and `couplet_sync_couplings{mapping}`. From
    /// `couplet.verify_results`, for every mapping verified: `couplet_verify_problems{mapping}` (what
    /// its latest `couplet verify` left) and `couplet_verify_timestamp_seconds{mapping}` (when it ran).
    public static func gauges(on connection: PostgresConnection) async throws -> [GaugeReading] {
        try await healthGauges(on: connection) + verifyGauges(on: connection)
    }

    private static func healthGauges(on connection: PostgresConnection) async throws -> [GaugeReading] {
        try await health(on: connection).sorted { $0.key < $1.key }.flatMap { mapping, health in
            let lags = [("local", health.localWatermarkLag), ("integration", health.integrationWatermarkLag)].compactMap { side, lag in
                lag.map { GaugeReading("couplet_sync_watermark_lag_seconds", [("mapping", mapping), ("side", side)], max(0, $0)) }
            }
            return lags + [
                GaugeReading("couplet_sync_open_errors", [("mapping", mapping)], Double(health.openErrors)),
                GaugeReading("couplet_sync_skipped_records", [("mapping", mapping)], Double(health.skippedRecords)),
                GaugeReading("couplet_sync_couplings", [("mapping", mapping)], Double(health.couplings)),
            ]
        }
    }
}

extension MappingStore {
    private static func verifyGauges(on connection: PostgresConnection) async throws -> [GaugeReading] {
        try await connection.query(
            """
            SELECT mapping, problems_remaining, extract(epoch FROM verified_at)::float8 FROM couplet.verify_results ORDER BY mapping
            """, name: "verify gauges"
        ).flatMap { row in
            let (mapping, problems, verifiedAt) = try row.decode((String, Int, Double).self)
            return [
                GaugeReading("couplet_verify_problems", [("mapping", mapping)], Double(problems)),
                GaugeReading("couplet_verify_timestamp_seconds", [("mapping", mapping)], verifiedAt),
            ]
        }
    }
}
