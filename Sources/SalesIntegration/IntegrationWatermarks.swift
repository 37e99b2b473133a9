import Foundation
import Postgres

/// Where an integration job's delta resumes: `couplet.integration_watermarks`, one row per job kind and mapping.
struct IntegrationWatermark: Sendable {
    /// Both marks of one run.
    struct Marks: Sendable {
        /// An ERP modified-on: the next delta reads ERP rows modified after it.
        var erp: Date
        /// A `couplet.couplings.coupled_at`: the next delta also refreshes records coupled after it.
        var couplings: Date
    }

    /// The job kind, e.g. `statistics.customers`.
    let jobKind: String
    /// The mapping whose couplings the job follows.
    let mapping: String

    /// The stored marks, or nil before the first run.
    func read(on coordination: PostgresConnection) async throws -> Marks? {
        try await coordination.query(
            """
            SELECT watermark, couplings_watermark FROM couplet.integration_watermarks
            WHERE job_kind = \(jobKind) AND mapping = \(mapping)
            """, name: "read integration watermark"
        ).map { row in
            let (erp, couplings) = try row.decode((Date, Date).self)
            return Marks(erp: erp, couplings: couplings)
        }.first
    }

    /// Stores `marks` as where the next delta resumes.
    func store(_ marks: Marks, on coordination: PostgresConnection) async throws {
        try await coordination.query(
            """
            INSERT INTO couplet.integration_watermarks (job_kind, mapping, watermark, couplings_watermark)
            VALUES (\(jobKind), \(mapping), \(marks.erp), \(marks.couplings))
            ON CONFLICT (job_kind, mapping) DO UPDATE
            SET watermark = EXCLUDED.watermark, couplings_watermark = EXCLUDED.couplings_watermark, updated_at = now()
            """, name: "store integration watermark")
    }
}
