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

/// What matching found for one uncoupled source record.
public struct MatchPreview: Sendable {
    /// The direction whose source the record is on.
    public var direction: SyncDirection
    /// The uncoupled source record.
    public var source: SyncRecord
    /// What matching found.
    public var outcome: MatchOutcome
    /// The target record found, when exactly one was.
    public var target: SyncRecord?
}

/// What one pass did, as logged in `couplet.sync_runs`.
public struct SyncCounts: Sendable, Equatable {
    public var inserted = 0, modified = 0, deleted = 0, unchanged = 0, skipped = 0, failed = 0, coupled = 0, uncoupled = 0

    /// Zero counts.
    public init() {}

    /// The pass wrote nothing and nothing failed: every record it read was unchanged or skipped.
    public var isIdle: Bool { inserted + modified + deleted + failed + coupled + uncoupled == 0 }
}

/// Runs a mapping's passes between its two endpoints and logs them.
///
/// Each pass (one per direction the mapping syncs) first retries the records that failed last time
/// and are not skipped, then reads changed records in key-ordered batches (from an endpoint with its
/// own change tracking, the changes after the side's stored token, deletions included); per batch it reads the
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
    /// returns the counts per direction. When the run coupled records, the value a lookup clearing
    /// on failure could not give before is written on the records of other mappings that refer to
    /// them (`completeReferences`). `createUnmatched` lets a match run create the records it
    /// found no match for; `sharing` says how a full run splits its records into chunks and shares them.
    /// A records run syncs `records` and their counterparts: only the pass in `direction` when
    /// given, else each pass the mapping makes, the one from the records' side first.
    @discardableResult
    public func run(
        mapping name: String, kind: SyncKind, jobID: Int64? = nil, createUnmatched: Bool = false, records: ChosenRecords? = nil,
        direction: SyncDirection? = nil, sharing: FullSyncSharing = .alone
    ) async throws -> [SyncDirection: SyncCounts] {
        let mapping = try await MappingStore.load(name, on: coordination)
        guard mapping.isEnabled else {
            logger.notice("\(name) is disabled: nothing synchronized (enabled: true in the mappings file turns it back on)")
            return [:]
        }
        guard !mapping.fields.isEmpty else {
            throw SyncFailure(
                code: .configuration,
                message: "\(name) has no field mappings, so it has nothing to synchronize; add its fields in the mappings file and apply it")
        }
        let directions = try passes(of: mapping, kind: kind, records: records, only: direction)
        let start = try await coordination.query("SELECT now()", name: "run start").single().decode(Date.self, at: 0)
        let report = try await whileSyncing(name) {
            try await withEndpoints(of: mapping) { local, integration in
                var report: [SyncDirection: SyncCounts] = [:]
                for direction in directions {
                    var pass = try await makePass(mapping, direction, kind: kind, local: local, integration: integration)
                    for other in mapping.settings.direction.passes where other != direction {
                        pass.otherDirection.append(try await makePass(mapping, other, kind: kind, local: local, integration: integration))
                    }
                    pass.chosen = records
                    pass.sharing = sharing
                    pass.matchOnly = kind == .match
                    pass.createsUnmatched = createUnmatched
                    report[direction] = try await pass.run(jobID: jobID)
                }
                return report
            }
        }
        if report.values.contains(where: { $0.coupled > 0 }) {
            do {
                try await completeReferences(to: name, coupledSince: start)
            } catch where !Task.isCancelled {
                // The run itself succeeded; a rerun would find nothing newly coupled to complete.
                logger.warning(
                    "cannot write the values completed by new couplings; they arrive with the referring records' next change",
                    metadata: ["mapping": "\(name)", "error": "\(error)"])
            }
        }
        return report
    }

    /// After a run of `referenced` coupled records: writes, on the records of other mappings that
    /// refer to them through a lookup that clears on failure, the value that lookup could not give
    /// before (`ReferenceFollowUp`), each mapping under its own lock.
    private func completeReferences(to referenced: String, coupledSince since: Date) async throws {
        let followUp = ReferenceFollowUp(coordination: coordination, logger: logger)
        for dependent in try await followUp.dependents(of: referenced) {
            let name = dependent.mapping.settings.name
            let written = try await whileSyncing(name) {
                try await withEndpoints(of: dependent.mapping) { local, integration in
                    let pass = try await makePass(dependent.mapping, dependent.direction, kind: .records, local: local, integration: integration)
                    return try await followUp.refresh(dependent, of: referenced, coupledSince: since, through: pass)
                }
            }
            if written > 0 {
                logger.info(
                    "wrote values completed by new couplings",
                    metadata: ["mapping": "\(name)", "field": "\(dependent.field.field(on: dependent.direction.target))", "records": "\(written)"])
            }
        }
    }

    /// The directions a run makes: a match run only the first (and needs match fields); a records run
    /// `only` that one, or else the chosen side's first.
    private func passes(
        of mapping: MappingDefinition, kind: SyncKind, records: ChosenRecords?, only direction: SyncDirection?
    ) throws -> [SyncDirection] {
        var passes = mapping.settings.direction.passes
        if kind == .match {
            guard !mapping.matchFields.isEmpty else {
                throw SyncFailure(code: .configuration, message: "\(mapping.settings.name) has no match fields (field_mappings.match_priority)")
            }
            passes = Array(passes.prefix(1))
        }
        if let records {
            passes = passes.filter { $0.source == records.side } + passes.filter { $0.source != records.side }
            if let direction { passes = passes.filter { $0 == direction } }
        }
        return passes
    }

    /// Whether a delta of `mapping` would find anything to do now, in any direction it syncs: a
    /// record to retry, or one changed after the watermark (false for a disabled mapping). The probe
    /// that wakes a schedule on hold after an idle delta; it reads at most a record per question.
    public func hasWork(mapping name: String) async throws -> Bool {
        let mapping = try await MappingStore.load(name, on: coordination)
        guard mapping.isEnabled else { return false }
        return try await withEndpoints(of: mapping) { local, integration in
            for direction in mapping.settings.direction.passes
            where try await makePass(mapping, direction, kind: .delta, local: local, integration: integration).hasWork() {
                return true
            }
            return false
        }
    }

    /// Runs `body` holding the mapping's advisory lock on the coordination database, so two runs
    /// of one mapping never overlap whatever their jobs' concurrency keys (a scheduled job sharing
    /// a category key, a job enqueued by hand in SQL): the second waits for the first.
    private func whileSyncing<T>(_ mapping: String, _ body: () async throws -> T) async throws -> T {
        let locked = try await coordination.query(
            "SELECT pg_try_advisory_lock(hashtext('couplet sync'), hashtext(\(mapping)))", name: "try mapping lock"
        ).single().decode(Bool.self, at: 0)
        if !locked {
            logger.notice("waiting for another run of \(mapping) to end")
            try await coordination.query("SELECT pg_advisory_lock(hashtext('couplet sync'), hashtext(\(mapping)))", name: "mapping lock")
        }
        do {
            try await endInterruptedRuns(of: mapping)
            let result = try await body()
            try await unlock(mapping)
            return result
        } catch {
            try? await unlock(mapping)
            throw error
        }
    }

    /// Releases the mapping's lock, even when the task is cancelled (the connection outlives the run).
    private func unlock(_ mapping: String) async throws {
        try await coordination.queryEvenIfCancelled("SELECT pg_advisory_unlock(hashtext('couplet sync'), hashtext(\(mapping)))", name: "mapping unlock")
    }

    /// What match-based coupling of `mapping` would find for each uncoupled record of its first
    /// pass's source, without writing anything — for a person to confirm before coupling.
    public func previewMatches(mapping name: String) async throws -> [MatchPreview] {
        let mapping = try await MappingStore.load(name, on: coordination)
        guard !mapping.matchFields.isEmpty, let direction = mapping.settings.direction.passes.first else {
            throw SyncFailure(code: .configuration, message: "\(name) has no match fields (field_mappings.match_priority)")
        }
        return try await withEndpoints(of: mapping) { local, integration in
            try await makePass(mapping, direction, kind: .match, local: local, integration: integration).previewMatches()
        }
    }

    /// Helps full run `runID` of `mapping`: syncs its pending key-range chunks beside the job that
    /// started it, until none is left (a run that ended has none to give).
    public func help(mapping name: String, run runID: Int64, job: JobAttempt?) async throws {
        let rows = try await coordination.query(
            "SELECT direction FROM couplet.sync_runs WHERE id = \(runID) AND mapping = \(name) AND state = 'running'",
            name: "run to help"
        ).map { try $0.decode(String.self, at: 0) }
        guard let stored = rows.first, let direction = SyncDirection(storedName: stored) else { return }
        let mapping = try await MappingStore.load(name, on: coordination)
        try await withEndpoints(of: mapping) { local, integration in
            var pass = try await makePass(mapping, direction, kind: .full, local: local, integration: integration)
            pass.sharing.job = job
            try await pass.syncChunks(SyncChunks(runID: runID, coordination: coordination))
        }
    }

    /// Opens sessions on the mapping's two endpoints, as `couplet mappings apply` stored them, for the duration of `body`.
    private func withEndpoints<T>(
        of mapping: MappingDefinition, _ body: (any EndpointSession, any EndpointSession) async throws -> T
    ) async throws -> T {
        let local = try await EndpointDefinition.stored(mapping.local.endpoint, on: coordination)
        let integration = try await EndpointDefinition.stored(mapping.integration.endpoint, on: coordination)
        return try await endpoints.withSessions(local, integration, body)
    }

    private func makePass(
        _ mapping: MappingDefinition, _ direction: SyncDirection, kind: SyncKind, local: any EndpointSession, integration: any EndpointSession
    ) async throws -> SyncPass {
        let (source, target) = direction == .toIntegration ? (local, integration) : (integration, local)
        return SyncPass(
            mapping: mapping, direction: direction, kind: kind, coordination: coordination,
            source: try await source.table(mapping.side(direction.source), columns: mapping.columns(on: direction.source)),
            target: try await target.table(mapping.side(direction.target), columns: mapping.columns(on: direction.target)),
            logger: logger)
    }

    /// Ends, as failed, the runs of `mapping` still marked running: with its lock held, none can
    /// be (a run holds the lock until it ends), so their worker died or lost the coordination
    /// database. Whether or not their jobs run again, `couplet.sync_health` then tells the truth,
    /// and helpers stop taking their chunks.
    private func endInterruptedRuns(of mapping: String) async throws {
        try await coordination.query(
            """
            UPDATE couplet.sync_runs SET state = 'failed', finished_at = now(),
                message = 'interrupted: the worker running it stopped before the run ended'
            WHERE mapping = \(mapping) AND state = 'running'
            """, name: "end interrupted runs")
    }
}
