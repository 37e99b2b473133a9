import Foundation
import Postgres

/// Where an integration job's delta resumes: `couplet.integration_watermarks`, one row per job kind and mapping.
///
/// The watermark is an ERP modified-on: the next delta reads rows modified after it.
struct IntegrationWatermark: Sendable {
    /// The job kind, e.g. `statistics.customers`.
    let jobKind: String
    /// The mapping whose couplings the job follows.
    let mapping: String

    /// The stored watermark, or nil before the first run.
    func read(on coordination: PostgresConnection) async throws -> Date? {
        try await coordination.query(
            "SELECT watermark FROM couplet.integration_watermarks WHERE job_kind = \(jobKind) AND mapping = \(mapping)",
            name: "read integration watermark"
        ).map { try $0.decode(Date.self, at: 0) }.first
    }

    /// Stores `watermark` as where the next delta resumes.
    func store(_ watermark: Date, on coordination: PostgresConnection) async throws {
        try await coordination.query(
            """
            INSERT INTO couplet.integration_watermarks (job_kind, mapping, watermark) VALUES (\(jobKind), \(mapping), \(watermark))
            ON CONFLICT (job_kind, mapping) DO UPDATE SET watermark = EXCLUDED.watermark, updated_at = now()
            """, name: "store integration watermark")
    }
}
