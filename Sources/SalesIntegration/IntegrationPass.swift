import Foundation
import Logging
import Postgres
import Queue
import Sync

/// One run of a coupled-record refresh over a mapping: the changed ERP records batch by batch,
/// their couplings, the figures written where they differ, then the watermark.
///
/// **Late commits.** The watermark becomes the start of the oldest transaction still open on the
/// ERP when the run began (`PostgresTableEndpoint.watermarkCap`, as the sync engine does), so a
/// row committed after the run read its candidates is read by the next run.
struct IntegrationPass<Refresh: CoupledRefresh> {
    /// What is computed and written.
    let refresh: Refresh
    /// The mapping whose couplings say which records are pushed.
    let mapping: String
    /// Where the mapping's endpoints are.
    let endpoints: EndpointDirectory
    /// The coordination database.
    let coordination: PostgresConnection
    /// ERP records per batch: memory follows the batch, not the table.
    let batchSize: Int
    /// Every record rather than those changed since the last run.
    let full: Bool

    /// A run of `refresh` as a job with `arguments` asks.
    init(
        _ refresh: Refresh, _ arguments: SalesIntegrationJobs.Arguments, endpoints: EndpointDirectory,
        coordination: PostgresConnection, batchSize: Int
    ) {
        self.refresh = refresh
        self.mapping = arguments.mapping
        self.endpoints = endpoints
        self.coordination = coordination
        self.batchSize = batchSize
        self.full = arguments.full ?? false
    }

    /// Runs the refresh: every record when `full` or before the first run, else the records changed since the last.
    func run() async throws -> IntegrationCounts {
        let sides = try await mappingEndpoints()
        let erp = try await endpoints.connect(sides.local)
        defer { erp.close() }
        let crm = try await endpoints.connect(sides.integration)
        defer { crm.close() }
        let watermark = IntegrationWatermark(jobKind: Refresh.jobKind, mapping: mapping)
        let since = full ? nil : try await watermark.read(on: coordination)
        let cap = try await PostgresTableEndpoint.watermarkCap(on: erp)
        let databases = RefreshEndpoints(erp: erp, crm: crm, coordination: coordination)
        var counts = IntegrationCounts()
        var after: String?
        while case let keys = try await refresh.candidates(since: since, after: after, limit: batchSize, on: erp), let last = keys.last {
            let coupled = try await couplings(of: keys)
            let write = coupled.isEmpty ? BatchWrite() : try await refresh.refresh(coupled, endpoints: databases)
            counts.add(candidates: keys.count, coupled: coupled.count, write)
            after = last
            try Task.checkCancellation()
        }
        // Rows stamped at the cap itself may still commit: stop just before it (deltas read `> watermark`).
        try await watermark.store(cap.addingTimeInterval(-0.000_001), on: coordination)
        return counts
    }

    /// The mapping's local (ERP) and integration (CRM) endpoint names; a clear error when there is no such mapping.
    private func mappingEndpoints() async throws -> (local: String, integration: String) {
        let rows = try await coordination.query(
            "SELECT local_endpoint, integration_endpoint FROM couplet.table_mappings WHERE name = \(mapping)", name: "mapping endpoints")
        guard let row = rows.first else {
            throw JobError(.handlerFailed, "there is no mapping \"\(mapping)\" (\(Refresh.jobKind))", isRetryable: false)
        }
        return try row.decode((String, String).self)
    }

    /// The couplings of these ERP keys, in key order.
    private func couplings(of keys: [String]) async throws -> [CoupledRecord] {
        try await coordination.query(
            """
            SELECT local_id, integration_id FROM couplet.couplings
            WHERE mapping = \(mapping) AND local_id = ANY(\(keys)::text[]) ORDER BY local_id
            """, name: "couplings of batch"
        ).map { row in
            let (local, integration) = try row.decode((String, String).self)
            return CoupledRecord(localID: local, integrationID: integration)
        }
    }
}
