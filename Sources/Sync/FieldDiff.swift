/// The values one pass writes to a target record: the source record's fields carried through
/// the field mappings of that direction and compared with what the target already holds.
///
/// Guarantees: a field mapped only the other way is never written; a field whose new value
/// equals the target's current value (by its `FieldComparison`), or whose target value carried
/// back the other way equals the source's (a round trip that changes nothing), is not written; a
/// "not null" field is never written NULL or empty: as in Business Central, an empty value (before
/// or after its rules, so an empty reference is not looked up) is not transferred and the target
/// keeps what it holds (a new record, its default), as it does when `lookup(…, keep)` finds no
/// coupling; a rule that fails
/// fails the record naming the field and the rule, unless the field clears on failure.
public struct FieldDiff: Sendable {
    /// The mapping the fields belong to, for messages.
    public let mapping: MappingSettings
    /// The pass the values are computed for.
    public let direction: SyncDirection
    /// The field mappings this pass carries, in configuration order.
    public let fields: [FieldMapping]
    /// The target's key column, if known: a record's key is its own, so an update never writes it
    /// (the key travels the other way instead, see the engine's key write-back).
    public let targetKey: String?

    /// The diff of `direction` over `fields`; fields not mapped in `direction` are dropped.
    public init(mapping: MappingSettings, fields: [FieldMapping], direction: SyncDirection, targetKey: String? = nil) {
        self.mapping = mapping
        self.direction = direction
        self.fields = fields.filter { $0.direction.includes(direction) }
        self.targetKey = targetKey
    }

    /// The target columns of the fields the mapping carries both ways (in a one-way mapping, none).
    public var twoWayColumns: Set<String> {
        guard mapping.direction == .bidirectional else { return [] }
        return Set(fields.filter { $0.direction == .bidirectional }.map { $0.field(on: direction.target) })
    }

    /// The mappings whose couplings the rules look up, to be loaded before the pass.
    public var referencedMappings: Set<String> {
        fields.reduce(into: Set()) { $0.formUnion($1.transformation(for: direction).referencedMappings) }
    }

    /// The target values to write, keyed by target column.
    ///
    /// With `target` present (an update), only fields that differ from it, never the target's key; a column missing
    /// from `target` counts as different. With `target` nil (an insert or a restore), every
    /// field whose value is not NULL, so that the target's defaults fill the rest.
    /// `lookup` resolves `lookup(...)` rules from source ids to target ids.
    /// `invalidText` names source columns whose bytes were not valid UTF-8: a field reading one fails the record.
    public func changes(sourceID: String, source: FieldValues, target: FieldValues?,
                        lookup: LookupResolver? = nil, invalidText: Set<String> = []) throws(SyncFailure) -> FieldValues {
        let record = mapping.record(sourceID, on: direction.source)
        var changes: FieldValues = [:]
        for field in fields {
            let column = field.field(on: direction.target)
            if target != nil, column == targetKey { continue }
            if field.constant == nil, invalidText.contains(field.field(on: direction.source)) {
                throw notTransferable(field, record: record, what: "bytes that are not valid UTF-8")
            }
            let raw = try rawValue(of: field, record: record, source: source)
            if field.notNull, raw?.isEmpty ?? true { continue }
            guard case .value(let value) = try newValue(of: field, from: raw, record: record, lookup: lookup) else { continue }
            if value?.utf8.contains(0) == true {
                throw notTransferable(field, record: record, what: "a NUL character, which PostgreSQL text cannot hold")
            }
            if field.notNull, value?.isEmpty ?? true { continue }
            if needsWriting(value, to: column, of: target, comparison: field.comparison),
               !agreesTheOtherWay(field, source: source, target: target) {
                changes.updateValue(value, forKey: column)
            }
        }
        return changes
    }

    /// Which fields the source and the target changed since `coupling` was last synced, by target
    /// column, judged by the fingerprints it stores (see `FieldFingerprints`); a constant never
    /// changes on the source.
    public func fieldChanges(source: FieldValues, target: FieldValues, since coupling: Coupling) -> FieldChanges {
        let sourcePrints = coupling[direction.source].fields
        let targetPrints = coupling[direction.target].fields
        var changes = FieldChanges()
        for field in fields {
            let column = field.field(on: direction.target)
            let sourceColumn = field.field(on: direction.source)
            if field.constant == nil, sourcePrints?.holds(source[sourceColumn], in: sourceColumn) != true {
                changes.source.insert(column)
            }
            if targetPrints?.holds(target[column], in: column) != true { changes.target.insert(column) }
        }
        return changes
    }

    /// Whether `value` must be written to `column`: for an insert when it is not NULL; for an
    /// update when the column was not read or holds something else.
    private func needsWriting(_ value: String?, to column: String, of target: FieldValues?,
                              comparison: FieldComparison) -> Bool {
        guard let target else { return value != nil }
        guard let current = target[column] else { return true }
        return !comparison.same(value, current)
    }

    /// Whether a field the mapping carries both ways already agrees the other way: the target's
    /// value, carried back through the opposite direction's rules, is the source's value. Writing
    /// it would only rewrite the target through a rule that works one way (a VAT number
    /// upper-cased on the way to the CRM must not upper-case the ERP's when the CRM record changes
    /// for another reason). A rule that cannot run without this pass's lookups counts as not agreeing.
    private func agreesTheOtherWay(_ field: FieldMapping, source: FieldValues, target: FieldValues?) -> Bool {
        guard mapping.direction == .bidirectional, field.direction == .bidirectional, field.constant == nil,
              let current = target?[field.field(on: direction.target)], let value = source[field.field(on: direction.source)]
        else { return false }
        do {
            return field.comparison.same(try field.transformation(for: direction.opposite).apply(to: current), value)
        } catch {
            return false
        }
    }

    /// `raw` through the field's rules for this direction (NULL when they fail and the field clears on failure).
    private func newValue(of field: FieldMapping, from raw: String?, record: RecordIdentity,
                          lookup: LookupResolver?) throws(SyncFailure) -> NewValue {
        do {
            return .value(try field.transformation(for: direction).apply(to: raw, lookup: lookup))
        } catch where error.code == .uncoupledReferenceKept {
            return .keepTarget
        } catch {
            if field.clearOnFailure { return .value(nil) }
            throw failure(error, field: field, record: record)
        }
    }

    /// What a field's rules make of a value.
    private enum NewValue {
        /// The value to write (if it differs).
        case value(String?)
        /// Nothing: the target keeps what it holds (`lookup(…, keep)` found no coupling).
        case keepTarget
    }

    private func rawValue(of field: FieldMapping, record: RecordIdentity, source: FieldValues) throws(SyncFailure) -> String? {
        if let constant = field.constant { return constant }
        let column = field.field(on: direction.source)
        guard let value = source[column] else {
            throw SyncFailure(code: .missingField, field: column) { name in
                "\(name(record)) cannot be synchronized by mapping \(mapping.name): a field mapping reads column \(column), which was not read from \(record.table). Check the column name in the field mappings of \(mapping.name), then run it again."
            }
        }
        return value
    }

    /// A value that cannot reach the target unchanged fails the record (writing it would alter it).
    private func notTransferable(_ field: FieldMapping, record: RecordIdentity, what: String) -> SyncFailure {
        let source = field.constant == nil ? field.field(on: direction.source) : "the constant"
        let target = "\(mapping.table(on: direction.target)).\(field.field(on: direction.target))"
        return SyncFailure(code: .valueNotTransferable, field: source) { name in
            "\(name(record)) cannot be synchronized by mapping \(mapping.name): its \(source) holds \(what), so it cannot reach \(target) unchanged; nothing was written. Correct \(source) on \(name(record)) (or the source database's encoding), then run \(mapping.name) again."
        }
    }

    private func failure(_ error: TransformationError, field: FieldMapping, record: RecordIdentity) -> SyncFailure {
        let source = field.field(on: direction.source)
        if error.code == .uncoupledReference, let referenced = error.referencedMapping, let value = error.value {
            return .uncoupledReference(mapping: mapping.name, record: record, field: source,
                                       value: value, referencedMapping: referenced)
        }
        let target = field.field(on: direction.target)
        return SyncFailure(code: .transformationFailed, field: source, detail: field.transformation(for: direction).description) { name in
            "\(name(record)) cannot be synchronized by mapping \(mapping.name): field \(source) → \(target): \(name.specific(error.message, or: "its rules cannot transform the value")). Correct \(source) on \(name(record)) or the field's rules, then run \(mapping.name) again."
        }
    }
}
