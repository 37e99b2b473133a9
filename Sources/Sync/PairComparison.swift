/// Compares the two records of a coupled pair through the mapping, as the engine would write them.
///
/// Each field is compared the way the mapping carries it: a field that travels local → integration
/// is transformed by its to-integration rules and compared with the integration value; one that
/// travels integration → local, the reverse; one that travels both ways is in step when it agrees
/// either way (a CRM name kept padded that reached the ERP trimmed agrees the way it last
/// travelled). The comparison is the engine's own (`FieldDiff.changes`, with each field's
/// `FieldComparison`), so a pair differs exactly when no sync that saw it changed would leave it alone.
public struct PairComparison: Sendable {
    /// The mapping's settings.
    public let mapping: MappingSettings
    /// The fields carried local → integration (those carried both ways too).
    public let toIntegration: FieldDiff
    /// The fields carried integration → local (those carried both ways too).
    public let fromIntegration: FieldDiff

    /// The comparison of `fields` as `mapping` carries them; a field the mapping carries neither way is not compared.
    public init(mapping: MappingSettings, fields: [FieldMapping]) {
        self.mapping = mapping
        let carried = fields.filter { Self.travel(of: $0, in: mapping.direction) != nil }
        let sent = mapping.direction.includes(.toIntegration)
        toIntegration = FieldDiff(mapping: mapping, fields: sent ? carried : [], direction: .toIntegration)
        fromIntegration = FieldDiff(
            mapping: mapping, fields: mapping.direction.includes(.fromIntegration) ? carried : [], direction: .fromIntegration)
    }

    /// Which way `mapping` carries `field`: its own direction within the mapping's; nil for neither.
    public static func travel(of field: FieldMapping, in mapping: MappingDirection) -> MappingDirection? {
        let ways = mapping.passes.filter(field.direction.includes)
        switch ways.count {
        case 2: return .bidirectional
        case 1: return ways[0] == .toIntegration ? .toIntegration : .fromIntegration
        default: return nil
        }
    }

    /// The fields of the pair that disagree, in configuration order (empty when in step).
    ///
    /// `lookups` resolve `lookup(...)` rules per direction, as the engine's would. Throws the
    /// engine's failure when a rule fails on a value or a "not null" field would be emptied.
    public func differences(
        local: SyncRecord, integration: SyncRecord, lookups: [SyncDirection: LookupResolver] = [:]
    ) throws(SyncFailure) -> [FieldDifference] {
        let sent = try differences(toIntegration, source: local, target: integration, lookup: lookups[.toIntegration])
        // The other way is compared only where it can matter: fields carried that way alone, or both ways and differing here.
        let needed = sent.contains { $0.travels == .bidirectional }
            || fromIntegration.fields.contains { Self.travel(of: $0, in: mapping.direction) == .fromIntegration }
        let received = needed ? try differences(fromIntegration, source: integration, target: local, lookup: lookups[.fromIntegration]) : []
        let differing = { (list: [FieldDifference], field: FieldDifference) in
            list.contains { $0.localField == field.localField && $0.integrationField == field.integrationField }
        }
        return sent.filter { $0.travels != .bidirectional || differing(received, $0) }
            + received.filter { $0.travels == .fromIntegration }
    }

    private func differences(
        _ diff: FieldDiff, source: SyncRecord, target: SyncRecord, lookup: LookupResolver?
    ) throws(SyncFailure) -> [FieldDifference] {
        guard !diff.fields.isEmpty else { return [] }
        let changes = try diff.changes(
            sourceID: source.id, source: source.values, target: target.values, lookup: lookup, invalidText: source.invalidText)
        guard !changes.isEmpty else { return [] }
        return diff.fields.filter { changes.keys.contains($0.field(on: diff.direction.target)) }.map { field in
            FieldDifference(
                localField: field.localField, integrationField: field.integrationField,
                travels: Self.travel(of: field, in: mapping.direction) ?? diff.direction.mappingDirection)
        }
    }

    /// The state of a pair whose two records were both read and pass their filters; nil when in step.
    public func state(
        of coupling: Coupling, local: SyncRecord, integration: SyncRecord, lookups: [SyncDirection: LookupResolver] = [:]
    ) -> PairState? {
        do {
            let fields = try differences(local: local, integration: integration, lookups: lookups)
            guard !fields.isEmpty else { return nil }
            return state(of: fields, coupling: coupling, local: local, integration: integration)
        } catch {
            return .notComparable(error.message)
        }
    }

    /// Whether differing `fields` are `pending` — the record that carries them changed since its
    /// last sync, or failed and is not skipped, so the next run carries them — or `differs`: drift.
    public func state(of fields: [FieldDifference], coupling: Coupling, local: SyncRecord, integration: SyncRecord) -> PairState {
        guard !coupling.isSkipped else { return .differs(fields) }
        let localChanged = coupling.hasChanged(.local, stamp: local.stamp)
        let integrationChanged = coupling.hasChanged(.integration, stamp: integration.stamp)
        let carried = fields.allSatisfy { field in
            (field.travels.includes(.toIntegration) && localChanged)
                || (field.travels.includes(.fromIntegration) && integrationChanged)
        }
        return carried ? .pending(fields) : .differs(fields)
    }
}

extension SyncDirection {
    /// The one-way mapping direction of a pass in this direction.
    var mappingDirection: MappingDirection { self == .toIntegration ? .toIntegration : .fromIntegration }
}

extension PairComparison {
    /// A compared field by its positions in the two sides' `ReadRow`s.
    public struct PositionedField: Sendable {
        /// Its position among the local columns read.
        public let local: Int
        /// Its position among the integration columns read.
        public let integration: Int
        /// How its two values are compared.
        public let comparison: FieldComparison
    }

    /// The compared fields by their positions among `localColumns` and `integrationColumns`, when
    /// every one of them travels as it is (no constant, and no rule either way it travels); nil
    /// when one does not, or a column was not read.
    ///
    /// For such a mapping, a pair whose records hold only valid UTF-8 is in step exactly when
    /// each of these fields holds the same value on both sides: `differences` would find nothing
    /// (nothing is transformed, so every value it compares is the other side's own). `inStep`
    /// checks that without making a dictionary of either record, which is most of verify's work.
    public func plainFields(localColumns: [String], integrationColumns: [String]) -> [PositionedField]? {
        let compared = toIntegration.fields + fromIntegration.fields.filter { !toIntegration.fields.contains($0) }
        var positioned: [PositionedField] = []
        for field in compared {
            guard field.constant == nil, let travel = Self.travel(of: field, in: mapping.direction),
                SyncDirection.allCases.allSatisfy({ !travel.includes($0) || field.transformation(for: $0).rules.isEmpty }),
                let local = localColumns.firstIndex(of: field.localField),
                let integration = integrationColumns.firstIndex(of: field.integrationField)
            else { return nil }
            positioned.append(PositionedField(local: local, integration: integration, comparison: field.comparison))
        }
        return positioned
    }

    /// Whether `local` and `integration` agree on every one of `fields` (from `plainFields`) and
    /// hold only valid UTF-8; false means "compare them in full", not "they differ".
    public static func inStep(_ local: ReadRow, _ integration: ReadRow, fields: [PositionedField]) -> Bool {
        guard !local.hasInvalidText, !integration.hasInvalidText else { return false }
        return fields.allSatisfy { field in
            field.comparison.same(local.value(at: field.local), integration.value(at: field.integration))
        }
    }
}
