import Foundation
import Sync

/// A mapping's filter, in Couplet's grammar, as an OData `$filter` on a Dataverse table or a
/// Business Central entity set.
///
/// Names come from the service's metadata through `columnProperty` (a Dataverse lookup compares its
/// `_name_value`), literals are written in their column's JSON type and text literals escaped
/// (`''`), so nothing in a filter reaches the service as syntax. What the service cannot express
/// the way PostgreSQL means it is refused with a reason rather than approximated; what differs
/// between services is the `Dialect`: a `LIKE` whose case sense the service's comparison does not
/// share, and, where filters become field filters, `NULL`, a negation that cannot be pushed down to
/// the comparisons, and an `OR` across two properties. Everywhere: a pattern other than a prefix,
/// suffix or infix, and the membership form, which reads another table; `columnProperty` refuses
/// the names a service cannot filter on (a Dataverse lookup's type column).
struct ODataFilter {
    /// What a service's `$filter` can mean.
    struct Dialect: Sendable {
        /// The service's name in messages.
        var service: String
        /// Whether text compares without case (Dataverse) or with it (Business Central, as AL filters do).
        var comparesTextWithoutCase: Bool
        /// Whether the service turns a `$filter` into one filter per field (Business Central: AL
        /// filters), which has no `not`, no `null` and no `or` across two fields.
        var becomesFieldFilters: Bool

        /// Dataverse's Web API.
        static let dataverse = Dialect(service: "Dataverse", comparesTextWithoutCase: true, becomesFieldFilters: false)
        /// Business Central's API v2.0 (*Using filter expressions in OData URIs*: `tolower` makes a
        /// comparison case-insensitive; OR is for one field only).
        static let businessCentral = Dialect(service: "Business Central", comparesTextWithoutCase: false, becomesFieldFilters: true)
    }

    /// What the service can mean.
    let dialect: Dialect
    /// The kind of the property a column names, or an error naming the table.
    let columnKind: (String) throws -> ODataValueKind
    /// The property a filter compares for a column, or why the service cannot filter on it.
    let columnProperty: (String) throws -> String

    /// Why a filter cannot run on the service.
    struct Unsupported: Error, CustomStringConvertible {
        let description: String
    }

    /// The `$filter` expression of `condition`.
    func compile(_ condition: FilterCondition) throws -> String {
        switch condition {
        case .and(let left, let right): return "(\(try compile(left)) and \(try compile(right)))"
        case .or(let left, let right):
            try requireOneField(condition)
            return "(\(try compile(left)) or \(try compile(right)))"
        case .not(let inner):
            if dialect.becomesFieldFilters { return try compile(negation(of: inner)) }
            return "not (\(try compile(inner)))"
        case .truth(let operand): return "(\(try self.operand(operand, as: .boolean)) eq true)"
        case .comparison(let left, let comparison, let right):
            let kind = try kind(of: left, right)
            return "(\(try operand(left, as: kind)) \(Self.operator(comparison)) \(try operand(right, as: kind)))"
        case .isNull(let operand, let negated):
            guard !dialect.becomesFieldFilters else {
                throw Unsupported(description: "\(dialect.service) holds no NULL (empty text is '', a number 0): compare with the empty value instead")
            }
            return "(\(try self.operand(operand, as: .text)) \(negated ? "ne" : "eq") null)"
        case .between(let operand, let low, let high, let negated):
            if negated && dialect.becomesFieldFilters {
                return try compile(.or(.comparison(operand, .less, low), .comparison(operand, .greater, high)))
            }
            let kind = try kind(of: operand, low)
            let range = "(\(try self.operand(operand, as: kind)) ge \(try self.operand(low, as: kind)) and \(try self.operand(operand, as: kind)) le \(try self.operand(high, as: kind)))"
            return negated ? "not \(range)" : range
        case .like(let operand, let pattern, let caseSensitive, let negated):
            return try like(operand, pattern, caseSensitive: caseSensitive, negated: negated)
        case .inList(let operand, let literals, let negated):
            if negated && dialect.becomesFieldFilters { return try compile(noneOf(operand, literals)) }
            let kind = try kind(of: operand, nil)
            let column = try self.operand(operand, as: kind)
            let tests = try literals.map { "\(column) eq \(try literal($0, as: kind))" }
            let any = "(\(tests.joined(separator: " or ")))"
            return negated ? "not \(any)" : any
        case .inTable:
            throw Unsupported(description: "a filter on \(dialect.service) cannot read another table (IN (SELECT …)); filter on the table's own columns")
        }
    }

    /// A `LIKE` (or `ILIKE`) test, when the service compares text with the same case sense.
    private func like(_ operand: FilterOperand, _ pattern: FilterOperand, caseSensitive: Bool, negated: Bool) throws -> String {
        guard caseSensitive != dialect.comparesTextWithoutCase else {
            let (sense, use) = dialect.comparesTextWithoutCase ? ("without", "ILIKE") : ("with", "LIKE")
            throw Unsupported(
                description: "\(dialect.service) compares text \(sense) case, so \(caseSensitive ? "LIKE" : "ILIKE") cannot hold as written; use \(use)")
        }
        guard !(negated && dialect.becomesFieldFilters) else {
            throw Unsupported(description: "\(dialect.service) cannot negate a pattern (NOT LIKE); filter for what the records hold instead")
        }
        let test = try like(try self.operand(operand, as: .text), pattern)
        return negated ? "not \(test)" : test
    }

    /// `operand` equal to none of `literals`: each `ne`, joined by `and`.
    private func noneOf(_ operand: FilterOperand, _ literals: [FilterLiteral]) throws -> FilterCondition {
        let tests = literals.map { FilterCondition.comparison(operand, .notEqual, .literal($0)) }
        guard let first = tests.first else { throw Unsupported(description: "an empty NOT IN list") }
        return tests.dropFirst().reduce(first) { .and($0, $1) }
    }

    /// The condition that holds where `condition` does not, with the negation pushed down to the
    /// comparisons, for a service whose filters have no `not`.
    private func negation(of condition: FilterCondition) throws -> FilterCondition {
        switch condition {
        case .and(let left, let right): return .or(try negation(of: left), try negation(of: right))
        case .or(let left, let right): return .and(try negation(of: left), try negation(of: right))
        case .not(let inner): return inner
        case .truth(let operand): return .comparison(operand, .equal, .literal(.boolean(false)))
        case .comparison(let left, let comparison, let right): return .comparison(left, Self.inverse(comparison), right)
        case .isNull(let operand, let negated): return .isNull(operand, negated: !negated)
        case .between(let operand, let low, let high, let negated): return .between(operand, low: low, high: high, negated: !negated)
        case .like(let operand, let pattern, let caseSensitive, let negated):
            return .like(operand, pattern: pattern, caseSensitive: caseSensitive, negated: !negated)
        case .inList(let operand, let literals, let negated): return .inList(operand, literals, negated: !negated)
        case .inTable(let operand, let membership, let negated): return .inTable(operand, membership, negated: !negated)
        }
    }

    private static func inverse(_ comparison: FilterComparison) -> FilterComparison {
        switch comparison {
        case .equal: .notEqual
        case .notEqual: .equal
        case .less: .greaterOrEqual
        case .lessOrEqual: .greater
        case .greater: .lessOrEqual
        case .greaterOrEqual: .less
        }
    }

    /// Throws when `condition` (an `or`) names two fields and the service filters field by field.
    private func requireOneField(_ condition: FilterCondition) throws {
        guard dialect.becomesFieldFilters else { return }
        let fields = Self.columns(in: condition)
        guard fields.count <= 1 else {
            throw Unsupported(
                description: "\(dialect.service) cannot OR conditions on different fields (\(fields.sorted().joined(separator: ", "))); its filters hold one field each")
        }
    }

    /// The columns a condition names.
    private static func columns(in condition: FilterCondition) -> Set<String> {
        func named(_ operands: [FilterOperand]) -> Set<String> {
            Set(operands.compactMap { if case .column(let column) = $0 { column.parts.last } else { nil } })
        }
        switch condition {
        case .and(let left, let right), .or(let left, let right): return columns(in: left).union(columns(in: right))
        case .not(let inner): return columns(in: inner)
        case .truth(let operand), .isNull(let operand, _), .inList(let operand, _, _), .inTable(let operand, _, _): return named([operand])
        case .comparison(let left, _, let right): return named([left, right])
        case .between(let operand, let low, let high, _): return named([operand, low, high])
        case .like(let operand, let pattern, _, _): return named([operand, pattern])
        }
    }

    private static func `operator`(_ comparison: FilterComparison) -> String {
        switch comparison {
        case .equal: "eq"
        case .notEqual: "ne"
        case .less: "lt"
        case .lessOrEqual: "le"
        case .greater: "gt"
        case .greaterOrEqual: "ge"
        }
    }

    /// The kind literals take: that of the column among the operands (text when there is none).
    private func kind(of first: FilterOperand, _ second: FilterOperand?) throws -> ODataValueKind {
        for operand in [first, second].compactMap({ $0 }) {
            if case .column(let column) = operand { return try columnKind(column.parts.last ?? "") }
        }
        return .text
    }

    private func operand(_ operand: FilterOperand, as kind: ODataValueKind) throws -> String {
        switch operand {
        case .column(let column):
            return try columnProperty(column.parts.last ?? "")
        case .literal(let literal):
            return try self.literal(literal, as: kind)
        }
    }

    /// A literal in the OData syntax of `kind`: text and enumeration members quoted; numbers,
    /// booleans, GUIDs, instants and days bare.
    func literal(_ literal: FilterLiteral, as kind: ODataValueKind) throws -> String {
        let text: String = switch literal {
        case .text(let text): text
        case .number(let number): number
        case .boolean(let value): value ? "true" : "false"
        }
        switch kind {
        case .text, .enumeration, .other: return Self.quoted(text)
        case .guid, .lookup:
            guard UUID(uuidString: text) != nil else { throw Unsupported(description: "\"\(text)\" is not a GUID") }
            return text.lowercased()
        case .dateTime:
            guard let instant = ODataValues.instant(text) else { throw Unsupported(description: "\"\(text)\" is not an instant") }
            return ODataValues.isoText(instant)
        case .date:
            guard ODataValues.isDay(text) else { throw Unsupported(description: "\"\(text)\" is not a day (yyyy-mm-dd)") }
            return text
        case .integer, .decimal, .boolean:
            guard case .success(let json) = ODataValues.json(text, kind: kind) else {
                throw Unsupported(description: "\"\(text)\" does not fit its column's type")
            }
            return json.jsonText
        }
    }

    /// `'text'` with each quote doubled.
    static func quoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }

    /// An ILIKE pattern as `startswith`, `endswith`, `contains` or `eq`.
    private func like(_ column: String, _ pattern: FilterOperand) throws -> String {
        guard case .literal(.text(let text)) = pattern, !text.contains("_"), !text.contains("\\") else {
            throw Unsupported(description: "on \(dialect.service) a LIKE pattern is text with % at its start, its end or both, and no _")
        }
        let leading = text.hasPrefix("%"), trailing = text.hasSuffix("%") && text.count > 1
        let core = String(text.dropFirst(leading ? 1 : 0).dropLast(trailing ? 1 : 0))
        guard !core.contains("%") else {
            throw Unsupported(description: "on \(dialect.service) a LIKE pattern is text with % at its start, its end or both, and no _")
        }
        switch (leading, trailing) {
        case (true, true): return "contains(\(column),\(Self.quoted(core)))"
        case (false, true): return "startswith(\(column),\(Self.quoted(core)))"
        case (true, false): return "endswith(\(column),\(Self.quoted(core)))"
        case (false, false): return "(\(column) eq \(Self.quoted(core)))"
        }
    }
}
