import Foundation
import Logging
import Postgres
import Queue

/// One direction of one run of a mapping: source side → target side.
struct SyncPass {
    let mapping: MappingDefinition
    let direction: SyncDirection
    let kind: SyncKind
    let coordination: PostgresConnection
    let source: any TableEndpoint
    let target: any TableEndpoint
    let diff: FieldDiff
    let logger: Logger
    /// A records run: only these records (of either side: the other side's are read through their couplings).
    var chosen: ChosenRecords?
    /// A match run: only uncoupled records are looked at, and coupled by their match fields.
    var matchOnly = false
    /// In a match run, whether records without a match are created on the target.
    var createsUnmatched = false
    /// How a full run splits its records into chunks and shares them with helper jobs.
    var sharing = FullSyncSharing.alone
    /// The pass retries the records that failed last time (see `retryFailures`).
    private var retryingFailures = false
    /// The pass of the mapping's other direction (none for a one-way mapping), whose writes left
    /// behind this pass records too before it reads (see `reconcileIntents`).
    var otherDirection: [SyncPass] = []

    init(
        mapping: MappingDefinition, direction: SyncDirection, kind: SyncKind, coordination: PostgresConnection,
        source: any TableEndpoint, target: any TableEndpoint, logger: Logger
    ) {
        self.mapping = mapping
        self.direction = direction
        self.kind = kind
        self.coordination = coordination
        self.source = source
        self.target = target
        self.diff = FieldDiff(
            mapping: mapping.settings, fields: mapping.fields, direction: direction, targetKey: mapping.side(direction.target).key.parts[0])
        self.logger = logger
    }

    private var mappingName: String { mapping.settings.name }

    /// Runs the pass and logs it in `couplet.sync_runs`; returns its counts (a full run's include its helpers').
    func run(jobID: Int64?) async throws -> SyncCounts {
        let started = ContinuousClock.now
        let runID = try await coordination.query(
            """
            INSERT INTO couplet.sync_runs (mapping, kind, direction, job_id)
            VALUES (\(mappingName), \(kind.rawValue), \(direction.storedName), \(jobID)) RETURNING id
            """, name: "start sync run"
        ).single().decode(Int64.self, at: 0)
        let counts: SyncCounts
        do {
            // Both directions' writes left behind, before this pass reads: a record the other pass
            // inserted and did not couple would otherwise look like a person's new record, and travel back.
            for pass in [self] + otherDirection { try await pass.reconcileIntents(runID: runID) }
            if let chosen {
                try await syncChosen(try await sourceIDs(of: chosen), runID: runID)
            } else if kind == .full {
                try await readStartingTracking(source.changeTracking, otherwiseKeeping: mapping.side(direction.source).changeToken) {
                    try await readEverything(runID: runID)
                }
            } else if kind == .delta, let tracking = source.changeTracking {
                try await retryFailures(runID: runID)
                try await readTrackedChanges(tracking, runID: runID)
            } else {
                if kind != .match { try await retryFailures(runID: runID) }
                try await readChanges(runID: runID)
            }
            counts = try await endRun(runID, state: "succeeded")
        } catch {
            let outcome = Task.isCancelled ? "cancelled" : "failed"
            _ = try? await endRun(runID, state: outcome, message: outcome == "cancelled" ? "cancelled" : "\(error)")
            SyncMetrics.recordRun(mapping: mappingName, direction: direction, kind: kind, outcome: outcome, duration: started.duration(to: .now))
            throw error
        }
        SyncMetrics.recordRun(mapping: mappingName, direction: direction, kind: kind, outcome: "succeeded", duration: started.duration(to: .now))
        logger.info(
            "sync pass finished",
            metadata: ["mapping": "\(mappingName)", "direction": "\(direction.storedName)", "counts": "\(counts)"])
        return counts
    }

    /// The ids of this pass's source records among `chosen`: its own ids, or the coupled
    /// counterparts of records chosen on the target side, in their order.
    private func sourceIDs(of chosen: ChosenRecords) async throws -> [String] {
        guard chosen.side != direction.source else { return chosen.ids }
        let couplings = try await CouplingStore.load(mapping: mappingName, side: chosen.side, ids: chosen.ids, on: coordination)
        return chosen.ids.compactMap { couplings[$0]?.id(on: direction.source) }
    }

    /// Chosen records, batch by batch; a chosen record that no longer exists meets the deletion
    /// policy. Choosing a record is a person's request: one whose counterpart was deleted is created again.
    private func syncChosen(_ ids: [String], runID: Int64) async throws {
        try await DeletedCounterparts.forget(mapping: mappingName, side: direction.source, ids: ids, on: coordination)
        for start in stride(from: 0, to: ids.count, by: mapping.batchSize) {
            let batch = Array(ids[start..<min(start + mapping.batchSize, ids.count)])
            let found = try await source.records(ids: batch)
            try await process(found, runID: runID)
            let existing = try await source.existingIDs(batch)
            try await processDeleted(batch.filter { !existing.contains($0) }, runID: runID)
        }
    }

    /// Records that failed last time and are not skipped go first, with coupled records whose
    /// side was never synced (coupled by hand or by match, or a key the source still waits for).
    private func retryFailures(runID: Int64) async throws {
        let ids = try await recordsToRetry()
        var retrying = self
        retrying.retryingFailures = true
        for start in stride(from: 0, to: ids.count, by: mapping.batchSize) {
            let batch = try await source.records(ids: Array(ids[start..<min(start + mapping.batchSize, ids.count)]))
            try await retrying.process(batch, runID: runID)
        }
    }

    /// The ids of the source records a pass retries first (`retryFailures`), at most `limit` of them (nil: all).
    private func recordsToRetry(limit: Int? = nil) async throws -> [String] {
        let side = direction.source
        let idColumn = try PostgresIdentifier(side == .local ? "local_id" : "integration_id")
        let resultColumn = try PostgresIdentifier(side == .local ? "local_result" : "integration_result")
        let stampColumn = try PostgresIdentifier(side == .local ? "local_modified_at" : "integration_modified_at")
        return try await coordination.query(
            """
            SELECT \(idColumn) FROM couplet.couplings
            WHERE mapping = \(mappingName) AND (\(resultColumn) = 'failure' OR \(stampColumn) IS NULL) AND NOT skipped
            UNION
            SELECT record_id FROM couplet.sync_failures WHERE mapping = \(mappingName) AND side = \(side.rawValue) AND NOT skipped
            LIMIT \(limit)
            """, name: "failed records"
        ).map { try $0.decode(String.self, at: 0) }
    }

    /// Whether a delta pass would find anything to do now: a record to retry, or one changed after
    /// the watermark. Reads at most one record of each.
    func hasWork() async throws -> Bool {
        guard try await recordsToRetry(limit: 1).isEmpty else { return true }
        return try await !source.changes(since: mapping.side(direction.source).watermark, after: nil, limit: 1).isEmpty
    }

    /// Changed records in (modified-on, key) order, batch by batch; then the watermark. Returns what it saw.
    @discardableResult
    private func readChanges(runID: Int64) async throws -> RecordsSeen {
        let cap = try await source.watermarkCap()
        let since = kind == .delta ? mapping.side(direction.source).watermark : nil
        var cursor: ChangeCursor?
        var newest = since
        var unfinished: Date?
        while case let page = try await source.changes(since: since, after: cursor, limit: readSize), let last = page.last {
            for batch in batches(of: page) {
                if let oldest = try await process(batch, runID: runID) { unfinished = min(unfinished ?? oldest, oldest) }
            }
            cursor = ChangeCursor(modifiedOn: last.modifiedOn, id: last.id)
            newest = max(newest ?? last.modifiedOn, last.modifiedOn)
            if page.count < readSize { break }  // a short read is the last
        }
        let seen = RecordsSeen(newest: newest, oldestLeft: unfinished)
        guard kind != .match else { return seen }
        try await advanceWatermark(seen: seen, cap: cap)
        return seen
    }

    /// How many records one read asks for: the source's preferred read size (a Web API's page
    /// size), or the mapping's batch size when larger or when it has none.
    private var readSize: Int { max(mapping.batchSize, source.readSize ?? 0) }

    /// `page` in batches of the mapping's batch size, each decided and written on its own.
    private func batches<Element>(of page: [Element]) -> [[Element]] {
        let size = max(mapping.batchSize, 1)
        return stride(from: 0, to: page.count, by: size).map { Array(page[$0..<min($0 + size, page.count)]) }
    }

    /// Every record, in key-range chunks that this run's job and the helper jobs it enqueues claim
    /// one at a time; when every chunk is done (a chunk whose job died is claimed again), the
    /// watermark. Returns what the chunks saw.
    private func syncInChunks(runID: Int64) async throws -> RecordsSeen {
        let cap = try await source.watermarkCap()
        let chunks = SyncChunks(runID: runID, coordination: coordination)
        let boundaries = try await source.splitKeys(every: sharing.chunkRows)
        try await chunks.plan(boundaries: boundaries)
        let helpers = min(boundaries.count, sharing.helpers)
        if helpers > 0 {
            let job = try SyncJobs.chunksJob(for: mappingName, run: runID)
            _ = try await JobQueue.enqueue(Array(repeating: job, count: helpers), on: coordination)
        }
        repeat {
            try await syncChunks(chunks)
        } while try await awaitOtherChunks(chunks)
        let seen = try await chunks.seen()
        try await advanceWatermark(seen: seen, cap: cap)
        return seen
    }

    /// Claims and syncs chunks of the run, batch by batch in key order, until none is pending.
    func syncChunks(_ chunks: SyncChunks) async throws {
        while let chunk = try await chunks.claim(by: sharing.job) {
            var range = chunk.range
            var seen = RecordsSeen()
            var records = 0
            while case let page = try await source.records(in: range, limit: readSize), let last = page.last {
                for batch in batches(of: page) {
                    if let oldest = try await process(batch, runID: chunks.runID) { seen.oldestLeft = min(seen.oldestLeft ?? oldest, oldest) }
                }
                let newest = page.map(\.modifiedOn).max() ?? last.modifiedOn
                seen.newest = max(seen.newest ?? newest, newest)
                records += page.count
                range.after = last.id
                if page.count < readSize { break }  // a short read ends the range
            }
            try await chunks.finish(chunk, records: records, seen: seen)
        }
    }

    /// Waits while other jobs sync the run's last chunks; true when a chunk came back (its job
    /// stopped) for this run to sync, false when every chunk is done.
    private func awaitOtherChunks(_ chunks: SyncChunks) async throws -> Bool {
        while true {
            let left = try await chunks.reclaimAbandoned()
            if left.notDone == 0 { return false }
            if left.pending > 0 { return true }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    /// A full run also walks the couplings, batch by batch, for source records that no longer
    /// exist: each meets the deletion-conflict policy.
    private func findDeletedSources(runID: Int64) async throws {
        let idColumn = try PostgresIdentifier(direction.source == .local ? "local_id" : "integration_id")
        var after = ""
        while true {
            let ids = try await coordination.query(
                """
                SELECT \(idColumn) FROM couplet.couplings WHERE mapping = \(mappingName) AND \(idColumn) > \(after)
                ORDER BY \(idColumn) LIMIT \(mapping.batchSize)
                """, name: "walk couplings"
            ).map { try $0.decode(String.self, at: 0) }
            guard let last = ids.last else { return }
            let existing = try await source.existingIDs(ids)
            try await processDeleted(ids.filter { !existing.contains($0) }, runID: runID)
            after = last
        }
    }

    /// Source records that no longer exist, each meeting the deletion-conflict policy.
    private func processDeleted(_ ids: [String], runID: Int64) async throws {
        try await process(ids.map { SyncRecord(id: $0, modifiedOn: .distantPast, values: [:]) }, sourceDeleted: true, runID: runID)
    }

    /// Every record, last run's failures too (`syncInChunks`), then the couplings whose source no
    /// longer exists. Returns what the chunks saw.
    private func readEverything(runID: Int64) async throws -> RecordsSeen {
        let seen = try await syncInChunks(runID: runID)
        try await findDeletedSources(runID: runID)
        return seen
    }

    // MARK: Change tracking

    /// A delta over the source's own change tracking (Dataverse's delta tokens). With a stored
    /// token: the changes after it (`readChanges(after:)`). Without one (the first delta, or a token
    /// cleared): a token first, then the delta by modified-on (`readStartingTracking`). A token the
    /// service refuses (expired) is logged, and the pass reads every record instead — only a full
    /// read finds what changed and what was deleted since — taking a fresh token first. The refused
    /// token is replaced only once that read succeeded, so a read that fails is tried again by the
    /// next delta rather than left to a delta by modified-on, which sees no deletions.
    private func readTrackedChanges(_ tracking: any ChangeTracking, runID: Int64) async throws {
        guard let token = mapping.side(direction.source).changeToken else {
            return try await readStartingTracking(tracking, otherwiseKeeping: nil) { try await readChanges(runID: runID) }
        }
        do {
            try await readChanges(after: token, tracking, runID: runID)
        } catch let refused as ChangeTokenRefused {
            logger.warning(
                "the source refused the stored change token: this delta reads every record instead, as a full sync does",
                metadata: ["mapping": "\(mappingName)", "direction": "\(direction.storedName)", "reason": "\(refused.reason)"])
            try await readStartingTracking(tracking, otherwiseKeeping: nil) { try await readEverything(runID: runID) }
        }
    }

    /// Takes a change token (when the source tracks changes), runs `read`, then stores the token —
    /// unless `read` left records for the next run, which a later token would skip: then `previous`
    /// is stored (the token from before this pass, nil for none, so the next delta reads by
    /// modified-on, whose watermark waits for them). Sound because the token is taken before
    /// `read` begins: a change committed after it is after the token, and the next delta reads
    /// it; one committed before it is visible to `read`, which starts later (and whose capped
    /// watermark reads late commits again). A change in between is read by both; the second
    /// sighting finds its coupling's stored modified-on and is `unchanged`.
    private func readStartingTracking(
        _ tracking: (any ChangeTracking)?, otherwiseKeeping previous: ChangeToken?, _ read: () async throws -> RecordsSeen
    ) async throws {
        guard let tracking else {
            _ = try await read()
            return
        }
        let token = try await tracking.currentChangeToken()
        let seen = try await read()
        try await storeChangeToken(seen.oldestLeft == nil ? token : previous)
    }

    /// The changes after `token`, page by page: changed records decided as any delta's (in batches
    /// of the mapping's batch size), deleted ones that are coupled meeting the deletion-conflict
    /// policy as a full run's would; then the next token (unless records were left for the next
    /// run: the next delta reads them again after this token) and the watermark, which wake-up
    /// probes read, to the newest record seen.
    private func readChanges(after token: ChangeToken, _ tracking: any ChangeTracking, runID: Int64) async throws {
        let cap = try await source.watermarkCap()
        var seen = RecordsSeen(newest: mapping.side(direction.source).watermark)
        let next = try await tracking.changes(after: token, pageSize: readSize) { page in
            for batch in batches(of: page.changed) {
                if let oldest = try await process(batch, runID: runID) { seen.oldestLeft = min(seen.oldestLeft ?? oldest, oldest) }
            }
            if let newest = page.changed.map(\.modifiedOn).max() { seen.newest = max(seen.newest ?? newest, newest) }
            try await processDeletedIfCoupled(page.deleted, runID: runID)
        }
        if seen.oldestLeft == nil { try await storeChangeToken(next) }
        try await advanceWatermark(seen: seen, cap: cap)
    }

    /// Deleted source records, batch by batch: those coupled meet the deletion-conflict policy;
    /// the others were never synchronized, so nothing depends on them.
    private func processDeletedIfCoupled(_ ids: [String], runID: Int64) async throws {
        for batch in batches(of: ids) {
            let coupled = try await CouplingStore.load(mapping: mappingName, side: direction.source, ids: batch, on: coordination)
            try await processDeleted(batch.filter { coupled[$0] != nil }, runID: runID)
            try await handOverSurvivors(of: Array(coupled.values), runID: runID)
        }
    }

    /// In a bidirectional mapping the pass from the surviving side applies the deletion-conflict
    /// policy (but `propagate`, which this pass applies): a full run reads every survivor there,
    /// but that side's delta reads a survivor only when it changed. So the survivors of the
    /// deletions tracked here are decided by the opposite pass now, as its full run would.
    private func handOverSurvivors(of couplings: [Coupling], runID: Int64) async throws {
        guard mapping.settings.direction == .bidirectional, mapping.settings.deletionConflictPolicy != .propagate,
              let opposite = otherDirection.first, !couplings.isEmpty
        else { return }
        let survivors = try await target.records(ids: couplings.map { $0.id(on: direction.target) })
        try await opposite.process(survivors, runID: runID)
    }

    /// Stores the source side's change token (nil clears it), as `advanceWatermark` does only if
    /// the mapping did not change since it was loaded (an apply may have moved the side elsewhere).
    private func storeChangeToken(_ token: ChangeToken?) async throws {
        let column = try PostgresIdentifier(direction.source == .local ? "local_change_token" : "integration_change_token")
        try await coordination.query(
            """
            UPDATE couplet.table_mappings SET \(column) = \(token?.text)
            WHERE name = \(mappingName) AND updated_at IS NOT DISTINCT FROM \(mapping.revision)
            """,
            name: "store change token")
    }

    /// Advances the watermark to the newest modified-on seen — but never to the cap or past it
    /// (rows stamped at the cap may still commit), nor to a record left for the next run (deltas
    /// read `> watermark`, so stop just before either).
    private func advanceWatermark(seen: RecordsSeen, cap: Date) async throws {
        guard let newest = seen.newest else { return }
        let limit = min(cap, seen.oldestLeft ?? cap)
        let watermark = newest < limit ? newest : limit.addingTimeInterval(-0.000_001)
        let column = try PostgresIdentifier(direction.source == .local ? "local_watermark" : "integration_watermark")
        try await coordination.query(
            """
            UPDATE couplet.table_mappings SET \(column) = greatest(\(column), \(watermark))
            WHERE name = \(mappingName) AND updated_at IS NOT DISTINCT FROM \(mapping.revision)
            """,
            name: "advance watermark")
    }

    /// Adds a batch's counts to the run's (its progress, for `couplet sync --wait`); helper jobs add theirs to the same row.
    private func addToRun(_ runID: Int64, _ counts: SyncCounts) async throws {
        try await coordination.query(
            """
            UPDATE couplet.sync_runs SET inserted = inserted + \(counts.inserted), modified = modified + \(counts.modified),
                deleted = deleted + \(counts.deleted), unchanged = unchanged + \(counts.unchanged),
                skipped = skipped + \(counts.skipped), failed = failed + \(counts.failed),
                coupled = coupled + \(counts.coupled), uncoupled = uncoupled + \(counts.uncoupled)
            WHERE id = \(runID)
            """, name: "add to sync run")
        SyncMetrics.recordBatch(counts, mapping: mappingName, direction: direction)
    }

    /// Ends the run in `state`, even when the task is cancelled; returns its counts.
    private func endRun(_ runID: Int64, state: String, message: String? = nil) async throws -> SyncCounts {
        let row = try await coordination.queryEvenIfCancelled(
            """
            UPDATE couplet.sync_runs SET state = \(state), finished_at = now(), message = \(message) WHERE id = \(runID)
            RETURNING inserted, modified, deleted, unchanged, skipped, failed, coupled, uncoupled
            """, name: "end sync run"
        ).single().decode((Int, Int, Int, Int, Int, Int, Int, Int).self)
        return SyncCounts(row)
    }

    // MARK: One batch

    /// Decides and writes one batch of source records; a record that looks up another record of the
    /// same batch through the mapping's own couplings (a customer's bill-to customer) is decided in a
    /// following batch, once the record it refers to is coupled.
    /// Returns the oldest modified-on of a record left for the next run (its target changed meanwhile).
    @discardableResult
    private func process(
        _ records: [SyncRecord], sourceDeleted: Bool = false, runID: Int64
    ) async throws -> Date? {
        let (first, then) = splitSelfReferences(records)
        let oldest = try await processBatch(first, sourceDeleted: sourceDeleted, runID: runID)
        guard !then.isEmpty else { return oldest }
        let oldestThen = try await process(then, sourceDeleted: sourceDeleted, runID: runID)
        return [oldest, oldestThen].compactMap { $0 }.min()
    }

    /// The records to decide first, and those that refer through the mapping's own couplings to a
    /// record among them (all first when they refer to each other in a circle).
    private func splitSelfReferences(_ records: [SyncRecord]) -> (first: [SyncRecord], then: [SyncRecord]) {
        let columns = diff.fields.filter { $0.transformation(for: direction).referencedMappings.contains(mappingName) }
            .map { $0.field(on: direction.source) }
        guard !columns.isEmpty, records.count > 1 else { return (records, []) }
        let ids = Set(records.map(\.id))
        let then = Set(records.filter { record in
            columns.contains { column in
                guard let value = record.values[column] ?? nil else { return false }
                return value != record.id && ids.contains(value)
            }
        }.map(\.id))
        guard then.count < records.count else { return (records, []) }
        return (records.filter { !then.contains($0.id) }, records.filter { then.contains($0.id) })
    }

    /// Decides and writes records whose references can all be looked up now.
    private func processBatch(
        _ records: [SyncRecord], sourceDeleted: Bool, runID: Int64
    ) async throws -> Date? {
        guard !records.isEmpty else { return nil }
        let ids = records.map(\.id)
        let couplings = try await CouplingStore.load(mapping: mappingName, side: direction.source, ids: ids, on: coordination)
        let (targets, outsideFilter) = try await coupledTargets(couplings.values.map { $0.id(on: direction.target) })
        let uncoupled = ids.filter { couplings[$0] == nil }
        let deletedCounterparts = try await DeletedCounterparts.load(mapping: mappingName, side: direction.source, ids: uncoupled, on: coordination)
        let localIDs = direction.source == .local ? ids : couplings.values.map(\.localID)
        let actions = try await RecordActions.pending(mapping: mappingName, localIDs: localIDs, on: coordination)
        let lookups = try await LookupTable.load(for: diff, direction: direction, records: records, on: coordination)
        var batch = newBatch
        var toMatch: [SyncRecord] = []
        for record in records {
            let coupling = couplings[record.id]
            if matchOnly && coupling != nil { continue }
            let targetRecord = coupling.flatMap { targets[$0.id(on: direction.target)] }
            let counterpart: Counterpart = if let coupling {
                .coupled(coupling, target: targetRecord.map { .present($0.stamp) }
                    ?? (outsideFilter.contains(coupling.id(on: direction.target)) ? .outsideFilter : .deleted))
            } else if let deleted = deletedCounterparts[record.id] {
                .uncoupledByDeletion(counterpartID: deleted)
            } else {
                .notCoupled(match: .notTried)
            }
            let localID = coupling?.localID ?? (direction.source == .local ? record.id : nil)
            let input = input(
                record, counterpart: counterpart, deleted: sourceDeleted, target: targetRecord, action: localID.flatMap { actions[$0] })
            let decision = decide(input, values: record, target: targetRecord, lookups: lookups)
            batch.actions.note(
                input.actionVerdict(in: decisionSettings), of: input.action, sourceID: record.id,
                target: coupling.map { mapping.settings.record($0.id(on: direction.target), on: direction.target) }, localID: localID)
            if decision == .match {
                toMatch.append(record)
            } else {
                batch.add(decision, for: record, coupling: coupling, target: targetRecord, sourceDeleted: sourceDeleted)
            }
        }
        try await decideMatched(toMatch, lookups: lookups, into: &batch)
        try await write(&batch, runID: runID)
        try await batch.save(mapping: mappingName, runID: runID, intents: intents, on: coordination)
        try await addToRun(runID, batch.counts)
        return batch.oldestLeftForNextRun
    }

    /// The settings the decisions follow. Only a delta keeps to "sync only coupled records": a full
    /// run creates what is not coupled yet, as Business Central's full synchronization does (it runs
    /// on a copy of the mapping with the setting off), a records run is a person asking for those
    /// records, and a match run looks at uncoupled records by definition (creating only with `--create`).
    /// A delta's retry of last time's failures does too: an uncoupled record among them failed when
    /// such a run tried to create it (a reference not coupled yet), and is created once it can be.
    private var decisionSettings: MappingSettings {
        var settings = mapping.settings
        if kind != .delta || retryingFailures { settings.syncOnlyCoupled = false }
        return settings
    }

    /// An empty outcome for a batch of this pass.
    private var newBatch: BatchOutcome {
        BatchOutcome(direction: direction, bidirectional: mapping.settings.direction == .bidirectional,
                     mergesFields: mapping.settings.updateConflictPolicy == .merge)
    }

    /// The coupled targets with these ids that pass the filter, by id, and the ids of those that
    /// exist outside it (not deleted: their pairs wait until they pass the filter again).
    private func coupledTargets(_ ids: [String]) async throws -> (records: [String: SyncRecord], outsideFilter: Set<String>) {
        var records: [String: SyncRecord] = [:]
        var outside: Set<String> = []
        for (record, passes) in try await target.recordsWithFilterState(ids: ids) {
            if passes { records[record.id] = record } else { outside.insert(record.id) }
        }
        return (records, outside)
    }

    /// The target records with these ids, by id.
    private func targetRecords(_ ids: [String]) async throws -> [String: SyncRecord] {
        Dictionary(try await target.records(ids: ids).map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Matches the records; a record coupled by match is then decided as a pair whose records
    /// both changed, so coupling copies nothing by itself and differing fields meet the update-conflict policy.
    private func decideMatched(_ records: [SyncRecord], lookups: LookupTable, into batch: inout BatchOutcome) async throws {
        guard !records.isEmpty else { return }
        let outcomes = try await matchOutcomes(records)
        let targets = try await targetRecords(outcomes.compactMap { if case .found(let id) = $0.1 { id } else { nil } })
        for (record, outcome) in outcomes {
            var decision = decide(record, counterpart: .notCoupled(match: outcome), deleted: false, target: nil, lookups: lookups)
            if matchOnly, !createsUnmatched, case .insert = decision { decision = .skip(.notCoupled) }
            guard case .couple(let targetID) = decision else {
                batch.add(decision, for: record, coupling: nil, target: nil)
                continue
            }
            guard let target = targets[targetID] else {
                batch.add(.skip(.notCoupled), for: record, coupling: nil, target: nil)  // deleted since it was matched
                continue
            }
            let fresh = direction == .toIntegration
                ? Coupling(localID: record.id, integrationID: targetID) : Coupling(localID: targetID, integrationID: record.id)
            let paired = decide(record, counterpart: .coupled(fresh, target: .present(target.stamp)),
                                deleted: false, target: target, lookups: lookups)
            batch.add(paired, for: record, coupling: fresh, target: target, isNewCoupling: true)
        }
    }

    private func decide(
        _ record: SyncRecord, counterpart: Counterpart, deleted: Bool, target: SyncRecord?, lookups: LookupTable
    ) -> SyncDecision {
        decide(input(record, counterpart: counterpart, deleted: deleted, target: target), values: record, target: target, lookups: lookups)
    }

    /// What the decision knows about `record` in this pass: under `merge`, which fields each
    /// record of a coupled pair changed; `action`, a person's pending action on the pair.
    private func input(
        _ record: SyncRecord, counterpart: Counterpart, deleted: Bool, target: SyncRecord?, action: PendingRecordAction? = nil
    ) -> RecordSyncInput {
        var input = RecordSyncInput(
            direction: direction, sourceID: record.id, source: deleted ? .deleted : .present(record.stamp),
            counterpart: counterpart, twoWayColumns: diff.twoWayColumns, action: action)
        input.changedByIntegration = kind == .delta && record.changedByIntegration
        if mapping.settings.updateConflictPolicy == .merge, case .coupled(let coupling, _) = counterpart, let target {
            input.fieldChanges = diff.fieldChanges(source: record.values, target: target.values, since: coupling)
        }
        return input
    }

    /// The decision for `input`, whose source record is `record`, against the coupled `target` (if present).
    private func decide(_ input: RecordSyncInput, values record: SyncRecord, target: SyncRecord?, lookups: LookupTable) -> SyncDecision {
        SyncDecision(for: input, in: decisionSettings) { () throws(SyncFailure) in
            try diff.changes(
                sourceID: record.id, source: record.values, target: target?.values, lookup: lookups.resolve, invalidText: record.invalidText)
        }
    }

    // MARK: Match-based coupling

    /// Finds each record's counterpart by the match fields (see `MatchProbe`).
    private func matchOutcomes(_ records: [SyncRecord]) async throws -> [(SyncRecord, MatchOutcome)] {
        try await MatchProbe(mapping: mapping, direction: direction, source: source, target: target, coordination: coordination)
            .outcomes(records)
    }

    /// What matching would find for each uncoupled source record, batch by batch, writing nothing;
    /// found targets come with their records. Holds every uncoupled record: for small tables
    /// (salespeople) that a person confirms.
    func previewMatches() async throws -> [MatchPreview] {
        var previews: [MatchPreview] = []
        var cursor: ChangeCursor?
        while case let batch = try await source.changes(since: nil, after: cursor, limit: mapping.batchSize), let last = batch.last {
            let coupled = try await CouplingStore.load(mapping: mappingName, side: direction.source, ids: batch.map(\.id), on: coordination)
            let outcomes = try await matchOutcomes(batch.filter { coupled[$0.id] == nil })
            let found = outcomes.compactMap { if case .found(let id) = $0.1 { id } else { nil } }
            let targets = Dictionary(try await target.records(ids: found).map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
            previews += outcomes.map { record, outcome in
                let targetRecord: SyncRecord? = if case .found(let id) = outcome { targets[id] } else { nil }
                return MatchPreview(direction: direction, source: record, outcome: outcome, target: targetRecord)
            }
            cursor = ChangeCursor(modifiedOn: last.modifiedOn, id: last.id)
        }
        return previews
    }

    /// The write intents of this pass's mapping and direction.
    private var intents: WriteIntents { WriteIntents(mapping: mappingName, direction: direction, coordination: coordination) }

    /// Writes the batch's inserts, updates and deletions, after storing what they are about to
    /// write (see `WriteIntent`); a refused batch is retried record by record.
    private func write(_ batch: inout BatchOutcome, runID: Int64) async throws {
        let template = mapping.side(direction.target).template
        let newRecords = try await target.assignKeys(batch.inserts.map {
            NewRecord(values: template.merging($0.values) { _, mapped in mapped }, token: token(for: $0.record))
        })
        let planned = batch.intents(
            inserting: newRecords, keyColumn: targetKeyColumn, mappedColumns: diff.fields.map { $0.field(on: direction.target) })
        try await intents.record(planned, runID: runID)
        try await insert(newRecords, into: &batch)
        try await update(&batch)
        try await delete(&batch)
        batch.sourceRewritten(try await writeBackKeys(batch.syncedPairs))
    }

    private var targetKeyColumn: String { mapping.side(direction.target).key.parts[0] }

    /// Inserts new records. A key that is taken fails its record — an insert never changes a record
    /// the integration did not create — unless Couplet assigned that key and the record holds exactly
    /// the values it meant to write: then it is Couplet's own write whose answer was lost, and is coupled.
    private func insert(_ records: [NewRecord], into batch: inout BatchOutcome) async throws {
        guard !records.isEmpty else { return }
        var written: [(item: BatchOutcome.Insert, id: String, stamp: RecordStamp)] = []
        let (items, free, coupledKeys) = try await withoutCoupledKeys(batch.inserts, records)
        var taken = coupledKeys
        var takenAssigned: [(item: BatchOutcome.Insert, record: NewRecord, id: String)] = []
        for ((item, record), result) in zip(zip(items, free), try await target.insert(free)) {
            switch result {
            case .success(.inserted(let id, let stamp)): written.append((item, id, stamp))
            case .success(.keyTaken(let id)) where record.keyAssigned: takenAssigned.append((item, record, id))
            case .success(.keyTaken(let id)): taken.append((item, id))
            case .failure(let refusal):
                batch.failed(item.record, coupling: item.coupling, failure: failure(refusal, source: item.record.id, target: nil))
            }
        }
        let own = try await ownWrites(takenAssigned.map { ExpectedRecord(id: $0.id, values: $0.record.values) })
        for entry in takenAssigned {
            if let stamp = own[entry.id] { written.append((entry.item, entry.id, stamp)) } else { taken.append((entry.item, entry.id)) }
        }
        try await failCollisions(taken, &batch)
        for (item, id, stamp) in written { batch.inserted(item, targetID: id, target: stamp) }
    }

    /// Splits off the inserts whose key a coupling holds already — a coupled record deleted since
    /// (its coupling waits for the deletion policy), or one coupled to another source: writing
    /// that key would pair one record twice. A restore may reuse its own pair's key.
    private func withoutCoupledKeys(
        _ items: [BatchOutcome.Insert], _ records: [NewRecord]
    ) async throws -> (items: [BatchOutcome.Insert], records: [NewRecord], taken: [(item: BatchOutcome.Insert, id: String)]) {
        let keys = records.compactMap { $0.values[targetKeyColumn] ?? nil }
        let coupled = try await CouplingStore.load(mapping: mappingName, side: direction.target, ids: keys, on: coordination)
        guard !coupled.isEmpty else { return (items, records, []) }
        var free: (items: [BatchOutcome.Insert], records: [NewRecord]) = ([], [])
        var taken: [(item: BatchOutcome.Insert, id: String)] = []
        for (item, record) in zip(items, records) {
            if let key = record.values[targetKeyColumn] ?? nil, let holder = coupled[key], holder.id(on: direction.source) != item.record.id {
                taken.append((item, key))
            } else {
                free.items.append(item)
                free.records.append(record)
            }
        }
        return (free.items, free.records, taken)
    }

    /// Of records holding a key Couplet assigned, those that hold exactly the values Couplet meant
    /// to write, with their state: Couplet's own writes whose answer was lost — a Web API
    /// finishes a request whose client was killed, after the rescuing pass found no trace of it.
    private func ownWrites(_ expected: [ExpectedRecord]) async throws -> [String: RecordStamp] {
        guard !expected.isEmpty else { return [:] }
        return try await target.check(expected).compactMapValues { $0.agrees ? $0.stamp : nil }
    }

    /// Inserts whose key is taken fail, naming the record that holds the key.
    private func failCollisions(_ taken: [(item: BatchOutcome.Insert, id: String)], _ batch: inout BatchOutcome) async throws {
        guard !taken.isEmpty else { return }
        let coupled = try await CouplingStore.load(mapping: mappingName, side: direction.target, ids: taken.map(\.id), on: coordination)
        for (item, id) in taken {
            let failure = SyncFailure.keyCollision(
                mapping: mapping.settings, direction: direction, source: item.record.id, key: id,
                coupledTo: coupled[id]?.id(on: direction.source))
            batch.failed(item.record, coupling: item.coupling, failure: failure)
        }
    }

    /// The field mappings that carry the target's key back to a source column (the number the
    /// ERP assigns a new customer, to the account's number).
    private var keyWriteBackFields: [FieldMapping] {
        mapping.fields.filter {
            $0.constant == nil && $0.field(on: direction.target) == targetKeyColumn && $0.direction.includes(direction.opposite)
        }
    }

    /// Writes the target's key back to source records of synced pairs that do not hold it yet (a
    /// key the target assigned to a new record, or one a match-coupled record lacks), in the same
    /// run and only to a source record that did not change meanwhile. The key is the target's own:
    /// no update can change it, so it always travels this way. Returns the source's new state per
    /// record written. A source that changed meanwhile is in another state than its coupling
    /// stores, so a later run reads it again and writes the key then.
    private func writeBackKeys(_ pairs: [(record: SyncRecord, targetID: String)]) async throws -> [String: RecordStamp] {
        let fields = keyWriteBackFields
        guard !fields.isEmpty, !pairs.isEmpty else { return [:] }
        var changes: [RecordChange] = []
        var outcome: [String: RecordStamp] = [:]
        for (record, targetID) in pairs {
            var values: FieldValues = [:]
            for field in fields {
                let value = try? field.transformation(for: direction.opposite).apply(to: targetID)
                let column = field.field(on: direction.source)
                if let value, (record.values[column] ?? nil) != value { values[column] = value }
            }
            guard !values.isEmpty else { continue }
            changes.append(RecordChange(id: record.id, values: values, expected: record.stamp))
        }
        for (change, result) in zip(changes, try await source.update(changes)) {
            if case .success(let stamp?) = result { outcome[change.id] = stamp }
        }
        return outcome
    }

    /// Updates coupled targets, each only if it is still in the state it was read in.
    private func update(_ batch: inout BatchOutcome) async throws {
        let updates = batch.updates
        guard !updates.isEmpty else { return }
        let changes = updates.map {
            RecordChange(id: $0.coupling.id(on: direction.target), values: $0.values, expected: $0.target)
        }
        for ((item, change), result) in zip(zip(updates, changes), try await target.update(changes)) {
            switch result {
            case .success(let stamp?): batch.updated(item, target: stamp)
            case .success(nil): batch.changedMeanwhile(item)
            case .failure(let refusal):
                batch.failed(item.record, coupling: item.coupling, failure: failure(refusal, source: item.record.id, target: change.id))
            }
        }
    }

    /// Deletes targets whose sources were deleted (the propagate policy), each only if unchanged since it was read.
    private func delete(_ batch: inout BatchOutcome) async throws {
        let deletions = batch.deletions
        guard !deletions.isEmpty else { return }
        let requests = deletions.map { RecordDeletion(id: $0.coupling.id(on: direction.target), expected: $0.target) }
        for ((deletion, request), result) in zip(zip(deletions, requests), try await target.delete(requests)) {
            switch result {
            case .success(true): batch.deleted(deletion)
            case .success(false): batch.deletionWaits(deletion)
            case .failure(let refusal):
                let source = deletion.coupling.id(on: direction.source)
                batch.failed(
                    SyncRecord(id: source, modifiedOn: .distantPast, values: [:]), coupling: deletion.coupling,
                    failure: failure(refusal, source: source, target: request.id))
            }
        }
    }

    /// The failure for a write the target refused, naming the source column mapped to the refused one.
    private func failure(_ refusal: RecordRefusal, source: String, target targetID: String?) -> SyncFailure {
        let sourceColumn = refusal.column.flatMap { column in
            diff.fields.first { $0.field(on: direction.target) == column }?.field(on: direction.source)
        }
        return refusal.failure(mapping: mapping.settings, direction: direction, source: source, target: targetID, sourceColumn: sourceColumn)
    }

    /// What names a source record for good: the mapping, the direction and its id.
    private func token(for record: SyncRecord) -> String { "\(mappingName)/\(direction.storedName)/\(record.id)" }

    // MARK: Writes left behind

    /// Records as the integration's own the writes that earlier runs made but did not record —
    /// their writer stopped between the target write and the coupling save (see `WriteIntent`) —
    /// so the next decision does not take them for a person's change.
    private func reconcileIntents(runID: Int64) async throws {
        var after = ""
        while case let left = try await intents.leftBehind(besides: runID, after: after, limit: mapping.batchSize), let last = left.last {
            let checks = try await target.check(left.compactMap { intent in intent.targetID.map { ExpectedRecord(id: $0, values: intent.expected) } })
            let bySource = try await CouplingStore.load(mapping: mappingName, side: direction.source, ids: left.map(\.sourceID), on: coordination)
            let byTarget = try await CouplingStore.load(mapping: mappingName, side: direction.target, ids: Array(checks.keys), on: coordination)
            // A restore re-created a deleted counterpart: its source is still coupled to the deleted record.
            let stillThere = try await target.existingIDs(bySource.values.map { $0.id(on: direction.target) })
            var batch = newBatch
            for intent in left {
                guard let id = intent.targetID, let check = checks[id] else { continue }  // the write did not happen
                switch intent.operation {
                case .insert:
                    let replaced = bySource[intent.sourceID]
                    let restored = replaced.map { !stillThere.contains($0.id(on: direction.target)) } ?? true
                    guard restored, byTarget[id] == nil, intent.keyAssigned || check.agrees else { continue }
                    let fresh = direction == .toIntegration
                        ? Coupling(localID: intent.sourceID, integrationID: id) : Coupling(localID: id, integrationID: intent.sourceID)
                    batch.adopted(fresh, replacing: replaced, source: intent.source, target: check.agrees ? check.stamp : nil)
                case .update:
                    guard let coupling = bySource[intent.sourceID], coupling.id(on: direction.target) == id, check.agrees else { continue }
                    batch.adopted(coupling, source: intent.source, target: check.stamp)
                }
            }
            batch.clearing(left.map(\.sourceID))
            try await batch.save(mapping: mappingName, runID: runID, intents: intents, on: coordination)
            try await addToRun(runID, batch.counts)
            after = last.sourceID
        }
    }
}

extension SyncCounts {
    /// Counts in `couplet.sync_runs` column order.
    fileprivate init(_ row: (Int, Int, Int, Int, Int, Int, Int, Int)) {
        (inserted, modified, deleted, unchanged) = (row.0, row.1, row.2, row.3)
        (skipped, failed, coupled, uncoupled) = (row.4, row.5, row.6, row.7)
    }
}
