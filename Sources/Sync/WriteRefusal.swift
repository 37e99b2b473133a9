import Foundation
import Postgres

/// A target's refusal of one record's write, turned into a failure a person acts on.
///
/// Classified by what the server says went wrong (SQLSTATE), where (constraint, column) — never by
/// its text, which may embed the row's values and the time. The message names the mapping, both
/// records, the column and what to do; the server's own message goes to the detail with values removed.
struct WriteRefusal: Error {
    /// The server's error.
    let error: PostgresError
    /// The target column whose value was refused, when the server or a probe of the values found it.
    let column: String?
    /// The source column mapped to it, the one a person corrects.
    let sourceColumn: String?

    /// The failure of `source` (written to `target`, or to a new record of `targetTable` when nil) in `mapping`.
    func failure(mapping: MappingSettings, direction: SyncDirection, source: String, target: String?) -> SyncFailure {
        let sourceRecord = mapping.record(source, on: direction.source)
        let targetTable = mapping.table(on: direction.target)
        let state = error.sqlState ?? "unknown"
        let place = column.map { "column \($0)" } ?? error.constraintName.map { "constraint \($0)" } ?? targetTable
        return SyncFailure(
            code: .writeRefused, field: sourceColumn ?? column, detail: "SQLSTATE \(state): \(Self.withoutValues(error.message))",
            cause: [state, error.constraintName ?? column].compactMap { $0 }.joined(separator: ":")
        ) { name in
            let written = target.map { name(mapping.record($0, on: direction.target)) } ?? "a new \(targetTable) record"
            return "Mapping \(mapping.name) could not write \(name(sourceRecord)) to \(written): \(targetTable) refused \(place) — \(reason). \(advice(name(sourceRecord), mapping: mapping.name))"
        }
    }

    private var reason: String {
        switch error.sqlState {
        case "23514": "the value breaks check constraint \(error.constraintName ?? "of the table")"
        case "23505": "another record already holds this value (unique constraint \(error.constraintName ?? "?"))"
        case "23503": "it refers to a record that does not exist (foreign key \(error.constraintName ?? "?"))"
        case "23502": "the value must not be empty"
        case "22001": "the value is too long for the column"
        case "22003": "the number is out of the column's range"
        case "22P02", "22007", "22008": "the value is not valid for the column's type"
        default: "the target refused the write"
        }
    }

    private func advice(_ source: String, mapping: String) -> String {
        if error.sqlState == "23505" || error.sqlState == "23503" {
            return "Correct the value on \(source) (or the records it refers to), then run \(mapping) again."
        }
        let what = (sourceColumn ?? column).map { "\($0) on \(source)" } ?? "the values of \(source)"
        return "Correct \(what) (or the field mapping's rules), then run \(mapping) again."
    }

    /// The server's message without the values it quotes after a colon (`invalid input syntax for
    /// type numeric: "lots"`); names of relations and constraints stay.
    static func withoutValues(_ message: String) -> String {
        guard let range = message.range(of: ": \"") else { return message }
        return String(message[..<range.lowerBound])
    }
}
