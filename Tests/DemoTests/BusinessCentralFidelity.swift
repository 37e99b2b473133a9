import Cron
import Foundation
import Sync

/// One setting of Business Central's defaults beside the reference integration's.
struct SettingComparison: Equatable, CustomStringConvertible {
    /// A mapping's name, or the name of a schedule that stands for a job of Business Central's.
    var subject: String
    /// The field mapping, `local ↔ integration` in demo columns (`constant` for a constant's side),
    /// or nil for a setting of the mapping or job itself.
    var field: String?
    /// The setting's name, as in the differences table of docs/business-central.md.
    var setting: String
    /// Each side's value as text; `none` where a side has no value.
    var businessCentral: String
    var couplet: String
    /// Whether the values are the same (filters: the same conditions; lists: the same members).
    var identical: Bool

    var description: String {
        "\(subject) | \(field ?? "—") | \(setting) | \(businessCentral) | \(couplet)"
    }
}

/// The reference integration's files (deploy/business-central-sales/), and how each of their
/// settings compares with Business Central's defaults (`BusinessCentralDefaults`).
struct BusinessCentralFidelity {
    /// The reference file's mappings, by name.
    let mappings: [String: TableMappingDefinition]
    /// The production schedules.
    let schedules: [ScheduleDefinition]

    /// Reads the mappings and schedules files' texts.
    init(mappingsYAML: String, schedulesYAML: String) throws {
        let file = try MappingFile.parse(mappingsYAML, file: "mappings.yaml")
        mappings = Dictionary(uniqueKeysWithValues: file.mappings.map { ($0.name, $0) })
        schedules = try ScheduleFile.parse(schedulesYAML, file: "schedules.yaml")
    }

    /// Reads deploy/business-central-sales/mappings.yaml and schedules.yaml.
    static func reference() throws -> BusinessCentralFidelity {
        try BusinessCentralFidelity(
            mappingsYAML: String(contentsOfFile: deployFile("mappings.yaml"), encoding: .utf8),
            schedulesYAML: String(contentsOfFile: deployFile("schedules.yaml"), encoding: .utf8))
    }

    /// Every setting compared: each table mapping's, its job's, the other jobs' and the field mappings'.
    var comparisons: [SettingComparison] {
        BusinessCentralDefaults.tableMappings.flatMap(tableSettings)
            + BusinessCentralDefaults.otherJobs.flatMap { jobSettings(subject: $0.schedule, $0.job, schedule(named: $0.schedule)) }
            + BusinessCentralDefaults.fieldMappings.flatMap { fieldSettings(of: $0.mapping, $0.fields) }
    }

    /// Business Central's field mappings that the demo has no columns for.
    static var missing: [BusinessCentralDefaults.FieldMapping] {
        BusinessCentralDefaults.fieldMappings.flatMap(\.fields).filter { $0.missing != nil }
    }

    // MARK: - Table mappings

    private func tableSettings(_ bc: BusinessCentralDefaults.TableMapping) -> [SettingComparison] {
        guard let definition = mappings[bc.couplet] else {
            return [row(bc.couplet, "mapping", bc.name, "none")]
        }
        let ours = definition.mapping
        let subject = bc.couplet
        return [
            row(subject, "name", bc.name, ours.settings.name),
            row(subject, "tables", "\(bc.local) ↔ \(bc.integration)", "\(ours.local.table.description) ↔ \(ours.integration.table.description)"),
            row(subject, "direction", Self.text(bc.direction), Self.text(ours.settings.direction)),
            filterRow(subject, "local filter", bc.localFilter, ours.local.filter),
            filterRow(subject, "integration filter", bc.integrationFilter, ours.integration.filter),
            row(subject, "sync only coupled", "\(bc.syncOnlyCoupled)", "\(ours.settings.syncOnlyCoupled)"),
            row(subject, "update conflict", Self.text(bc.updateConflict), Self.text(ours.settings.updateConflictPolicy)),
            row(subject, "deletion conflict", Self.text(bc.deletionConflict), Self.text(ours.settings.deletionConflictPolicy)),
            setRow(subject, "dependencies", bc.dependencies, definition.dependsOn),
            row(subject, "scheduled full sync", "none", schedule(for: subject, kind: "sync.full").map(\.expression.description) ?? "none"),
        ] + mappingJobSettings(bc)
    }

    /// The delta job's settings, and which mappings' jobs never run at the same time as this one's.
    private func mappingJobSettings(_ bc: BusinessCentralDefaults.TableMapping) -> [SettingComparison] {
        let delta = schedule(for: bc.couplet, kind: "sync.delta")
        guard let job = bc.job else {
            return [row(bc.couplet, "synchronization job", "none", delta.map(\.expression.description) ?? "none")]
        }
        return jobSettings(subject: bc.couplet, job, delta)
            + [setRow(bc.couplet, "runs one at a time with", categoryPeers(of: bc), keyPeers(of: delta))]
    }

    private func jobSettings(
        subject: String, _ job: BusinessCentralDefaults.JobQueueEntry, _ schedule: ScheduleDefinition?
    ) -> [SettingComparison] {
        [
            row(subject, "recurrence", "every \(job.minutes) minutes", schedule.map(Self.recurrence) ?? "none"),
            row(subject, "max attempts", "\(job.maxAttempts)", schedule.map { "\($0.maxAttempts)" } ?? "none"),
            row(subject, "rerun delay", "\(job.rerunDelaySeconds) s", schedule?.retryDelay.map { "\($0.components.seconds) s" } ?? "none"),
            row(
                subject, "inactivity timeout", "\(job.inactivityTimeoutMinutes) minutes",
                schedule?.inactivityTimeout.map { "\(Int($0.components.seconds / 60)) minutes" } ?? "none"),
        ]
    }

    /// The mappings whose jobs share the job queue category of `bc`'s (itself alone without one).
    private func categoryPeers(of bc: BusinessCentralDefaults.TableMapping) -> [String] {
        guard let category = bc.job?.category else { return [bc.couplet] }
        return BusinessCentralDefaults.tableMappings.filter { $0.job?.category == category }.map(\.couplet)
    }

    /// The mappings whose delta schedules share the concurrency key of `delta`.
    private func keyPeers(of delta: ScheduleDefinition?) -> [String] {
        guard let key = delta?.concurrencyKey else { return [] }
        return schedules.filter { $0.jobKind == "sync.delta" && $0.concurrencyKey == key }.compactMap(Self.mapping(of:))
    }

    // MARK: - Field mappings

    private func fieldSettings(of mapping: String, _ fields: [BusinessCentralDefaults.FieldMapping]) -> [SettingComparison] {
        guard let ours = mappings[mapping]?.mapping else { return [] }
        let carried = fields.filter { $0.missing == nil }
        var matched: [Sync.FieldMapping] = []
        var rows: [SettingComparison] = []
        for bc in carried {
            let label = "\(bc.local ?? "constant") ↔ \(bc.integration ?? "constant")"
            guard let field = ours.fields.first(where: { Self.matches(bc, $0) }) else {
                rows.append(row(mapping, field: label, "field", "mapped", "not mapped"))
                continue
            }
            matched.append(field)
            rows += fieldRows(mapping, label, bc, field, table: ours.settings.direction)
        }
        for extra in ours.fields where !matched.contains(extra) {
            rows.append(row(mapping, field: "\(extra.localField) ↔ \(extra.integrationField)", "field", "not mapped", "mapped"))
        }
        return rows
    }

    private func fieldRows(
        _ mapping: String, _ label: String, _ bc: BusinessCentralDefaults.FieldMapping, _ ours: Sync.FieldMapping,
        table: MappingDirection
    ) -> [SettingComparison] {
        let effective = table == .bidirectional ? ours.direction : table
        return [
            row(mapping, field: label, "direction", Self.text(bc.direction), Self.text(effective)),
            row(mapping, field: label, "constant", bc.constant ?? "none", ours.constant ?? "none"),
            row(mapping, field: label, "not null", "\(bc.notNull)", "\(ours.notNull)"),
            row(mapping, field: label, "clear on failure", "\(bc.clearOnFailure)", "\(ours.clearOnFailure)"),
            row(mapping, field: label, "transformation rules", "none", Self.rules(of: ours)),
            // Couplet writes columns as they are; the target database's constraints do the checking.
            row(mapping, field: label, "validate field", "\(bc.validate)", "false"),
        ]
    }

    /// Whether `ours` carries `bc`: the same two columns, or for a constant the same target column.
    private static func matches(_ bc: BusinessCentralDefaults.FieldMapping, _ ours: Sync.FieldMapping) -> Bool {
        switch (bc.local, bc.integration) {
        case (nil, let integration?): ours.constant != nil && ours.integrationField == integration
        case (let local?, nil): ours.constant != nil && ours.localField == local
        case (let local?, let integration?): ours.constant == nil && ours.localField == local && ours.integrationField == integration
        case (nil, nil): false
        }
    }

    /// The rules other than `lookup(…)`, which stands for Business Central's table relations.
    private static func rules(of field: Sync.FieldMapping) -> String {
        func text(_ chain: TransformationChain) -> String? {
            let rules = chain.rules.filter { if case .lookup = $0 { false } else { true } }
            return rules.isEmpty ? nil : TransformationChain(rules).description
        }
        let parts = [("to", text(field.toIntegration)), ("from", text(field.fromIntegration))]
            .compactMap { direction, rules in rules.map { "\(direction): \($0)" } }
        return parts.isEmpty ? "none" : parts.joined(separator: "; ")
    }

    // MARK: - Schedules

    private func schedule(named name: String) -> ScheduleDefinition? {
        schedules.first { $0.name == name }
    }

    /// The schedule of `kind` for `mapping`.
    private func schedule(for mapping: String, kind: String) -> ScheduleDefinition? {
        schedules.first { $0.jobKind == kind && Self.mapping(of: $0) == mapping }
    }

    /// The `mapping` argument of a schedule's jobs.
    private static func mapping(of schedule: ScheduleDefinition) -> String? {
        let arguments = try? JSONSerialization.jsonObject(with: Data(schedule.arguments.utf8)) as? [String: Any]
        return arguments?["mapping"] as? String
    }

    /// "every N minutes" when a schedule fires at one steady interval over a day, else its expression.
    static func recurrence(_ schedule: ScheduleDefinition) -> String {
        let start = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z
        let fires = schedule.expression.fireTimes(after: start, count: 49, in: schedule.zone)
        let gaps = Set(zip(fires, fires.dropFirst()).map { Int($1.timeIntervalSince($0)) })
        guard gaps.count == 1, let gap = gaps.first, gap % 60 == 0 else { return schedule.expression.description }
        return "every \(gap / 60) minutes"
    }

    // MARK: - Rows

    private func row(_ subject: String, field: String? = nil, _ setting: String, _ bc: String, _ couplet: String) -> SettingComparison {
        SettingComparison(subject: subject, field: field, setting: setting, businessCentral: bc, couplet: couplet, identical: bc == couplet)
    }

    /// Lists compared as sets, written in Business Central's order.
    private func setRow(_ subject: String, _ setting: String, _ bc: [String], _ couplet: [String]) -> SettingComparison {
        SettingComparison(
            subject: subject, setting: setting, businessCentral: bc.isEmpty ? "none" : bc.joined(separator: ", "),
            couplet: couplet.isEmpty ? "none" : couplet.joined(separator: ", "), identical: Set(bc) == Set(couplet))
    }

    /// Filters compared by their conditions joined with AND, in any order.
    private func filterRow(_ subject: String, _ setting: String, _ bc: String?, _ couplet: RecordFilter?) -> SettingComparison {
        let expected = bc.flatMap { try? RecordFilter(parsing: $0) }
        precondition((bc == nil) == (expected == nil), "\(subject) \(setting): \(bc ?? "") is not in the filter grammar")
        let same = Self.conjuncts(expected).count == Self.conjuncts(couplet).count
            && Self.conjuncts(expected).allSatisfy(Self.conjuncts(couplet).contains)
        return SettingComparison(
            subject: subject, setting: setting, businessCentral: bc ?? "none", couplet: couplet?.text ?? "none", identical: same)
    }

    private static func conjuncts(_ filter: RecordFilter?) -> [FilterCondition] {
        func split(_ condition: FilterCondition) -> [FilterCondition] {
            if case .and(let left, let right) = condition { return split(left) + split(right) }
            return [condition]
        }
        return filter.map { split($0.condition) } ?? []
    }

    /// `to_integration`, `send_to_integration`: the spelling of the mappings file.
    static func text<T: RawRepresentable>(_ value: T) -> String where T.RawValue == String {
        value.rawValue.reduce(into: "") { text, character in
            text += character.isUppercase ? "_" + character.lowercased() : String(character)
        }
    }
}
