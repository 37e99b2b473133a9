import ArgumentParser
import CommandSupport
import Foundation
import Postgres
import Sync

/// `couplet mappings list`: every stored mapping, its sides and how its last runs went.
struct MappingsListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the stored mappings with their sides, last full and delta runs, errors and couplings.",
        discussion: "LAST FULL and LAST DELTA come from couplet.sync_health; ERRORS counts the open errors (records failing now, one per record and kind: couplet errors NAME).")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let logger = try global.makeLogger("couplet.mappings")
        let connection = try await global.connect(logger, applicationName: "couplet mappings list")
        defer { connection.close() }
        let mappings = try await MappingStore.storedMappings(on: connection)
        guard !mappings.isEmpty else {
            print("No mappings. Apply a mappings file with: couplet mappings apply FILE")
            return
        }
        let health = try await MappingStore.health(on: connection)
        var table = TextTable(header: [
            "NAME", "DIRECTION", "ENABLED", "LOCAL", "INTEGRATION", "FIELDS", "LAST FULL", "LAST DELTA", "OPEN ERRORS", "COUPLINGS",
        ])
        let now = Date()
        table.rows = mappings.map { stored in
            let row = stored.row
            let state = health[row.name]
            return [
                row.name, row.direction, row.isEnabled ? "yes" : "no", MappingText.side(row.local), MappingText.side(row.integration),
                String(row.fields.count), MappingText.lastRunState(state?.lastFull, now: now), MappingText.lastRunState(state?.lastDelta, now: now),
                String(state?.openErrors ?? 0), String(state?.couplings ?? 0),
            ]
        }
        table.lines().forEach { print($0) }
    }
}

/// `couplet mappings show NAME`: one mapping's configuration, fields, health and latest runs.
struct MappingsShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one mapping: its sides, settings, field mappings, health and latest runs.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The mapping's name, e.g. CUSTOMER.", valueName: "name"))
    var name: String

    @Option(help: "How many of the latest runs to show.")
    var runs = 10

    func run() async throws {
        let logger = try global.makeLogger("couplet.mappings")
        let connection = try await global.connect(logger, applicationName: "couplet mappings show")
        defer { connection.close() }
        guard let stored = try await MappingStore.storedMappings(named: [name], on: connection).first else {
            throw CommandFailure(description: "there is no mapping \"\(name)\"; couplet mappings list shows the stored ones")
        }
        let health = try await MappingStore.health(named: [name], on: connection)[name]
        let recent = try await MappingStore.recentRuns(of: name, limit: runs, on: connection)
        let now = Date()
        let valueMaps = try await MappingStore.storedValueMaps(named: stored.row.valueMapNames, on: connection)
        let lines = MappingText.settings(stored) + MappingText.fields(stored.row.fields) + MappingText.valueMaps(valueMaps)
            + MappingText.health(health, of: name, now: now) + MappingText.runs(recent)
        lines.forEach { print($0) }
    }
}

/// How `couplet mappings list` and `show` write a mapping's parts.
enum MappingText {
    /// `erp customer`, or `erp customer where blocked = false`.
    static func side(_ side: MappingRow.Side) -> String {
        "\(side.endpoint) \(side.table)" + (side.filter.map { " where \($0.oneLine(limit: 40))" } ?? "")
    }

    /// `succeeded 5m ago`, `running`, or `-` when there was no run.
    static func lastRunState(_ run: MappingHealth.LastRun?, now: Date) -> String {
        guard let run else { return "-" }
        guard let finished = run.finishedAt else { return run.state }
        return "\(run.state) \(RelativeTime.describe(secondsFromNow: finished.timeIntervalSince(now)))"
    }

    /// The state and what each pass did: `succeeded 5m ago: → integration 120 inserted; ← integration 3 modified`.
    static func lastRun(_ run: MappingHealth.LastRun?, now: Date) -> String {
        let state = lastRunState(run, now: now)
        guard let passes = run?.passes, !passes.isEmpty else { return state }
        return state + ": " + passes.map { "\(arrow($0.direction)) \(StatusText.describe($0.counts))" }.joined(separator: "; ")
    }

    /// `→ integration` or `← integration`: which way a pass copies.
    static func arrow(_ direction: SyncDirection) -> String {
        direction == .toIntegration ? "→ integration" : "← integration"
    }

    /// The header and the labelled settings.
    static func settings(_ stored: StoredMapping) -> [String] {
        let row = stored.row
        func sideLine(_ side: MappingRow.Side, watermark: Date?) -> String {
            "\(self.side(side))  key \(side.key)  modified \(side.modified)" + (side.modifiedBy.map { " by \($0)" } ?? "")
                + "  watermark \(watermark?.formatted(.iso8601) ?? "-")"
        }
        return ["Mapping \(row.name): \(row.direction)\(row.isEnabled ? "" : " (disabled)")"] + [
            ("local", sideLine(row.local, watermark: stored.localWatermark)),
            ("integration", sideLine(row.integration, watermark: stored.integrationWatermark)),
            ("sync only coupled", row.syncOnlyCoupled ? "yes" : "no"),
            ("allow insert", row.allowInsert ? "yes" : "no"),
            ("update conflict", row.updateConflict),
            ("deletion conflict", row.deletionConflict),
            ("depends on", row.dependsOn.isEmpty ? "-" : row.dependsOn.joined(separator: ", ")),
            ("batch size", String(row.batchSize)),
            ("updated", stored.updatedAt.formatted(.iso8601)),
        ].map(JobFields.line)
    }

    /// The field mappings as a table.
    static func fields(_ fields: [MappingRow.Field]) -> [String] {
        var table = TextTable(header: ["#", "LOCAL", "INTEGRATION", "DIRECTION", "TO INTEGRATION", "FROM INTEGRATION", "CONSTANT", "OPTIONS"])
        table.rows = fields.enumerated().map { index, field in
            let options = [field.notNull ? "not_null" : nil, field.clearOnFailure ? "clear_on_failure" : nil,
                           field.comparison == "text" ? nil : "comparison \(field.comparison)", matchOption(field)].compactMap { $0 }
            return [String(index + 1), field.local, field.integration, field.direction, field.toIntegration ?? "-",
                    field.fromIntegration ?? "-", field.constant ?? "-", options.isEmpty ? "-" : options.joined(separator: ", ")]
        }
        return ["fields (\(fields.count))"] + table.lines(indent: "  ")
    }

    /// The value maps the fields' `map` rules use, each once, on one line: nothing when there are none.
    static func valueMaps(_ maps: [ValueMap]) -> [String] {
        guard !maps.isEmpty else { return [] }
        return ["value maps (\(maps.count))"] + maps.map { map in
            let shown = 8
            let pairs = map.pairs.prefix(shown).map { "\($0.local) ↔ \($0.integration)" }.joined(separator: ", ")
            let more = map.pairs.count > shown ? ", … (\(map.pairs.count) pairs)" : ""
            return "  \(map.name): \(pairs)\(more); not in the map: to_integration \(unmapped(map.toIntegrationDefault)), "
                + "from_integration \(unmapped(map.fromIntegrationDefault))"
        }
    }

    /// `fails`, `NULL`, or the default value in quotes.
    private static func unmapped(_ value: UnmappedValue) -> String {
        switch value {
        case .fail: "fails"
        case .replace(nil): "NULL"
        case .replace(let text?): "\"\(text)\""
        }
    }

    /// `match 1 case-insensitive` for a match field (its priority and how it compares), else nil.
    static func matchOption(_ field: MappingRow.Field) -> String? {
        field.matchPriority.map { "match \($0) \(field.matchCaseSensitive ? "case-sensitive" : "case-insensitive")" }
    }

    /// The mapping's line of `couplet.sync_health`, pointing at `couplet errors` when errors are open.
    static func health(_ health: MappingHealth?, of name: String, now: Date) -> [String] {
        guard let health else { return [JobFields.line("health", "-")] }
        return ["health"] + [
            ("last full", lastRun(health.lastFull, now: now)),
            ("last delta", lastRun(health.lastDelta, now: now)),
            ("open errors", health.openErrors == 0 ? "0" : "\(health.openErrors): couplet errors \(name)"),
            ("errors in 24h", String(health.errorsLast24Hours)),
            ("skipped records", String(health.skippedRecords)),
            ("couplings", String(health.couplings)),
        ].map { "  " + JobFields.line($0.0, $0.1) }
    }

    /// The latest runs as a table, newest first.
    static func runs(_ runs: [SyncRunRecord]) -> [String] {
        guard !runs.isEmpty else { return [JobFields.line("runs", "none yet")] }
        var table = TextTable(header: ["STARTED", "KIND", "DIRECTION", "STATE", "INS", "MOD", "DEL", "SAME", "SKIP", "FAIL", "MESSAGE"])
        table.rows = runs.map { run in
            let counts = run.counts
            return [run.startedAt.formatted(.iso8601), run.kind, run.direction, run.state] + [
                counts.inserted, counts.modified, counts.deleted, counts.unchanged, counts.skipped, counts.failed,
            ].map(String.init) + [run.message?.oneLine(limit: 60) ?? "-"]
        }
        return ["runs (latest \(runs.count))"] + table.lines(indent: "  ")
    }
}

