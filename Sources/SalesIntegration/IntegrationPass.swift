import Foundation
import Postgres
import Queue
import Sync

/// One run of a coupled-record refresh over a mapping: records coupled since the last run, then the
/// changed ERP records, batch by batch, with their couplings, the figures written where they
/// differ; then the watermarks.
///
/// **Late commits.** Each watermark becomes the start of the oldest transaction still open on its
/// database (the ERP's for modified-on, the coordination database's for couplings) when the run
/// began — `PostgresTableEndpoint.watermarkCap`, as the sync engine does — so a row committed after
/// the run read it is read by the next run.
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

    /// Runs the refresh: every coupled record when `full` or before the first run, else those
    /// coupled or changed since the last.
    func run() async throws -> IntegrationCounts {
        let sides = try await mappingEndpoints()
        let erp = try await endpoints.connect(sides.local)
        defer { erp.close() }
        let crm = try await endpoints.connect(sides.integration)
        defer { crm.close() }
        let watermark = IntegrationWatermark(jobKind: Refresh.jobKind, mapping: mapping)
        let since = full ? nil : try await watermark.read(on: coordination)
        let caps = IntegrationWatermark.Marks(
            erp: try await PostgresTableEndpoint.watermarkCap(on: erp),
            couplings: try await PostgresTableEndpoint.watermarkCap(on: coordination))
        let databases = RefreshEndpoints(erp: erp, crm: crm, coordination: coordination)
        var counts = IntegrationCounts()
        if let since { try await refreshNewlyCoupled(since: since.couplings, databases, &counts) }
        try await refreshChanged(since: since, databases, &counts)
        // Rows stamped at a cap itself may still commit: stop just before it (deltas read `> watermark`).
        try await watermark.store(
            .init(erp: caps.erp.addingTimeInterval(-0.000_001), couplings: caps.couplings.addingTimeInterval(-0.000_001)),
            on: coordination)
        return counts
    }

    /// Whether a run would find anything to do now: records coupled or ERP records changed since
    /// the last run (always, before the first run or for a full one). Reads one row of each at most.
    func hasWork() async throws -> Bool {
        guard !full, let since = try await IntegrationWatermark(jobKind: Refresh.jobKind, mapping: mapping).read(on: coordination)
        else { return true }
        let newlyCoupled = try await coordination.query(
            "SELECT EXISTS (SELECT FROM couplet.couplings WHERE mapping = \(mapping) AND coupled_at > \(since.couplings))",
            name: "newly coupled exist"
        ).single().decode(Bool.self, at: 0)
        guard !newlyCoupled else { return true }
        let erp = try await endpoints.connect(try await mappingEndpoints().local)
        defer { erp.close() }
        return try await erp.query(
            "SELECT EXISTS (\(refresh.candidates(since: since.erp)))", name: "\(Refresh.jobKind) candidates exist"
        ).single().decode(Bool.self, at: 0)
    }

    /// Records coupled after `since`, whether or not their ERP data changed.
    private func refreshNewlyCoupled(since: Date, _ databases: RefreshEndpoints, _ counts: inout IntegrationCounts) async throws {
        var after: String?
        while case let coupled = try await coordination.query(
            """
            SELECT local_id, integration_id FROM couplet.couplings
            WHERE mapping = \(mapping) AND coupled_at > \(since) AND (\(after)::text IS NULL OR local_id > \(after))
            ORDER BY local_id LIMIT \(batchSize)
            """, name: "newly coupled"
        ).map(CoupledRecord.init), let last = coupled.last {
            counts.add(candidates: coupled.count, coupled: coupled.count, try await refresh.refresh(coupled, endpoints: databases))
            after = last.localID
            try Task.checkCancellation()
        }
    }

    /// ERP records changed after `since` (every record when nil), but those coupled after it: they were refreshed already.
    private func refreshChanged(
        since: IntegrationWatermark.Marks?, _ databases: RefreshEndpoints, _ counts: inout IntegrationCounts
    ) async throws {
        var after: String?
        while case let keys = try await databases.erp.query(
            """
            SELECT no FROM (\(refresh.candidates(since: since?.erp))) AS candidates
            WHERE \(after)::text IS NULL OR no > \(after) ORDER BY no LIMIT \(batchSize)
            """, name: "\(Refresh.jobKind) candidates"
        ).map({ try $0.decode(String.self, at: 0) }), let last = keys.last {
            let (coupled, newlyCoupled) = try await couplings(of: keys, newAfter: since?.couplings)
            let write = coupled.isEmpty ? BatchWrite() : try await refresh.refresh(coupled, endpoints: databases)
            counts.add(candidates: keys.count - newlyCoupled, coupled: coupled.count, write)
            after = last
            try Task.checkCancellation()
        }
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

    /// The couplings of these ERP keys in key order, but those coupled after `newAfter` (nil: none), which are only counted.
    private func couplings(of keys: [String], newAfter: Date?) async throws -> (coupled: [CoupledRecord], newlyCoupled: Int) {
        let rows = try await coordination.query(
            """
            SELECT local_id, integration_id, coalesce(coupled_at > \(newAfter), false) FROM couplet.couplings
            WHERE mapping = \(mapping) AND local_id = ANY(\(keys)::text[]) ORDER BY local_id
            """, name: "couplings of batch")
        let newlyCoupled = try rows.filter { try $0.decode(Bool.self, at: 2) }.count
        return (try rows.filter { try !$0.decode(Bool.self, at: 2) }.map(CoupledRecord.init), newlyCoupled)
    }
}
