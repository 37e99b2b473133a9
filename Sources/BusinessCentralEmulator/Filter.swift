import EmulatorSupport
import Foundation
import Postgres

/// Compiles a `$filter` into a SQL condition over the entity set (alias `t`), every literal bound.
///
/// The subset Business Central's API takes: `eq ne gt ge lt le`, `and or not`, parentheses, and
/// `contains`, `startswith`, `endswith` on strings; a comparison is a property on the left and a
/// literal on the right: `'text'` (`''` for a quote), numbers, guids, dates (`2026-12-07`),
/// datetimes (`2026-12-07T10:00:00Z`), `true`/`false`, `null`. Literals must suit the property's type,
/// as the service's OData parser requires. OData 4.01's `in`, arithmetic and other functions are refused.
struct FilterCompiler {
    private enum Token: Equatable {
        case word(String)
        case string(String)
        case open, close, comma
    }

    /// A literal and its OData type.
    private enum Literal {
        case null, string(String), number(String), guid(String), date(String), dateTime(String), boolean(String)

        var typeName: String {
            switch self {
            case .null: return "null"
            case .string: return "Edm.String"
            case .number(let text): return text.contains(".") ? "Edm.Decimal" : "Edm.Int32"
            case .guid: return "Edm.Guid"
            case .date: return "Edm.Date"
            case .dateTime: return "Edm.DateTimeOffset"
            case .boolean: return "Edm.Boolean"
            }
        }

        var text: String? {
            switch self {
            case .null: return nil
            case .string(let text), .number(let text), .guid(let text), .date(let text), .dateTime(let text), .boolean(let text): return text
            }
        }
    }

    let entitySet: EntitySet
    let text: String
    private var tokens: [Token] = []
    private var position = 0
    private var depth = 0
    static let maximumDepth = 64
    static let operators = ["eq": "=", "ne": "<>", "gt": ">", "ge": ">=", "lt": "<", "le": "<="]
    static let operatorNames = ["eq": "Equal", "ne": "NotEqual", "gt": "GreaterThan", "ge": "GreaterThanOrEqual", "lt": "LessThan", "le": "LessThanOrEqual"]

    init(entitySet: EntitySet, text: String) {
        self.entitySet = entitySet
        self.text = text
    }

    /// The SQL condition.
    mutating func compile() throws(BusinessCentralError) -> PostgresQuery {
        tokens = try Self.lex(text)
        let condition = try orExpression()
        guard position == tokens.count else { throw syntaxError() }
        return condition
    }

    // MARK: Lexing

    private static func lex(_ text: String) throws(BusinessCentralError) -> [Token] {
        var tokens: [Token] = []
        let characters = Array(text)
        var index = 0
        while index < characters.count {
            switch characters[index] {
            case " ", "\t", "\n", "\r": index += 1
            case "(": tokens.append(.open); index += 1
            case ")": tokens.append(.close); index += 1
            case ",": tokens.append(.comma); index += 1
            case "'":
                let (value, end) = try quoted(characters, from: index, text: text)
                tokens.append(.string(value))
                index = end
            default:
                var end = index
                while end < characters.count, !" \t\n\r(),'".contains(characters[end]) { end += 1 }
                tokens.append(.word(String(characters[index..<end])))
                index = end
            }
        }
        return tokens
    }

    private static func quoted(_ characters: [Character], from start: Int, text: String) throws(BusinessCentralError) -> (String, Int) {
        var value = ""
        var index = start + 1
        while index < characters.count {
            if characters[index] == "'" {
                if index + 1 < characters.count, characters[index + 1] == "'" {
                    value.append("'")
                    index += 2
                    continue
                }
                return (value, index + 1)
            }
            value.append(characters[index])
            index += 1
        }
        throw .querySyntax("There is an unterminated string literal at position \(characters.count) in '\(text)'.")
    }

    // MARK: Parsing

    private func syntaxError() -> BusinessCentralError {
        .querySyntax("Syntax error at position \(position) in '\(text)'.")
    }

    private var current: Token? { position < tokens.count ? tokens[position] : nil }

    private mutating func expect(_ token: Token) throws(BusinessCentralError) {
        guard current == token else { throw syntaxError() }
        position += 1
    }

    private mutating func keyword(_ word: String) -> Bool {
        guard case .word(let text) = current, text == word else { return false }
        position += 1
        return true
    }

    private mutating func orExpression() throws(BusinessCentralError) -> PostgresQuery {
        var result = try andExpression()
        while keyword("or") { result = "(\(result) OR \(try andExpression()))" }
        return result
    }

    private mutating func andExpression() throws(BusinessCentralError) -> PostgresQuery {
        var result = try unary()
        while keyword("and") { result = "(\(result) AND \(try unary()))" }
        return result
    }

    private mutating func unary() throws(BusinessCentralError) -> PostgresQuery {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maximumDepth else { throw .querySyntax("The $filter nests deeper than \(Self.maximumDepth) levels.") }
        if keyword("not") { return "(NOT coalesce(\(try unary()), false))" }
        if current == .open {
            position += 1
            let inner = try orExpression()
            try expect(.close)
            return inner
        }
        if case .word(let name) = current, position + 1 < tokens.count, tokens[position + 1] == .open {
            position += 2
            return try function(name)
        }
        return try comparison()
    }

    private mutating func property() throws(BusinessCentralError) -> Property {
        guard case .word(let name) = current else { throw syntaxError() }
        position += 1
        guard let property = entitySet.property(name) else { throw .unknownProperty(name, type: entitySet.typeName) }
        return property
    }

    private mutating func literal() throws(BusinessCentralError) -> Literal {
        switch current {
        case .string(let value):
            position += 1
            return .string(value)
        case .word(let word):
            position += 1
            if word == "null" { return .null }
            if word == "true" || word == "false" { return .boolean(word) }
            if UUID(uuidString: word) != nil { return .guid(word) }
            if Values.isDate(word) { return .date(word) }
            if Values.isDateTime(word) { return .dateTime(word) }
            if word.wholeMatch(of: /[+-]?\d+(\.\d+)?([eE][+-]?\d+)?[mMdDfFlL]?/) != nil {
                return .number(word.trimmingCharacters(in: CharacterSet(charactersIn: "mMdDfFlL")))
            }
            throw syntaxError()
        default:
            throw syntaxError()
        }
    }

    private mutating func comparison() throws(BusinessCentralError) -> PostgresQuery {
        let property = try property()
        guard case .word(let name) = current, let sqlOperator = Self.operators[name] else {
            if case .word("in") = current { throw .querySyntax("The 'in' operator is not supported in $filter.") }
            throw syntaxError()
        }
        position += 1
        let value = try literal()
        try check(value, fits: property, operator: name)
        guard let text = value.text else {
            guard name == "eq" || name == "ne" else { throw syntaxError() }
            return name == "eq" ? "(\(property.column) IS NULL)" : "(\(property.column) IS NOT NULL)"
        }
        let bound = PostgresBinding(text: text, type: .unknown)
        return "(\(property.column) \(PostgresQuery(unsafeSQL: sqlOperator)) \(bound))"
    }

    /// Refuses a literal whose type does not suit the property, as the OData parser does.
    private func check(_ value: Literal, fits property: Property, operator name: String) throws(BusinessCentralError) {
        let fits: Bool
        switch (property.kind, value) {
        case (_, .null): fits = true
        case (.string, .string), (.enumeration, .string), (.guid, .guid), (.date, .date), (.dateTimeOffset, .dateTime), (.boolean, .boolean):
            fits = true
        case (let kind, .number): fits = kind.isNumeric
        default: fits = false
        }
        guard !fits else { return }
        throw .querySyntax(
            "A binary operator with incompatible types was detected. Found operand types '\(property.kind.edmType)' and "
                + "'\(value.typeName)' for operator kind '\(Self.operatorNames[name] ?? name)'.")
    }

    private mutating func function(_ name: String) throws(BusinessCentralError) -> PostgresQuery {
        guard ["contains", "startswith", "endswith"].contains(name) else {
            throw .querySyntax("An unknown function with name '\(name)' was found.")
        }
        let property = try property()
        guard property.kind == .string else {
            throw .querySyntax("No function signature for the function with name '\(name)' matches the specified arguments.")
        }
        try expect(.comma)
        guard case .string(let value) = current else { throw syntaxError() }
        position += 1
        try expect(.close)
        let escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
        let pattern: String
        switch name {
        case "contains": pattern = "%" + escaped + "%"
        case "startswith": pattern = escaped + "%"
        default: pattern = "%" + escaped
        }
        return "(\(property.column) ILIKE \(pattern))"
    }
}
