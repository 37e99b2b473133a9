import Foundation
import Logging
import Postgres

/// Full (every record), delta (records changed since the watermark), match (uncoupled records
/// coupled to their counterparts by the match fields), or records (chosen records only).
public enum SyncKind: String, Sendable, Codable {
    case full
    case delta
    case match
    case records
}

/// Chosen records of one side, for a `records` run.
public struct ChosenRecords: Sendable, Codable {
    /// The side the ids belong to; the pass from that side runs.
    public var side: SyncSide
    /// The records' keys.
    public var ids: [String]

    /// Names records of one side.
    public init(side: SyncSide, ids: [String]) {
        self.side = side
        self.ids = ids
    }
}

/// What one pass did, as logged in `couplet.sync_runs`.
public struct SyncCounts: Sendable, Equatable {
    public var inserted = 0, modified = 0, deleted = 0, unchanged = 0, skipped = 0, failed = 0, coupled = 0, uncoupled = 0

    /// Zero counts.
    public init() {}
}

/// Runs a mapping's passes between its two endpoints and logs them.
///
/// Each pass (one per direction the mapping syncs) first retries the records that failed last time
/// and are not skipped, then reads changed records in key-ordered batches; per batch it reads the
/// couplings and the coupled targets in one query each, decides every record (`SyncDecision`),
/// writes inserts and updates in one statement per column set — falling back to record-by-record
/// only when the target refuses a batch, so a bad record fails alone — and stores couplings,
/// failures and errors in one statement each. The watermark advances only past what was fully
/// handled, capped as `PostgresTableEndpoint.watermarkCap()` explains.
public struct SyncEngine: Sendable {
    private let coordination: PostgresConnection
    private let endpoints: EndpointDirectory
    private let logger: Logger

    /// An engine writing its bookkeeping to the coordination database.
    public init(coordination: PostgresConnection, endpoints: EndpointDirectory = EndpointDirectory(), logger: Logger) {
        self.coordination = coordination
        self.endpoints = endpoints
        self.logger = logger
    }

    /// Runs every pass of `mapping` (a match run: the pass from the local side, or the only one);
    /// returns the counts per direction. `createUnmatched` lets a match run create the records it found no match for.
    @discardableResult
    public func run(
        mapping name: String, kind: SyncKind, jobID: Int64? = nil, createUnmatched: Bool = false, records: ChosenRecords? = nil
    ) async throws -> [SyncDirection: SyncCounts] {
        let mapping = try await MappingStore.load(name, on: coordination)
        let local = try await endpoints.connect(mapping.local.endpoint)
        let integration = try await endpoints.connect(mapping.integration.endpoint)
        defer {
            local.close()
            integration.close()
        }
        var report: [SyncDirection: SyncCounts] = [:]
        var passes = mapping.settings.direction.passes
        if kind == .match { passes = Array(passes.prefix(1)) }
        if let records { passes = passes.filter { $0.source == records.side } }
        for direction in passes {
            let connections = direction == .toIntegration ? (local, integration) : (integration, local)
            var pass = try SyncPass(
                mapping: mapping, direction: direction, kind: kind, coordination: coordination,
                source: connections.0, target: connections.1, logger: logger)
            pass.chosenIDs = records?.ids
            if kind == .match {
                guard !mapping.matchFields.isEmpty else {
                    throw SyncFailure(code: .configuration, message: "\(name) has no match fields (field_mappings.match_priority)")
                }
                pass.matchOnly = true
                pass.createsUnmatched = createUnmatched
            }
            report[direction] = try await pass.run(jobID: jobID)
        }
        return report
    }
}
