/// Why one record could not be synchronized, in words a person can act on.
///
/// `message` names the mapping, the record (and its counterpart), the column, what is wrong and
/// what to do next; it is what the sync log shows about the record. `summary` says the same
/// without record ids or values, so every record failing that way shares it: the error log
/// stores it as the message it groups by. `failureClass` says what kind of failure it is,
/// independent of the record and of any server text: two consecutive runs compare it to decide
/// whether to skip the record, and a DBA groups by it. `detail` carries the underlying technical
/// text, if any, without row values.
public struct SyncFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure, for code and for grouping in the sync log.
    public enum Code: String, Sendable, Equatable {
        /// The mapping's configuration cannot be used (a missing mapping, an unknown policy, a bad rule).
        case configuration
        /// The target refused the write (a value that does not fit its column, a constraint).
        case writeRefused
        /// A field's transformation rule could not handle the value.
        case transformationFailed
        /// A referenced record (salesperson, currency, parent account) is not coupled.
        case uncoupledReference
        /// A field the mapping reads is not among the source record's columns.
        case missingField
        /// Both records changed since the last sync, differ, and the policy is to fail.
        case updateConflict
        /// The coupled record on the other side was deleted and the policy is to fail.
        case deletedCounterpart
        /// The deletion policy asks to restore a record the mapping never writes.
        case restoreNotPossible
        /// Match-based coupling found more than one candidate.
        case ambiguousMatch
        /// Match-based coupling found a candidate that is coupled to another record.
        case matchAlreadyCoupled
        /// An insert's key is taken by a record the integration did not create or couple.
        case keyCollision
        /// A value cannot travel unchanged (text that is not valid UTF-8, a NUL character).
        case valueNotTransferable
        /// The endpoint's service failed or answered what cannot be used (a server error inside a
        /// batch, a record without its key): the run stops, and the next one retries.
        case serviceFailed
    }

    /// The kind of failure.
    public let code: Code
    /// What happened and what to do, naming the record.
    public let message: String
    /// What happened and what to do, without record ids or values: the same text for every record
    /// that fails this way, so the error log groups by it.
    public let summary: String
    /// The source column concerned, if any: the one a person would correct.
    public let field: String?
    /// Technical detail for troubleshooting, if any.
    public let detail: String?
    /// What kind of failure, independent of the record: the code and its cause (by default the
    /// field), e.g. `write_refused:23514:customer_credit_check` or `uncoupled_reference:salesperson_code`.
    public let failureClass: String

    /// A failure with the given parts; `cause` (default: `field`) completes the failure class.
    /// The message names no record (a configuration failure), so it is the summary too.
    public init(code: Code, message: String, field: String? = nil, detail: String? = nil, cause: String? = nil) {
        self.init(code: code, field: field, detail: detail, cause: cause) { _ in message }
    }

    /// A failure of one record, worded once: `text` names records and values through the
    /// wording it is given, so the message names them and the summary does not.
    public init(code: Code, field: String? = nil, detail: String? = nil, cause: String? = nil,
                text: (FailureWording) -> String) {
        self.code = code
        self.message = text(.naming)
        self.summary = text(.generic)
        self.field = field
        self.detail = detail
        self.failureClass = [code.rawValue.snakeCased, cause ?? field].compactMap { $0 }.joined(separator: ":")
    }

    /// The message.
    public var description: String { message }

    /// Whether failing this way twice in a row skips the record. A reference that is not coupled
    /// is not the record's fault and heals once the other record is coupled (often by the same
    /// run's dependencies, or the next): the record is retried every run instead of skipped.
    public var isSkippable: Bool { code != .uncoupledReference }

    /// The failure of an insert whose key a target record holds already — one the integration did
    /// not create (outside the filter, made by a person) or one coupled to another record.
    static func keyCollision(mapping: MappingSettings, direction: SyncDirection, source: String, key: String, coupledTo other: String?) -> SyncFailure {
        let sourceRecord = mapping.record(source, on: direction.source)
        let existing = mapping.record(key, on: direction.target)
        let (local, integration) = direction == .toIntegration ? (source, key) : (key, source)
        return SyncFailure(code: .keyCollision, cause: other == nil ? "uncoupled" : "coupled") { name in
            let holder = other.map { "is coupled to \(name(mapping.record($0, on: direction.source), generic: "another record"))" }
                ?? "is not coupled (it is outside the filter of \(mapping.name), or the integration did not create it)"
            let advice = other == nil
                ? "Couple the two records (couplet couple \(mapping.name) \(name.specific(local, or: "LOCAL_ID")) \(name.specific(integration, or: "INTEGRATION_ID"))), or change the filter or the key's field mapping"
                : "Correct the key's value on \(name(sourceRecord)) (the two share it), or uncouple \(name(existing))"
            return "Mapping \(mapping.name) cannot create \(name(sourceRecord)) as \(name(existing)): \(name(existing)) exists already and \(holder); nothing was written. \(advice), then run \(mapping.name) again."
        }
    }

    /// The failure for a reference that is not coupled, e.g. `customer 10000 cannot be
    /// synchronized by mapping CUSTOMER: its salesperson_code "JR" is not coupled in mapping
    /// SALESPEOPLE. Couple that record in SALESPEOPLE (manually or by match-based coupling),
    /// then run CUSTOMER again.`
    public static func uncoupledReference(mapping: String, record: RecordIdentity, field: String,
                                          value: String, referencedMapping: String) -> SyncFailure {
        SyncFailure(code: .uncoupledReference, field: field) { name in
            "\(name(record)) cannot be synchronized by mapping \(mapping): its \(field)\(name.value(quoted(value))) is not coupled in mapping \(referencedMapping). Couple that record in \(referencedMapping) (manually or by match-based coupling), then run \(mapping) again."
        }
    }
}

/// How a failure's text names records and values: by id and quoted for the record's message, or
/// generically (`the customer record`, no value) for the summary that groups every record failing that way.
public struct FailureWording: Sendable {
    /// Names records by id and quotes values.
    public static let naming = FailureWording(namesRecords: true)
    /// Names records by their table only and leaves values out.
    public static let generic = FailureWording(namesRecords: false)

    /// Whether records are named by id and values quoted.
    public let namesRecords: Bool

    /// `customer 10000`, or `the customer record` (or `generic`, when given).
    public func callAsFunction(_ record: RecordIdentity, generic: String? = nil) -> String {
        namesRecords ? record.description : generic ?? "the \(record.table) record"
    }

    /// `text` about this record (an id, a count, a value), or `generic` (a placeholder such as `LOCAL_ID`).
    public func specific(_ text: String, or generic: String) -> String {
        namesRecords ? text : generic
    }

    /// ` "JR"`: the (quoted) value after a space, or nothing.
    public func value(_ text: String) -> String {
        specific(" \(text)", or: "")
    }
}
