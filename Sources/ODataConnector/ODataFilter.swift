import Foundation
import Sync

/// A mapping's filter, in Couplet's grammar, as an OData `$filter` on a Dataverse table or a
/// Business Central entity set.
///
/// Names come from the service's metadata through `columnProperty` (a Dataverse lookup compares its
/// `_name_value`), literals are written in their column's JSON type and text literals escaped
/// (`''`), so nothing in a filter reaches the service as syntax. What the service cannot express
/// the way PostgreSQL means it is refused with a reason rather than approximated: a case-sensitive
/// `LIKE` (both services compare text without case), a pattern other than a prefix, suffix or
/// infix, and the membership form, which reads another table; `columnProperty` refuses the names a
/// service cannot filter on (a Dataverse lookup's type column).
struct ODataFilter {
    /// The service's name in messages: `Dataverse`, `Business Central`.
    let service: String
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
        case .or(let left, let right): return "(\(try compile(left)) or \(try compile(right)))"
        case .not(let inner): return "not (\(try compile(inner)))"
        case .truth(let operand): return "(\(try self.operand(operand, as: .boolean)) eq true)"
        case .comparison(let left, let comparison, let right):
            let kind = try kind(of: left, right)
            return "(\(try operand(left, as: kind)) \(Self.operator(comparison)) \(try operand(right, as: kind)))"
        case .isNull(let operand, let negated):
            return "(\(try self.operand(operand, as: .text)) \(negated ? "ne" : "eq") null)"
        case .between(let operand, let low, let high, let negated):
            let kind = try kind(of: operand, low)
            let range = "(\(try self.operand(operand, as: kind)) ge \(try self.operand(low, as: kind)) and \(try self.operand(operand, as: kind)) le \(try self.operand(high, as: kind)))"
            return negated ? "not \(range)" : range
        case .like(let operand, let pattern, let caseSensitive, let negated):
            guard !caseSensitive else {
                throw Unsupported(description: "\(service) compares text without case, so LIKE cannot hold as written; use ILIKE")
            }
            let test = try like(try self.operand(operand, as: .text), pattern)
            return negated ? "not \(test)" : test
        case .inList(let operand, let literals, let negated):
            let kind = try kind(of: operand, nil)
            let column = try self.operand(operand, as: kind)
            let tests = try literals.map { "\(column) eq \(try literal($0, as: kind))" }
            let any = "(\(tests.joined(separator: " or ")))"
            return negated ? "not \(any)" : any
        case .inTable:
            throw Unsupported(description: "a filter on \(service) cannot read another table (IN (SELECT …)); filter on the table's own columns")
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
            throw Unsupported(description: "on \(service) a LIKE pattern is text with % at its start, its end or both, and no _")
        }
        let leading = text.hasPrefix("%"), trailing = text.hasSuffix("%") && text.count > 1
        let core = String(text.dropFirst(leading ? 1 : 0).dropLast(trailing ? 1 : 0))
        guard !core.contains("%") else {
            throw Unsupported(description: "on \(service) a LIKE pattern is text with % at its start, its end or both, and no _")
        }
        switch (leading, trailing) {
        case (true, true): return "contains(\(column),\(Self.quoted(core)))"
        case (false, true): return "startswith(\(column),\(Self.quoted(core)))"
        case (true, false): return "endswith(\(column),\(Self.quoted(core)))"
        case (false, false): return "(\(column) eq \(Self.quoted(core)))"
        }
    }
}
