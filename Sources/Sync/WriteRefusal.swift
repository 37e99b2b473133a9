import Foundation

/// An endpoint's refusal to write one record: what it said, in its own terms, where, and why for
/// a person. Endpoints build it from their own errors (a SQLSTATE, an OData error) and classify it
/// by what went wrong and where — never by message text, which may embed the row's values.
public struct RecordRefusal: Error, Sendable, Equatable {
    /// What a refusal concerns, which decides the advice a person gets.
    public enum Concern: Sendable, Equatable {
        /// The record's own values (too long, wrong type, a check).
        case value
        /// Other records: a value another record holds already, a reference to a record that does not exist.
        case otherRecords
    }

    /// The endpoint's own words with their code and without the values they quote, e.g.
    /// `SQLSTATE 22001: value too long for type character varying(10)`.
    public var detail: String
    /// What identifies the cause, for logging a record's failure once per cause (`23514:amount_positive`).
    public var cause: String
    /// The target column whose value was refused, when the endpoint names it or a probe finds it.
    public var column: String?
    /// The constraint or rule broken, when the endpoint names it.
    public var constraint: String?
    /// Why, for a person: "the value is too long for the column".
    public var reason: String
    /// What the refusal concerns.
    public var concern: Concern

    /// A refusal with these parts.
    public init(detail: String, cause: String, column: String? = nil, constraint: String? = nil, reason: String, concern: Concern = .value) {
        self.detail = detail
        self.cause = cause
        self.column = column
        self.constraint = constraint
        self.reason = reason
        self.concern = concern
    }

    /// The failure of `source` (written to `target`, or to a new record when nil) in `mapping`; the
    /// message names the mapping, both records, the column and what to do. `sourceColumn` is the
    /// source column mapped to the refused one: the one a person corrects.
    func failure(mapping: MappingSettings, direction: SyncDirection, source: String, target: String?, sourceColumn: String?) -> SyncFailure {
        let sourceRecord = mapping.record(source, on: direction.source)
        let targetTable = mapping.table(on: direction.target)
        let place = column.map { "column \($0)" } ?? constraint.map { "constraint \($0)" } ?? targetTable
        return SyncFailure(code: .writeRefused, field: sourceColumn ?? column, detail: detail, cause: cause) { name in
            let written = target.map { name(mapping.record($0, on: direction.target)) } ?? "a new \(targetTable) record"
            return "Mapping \(mapping.name) could not write \(name(sourceRecord)) to \(written): \(targetTable) refused \(place) — \(reason). "
                + advice(name(sourceRecord), sourceColumn: sourceColumn, mapping: mapping.name)
        }
    }

    private func advice(_ source: String, sourceColumn: String?, mapping: String) -> String {
        if concern == .otherRecords {
            return "Correct the value on \(source) (or the records it refers to), then run \(mapping) again."
        }
        let what = (sourceColumn ?? column).map { "\($0) on \(source)" } ?? "the values of \(source)"
        return "Correct \(what) (or the field mapping's rules), then run \(mapping) again."
    }
}

/// What an endpoint did with each record of one write call, in the order of the call's records.
public typealias WriteResults<Written> = [Result<Written, RecordRefusal>]
