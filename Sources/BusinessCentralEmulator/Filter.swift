import EmulatorSupport
import Foundation
import Postgres

/// Compiles a `$filter` into a SQL condition over the entity set (alias `t`), every literal bound.
///
/// What Business Central's filter expressions page documents: `eq ne gt ge lt le`, `in (…)`, `and or
/// not`, parentheses, `contains`, `startswith`, `endswith`, and `tolower`, `toupper`, `substring` of a
/// property on the left of a comparison. A comparison is a property (or such a function of one) on the
/// left and a literal on the right: `'text'` (`''` for a quote), numbers, guids, dates (`2026-12-07`),
/// datetimes (`2026-12-07T10:00:00Z`), `true`/`false`, `null`. Literals must suit the property's type,
/// as the service's OData parser requires. Comparisons are case-sensitive, as AL filters are (`tolower`
/// and `toupper` make them not); `or` may only combine filters on one field, as the page says; nested
/// calls need `$schemaversion=2.1`. Arithmetic and other functions are refused.
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
    /// `$schemaversion=2.1` or later: functions may nest (`contains(tolower(name), 'x')`).
    let allowsNestedCalls: Bool
    private var tokens: [Token] = []
    private var position = 0
    private var depth = 0
    static let maximumDepth = 64
    static let operators = ["eq": "=", "ne": "<>", "gt": ">", "ge": ">=", "lt": "<", "le": "<="]
    static let operatorNames = [
        "eq": "Equal", "ne": "NotEqual", "gt": "GreaterThan", "ge": "GreaterThanOrEqual", "lt": "LessThan", "le": "LessThanOrEqual", "in": "In",
    ]

    init(entitySet: EntitySet, text: String, allowsNestedCalls: Bool) {
        self.entitySet = entitySet
        self.text = text
        self.allowsNestedCalls = allowsNestedCalls
    }

    /// The SQL condition.
    mutating func compile() throws(BusinessCentralError) -> PostgresQuery {
        tokens = try Self.lex(text)
        let condition = try orCondition()
        guard position == tokens.count else { throw syntaxError() }
        return condition.sql
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

    /// A compiled condition and the fields it filters on (an `or` may combine conditions on one field only).
    private struct Condition {
        var sql: PostgresQuery
        var fields: Set<String>
    }

    /// What a comparison or string function applies to: a property, or `tolower`/`toupper`/`substring` of one.
    private struct Operand {
        var sql: PostgresQuery
        var property: Property
        /// True for a function of the property, whose value is a string whatever the property's type.
        var isFunction: Bool
    }

    /// Operands joined by `or`; as in Business Central, they must all filter one field.
    private mutating func orCondition() throws(BusinessCentralError) -> Condition {
        var result = try andCondition()
        while keyword("or") {
            let right = try andCondition()
            result = Condition(sql: "(\(result.sql) OR \(right.sql))", fields: result.fields.union(right.fields))
            guard result.fields.count <= 1 else {
                throw .badRequest(
                    "The filter '\(text)' uses 'or' over different fields (\(result.fields.sorted().joined(separator: ", "))); "
                        + "'or' can only combine filters on the same field.")
            }
        }
        return result
    }

    private mutating func andCondition() throws(BusinessCentralError) -> Condition {
        var result = try unary()
        while keyword("and") {
            let right = try unary()
            result = Condition(sql: "(\(result.sql) AND \(right.sql))", fields: result.fields.union(right.fields))
        }
        return result
    }

    private mutating func unary() throws(BusinessCentralError) -> Condition {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maximumDepth else { throw .querySyntax("The $filter nests deeper than \(Self.maximumDepth) levels.") }
        if keyword("not") {
            let operand = try unary()
            return Condition(sql: "(NOT coalesce(\(operand.sql), false))", fields: operand.fields)
        }
        if current == .open {
            position += 1
            let inner = try orCondition()
            try expect(.close)
            return inner
        }
        if case .word(let name) = current, Self.stringFunctions.contains(name), position + 1 < tokens.count, tokens[position + 1] == .open {
            position += 2
            return try stringFunction(name)
        }
        return try comparison()
    }

    // MARK: Operands

    static let stringFunctions: Set = ["contains", "startswith", "endswith"]
    static let valueFunctions: Set = ["tolower", "toupper", "substring"]

    /// A property, or `tolower(p)`, `toupper(p)`, `substring(p, n)` (n counted from 0).
    private mutating func operand() throws(BusinessCentralError) -> Operand {
        guard case .word(let name) = current else { throw syntaxError() }
        guard position + 1 < tokens.count, tokens[position + 1] == .open else {
            let property = try self.property()
            return Operand(sql: property.column, property: property, isFunction: false)
        }
        guard Self.valueFunctions.contains(name) else { throw .querySyntax("An unknown function with name '\(name)' was found.") }
        position += 2
        let property = try self.property()
        let sql: PostgresQuery
        switch name {
        case "tolower": sql = "lower(\(property.column)::text)"
        case "toupper": sql = "upper(\(property.column)::text)"
        default:
            try expect(.comma)
            guard case .word(let start) = current, let offset = Int(start), (0...1_000_000).contains(offset) else { throw syntaxError() }
            position += 1
            sql = "substr(\(property.column)::text, \(offset + 1)::int)"
        }
        try expect(.close)
        return Operand(sql: sql, property: property, isFunction: true)
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

    // MARK: Comparisons

    /// `<operand> <op> <literal>`, or `<operand> in (<literal>, …)`.
    private mutating func comparison() throws(BusinessCentralError) -> Condition {
        let left = try operand()
        if keyword("in") { return try membership(left) }
        guard case .word(let name) = current, let sqlOperator = Self.operators[name] else { throw syntaxError() }
        position += 1
        let value = try literal()
        try check(value, fits: left, operator: name)
        let fields: Set = [left.property.name]
        guard let text = value.text else {
            guard name == "eq" || name == "ne" else { throw syntaxError() }
            return Condition(sql: name == "eq" ? "(\(left.sql) IS NULL)" : "(\(left.sql) IS NOT NULL)", fields: fields)
        }
        let bound = PostgresBinding(text: text, type: .unknown)
        return Condition(sql: "(\(left.sql) \(PostgresQuery(unsafeSQL: sqlOperator)) \(bound))", fields: fields)
    }

    /// `<operand> in (<literal>, …)`, as the filter expressions page documents it.
    private mutating func membership(_ left: Operand) throws(BusinessCentralError) -> Condition {
        try expect(.open)
        var values: [PostgresQuery] = []
        while true {
            let value = try literal()
            try check(value, fits: left, operator: "in")
            guard let text = value.text else { throw syntaxError() }
            values.append("\(PostgresBinding(text: text, type: .unknown))")
            if current == .comma { position += 1; continue }
            try expect(.close)
            break
        }
        return Condition(sql: "(\(left.sql) IN (\(PostgresQuery.joined(values, separator: ", "))))", fields: [left.property.name])
    }

    /// Refuses a literal whose type does not suit the property, as the OData parser does.
    private func check(_ value: Literal, fits operand: Operand, operator name: String) throws(BusinessCentralError) {
        let kind: ValueKind = operand.isFunction ? .string : operand.property.kind
        let fits: Bool
        switch (kind, value) {
        case (_, .null): fits = true
        case (.string, .string), (.enumeration, .string), (.guid, .guid), (.date, .date), (.dateTimeOffset, .dateTime), (.boolean, .boolean):
            fits = true
        case (let kind, .number): fits = kind.isNumeric
        default: fits = false
        }
        guard !fits else { return }
        throw .querySyntax(
            "A binary operator with incompatible types was detected. Found operand types '\(kind.edmType)' and "
                + "'\(value.typeName)' for operator kind '\(Self.operatorNames[name] ?? name)'.")
    }

    /// `contains`, `startswith`, `endswith` of a string property (or, from `$schemaversion=2.1`, of `tolower`/`toupper`
    /// of one), case-sensitive as the service's filters are unless `tolower`/`toupper` is used.
    private mutating func stringFunction(_ name: String) throws(BusinessCentralError) -> Condition {
        let subject = try operand()
        if subject.isFunction, !allowsNestedCalls {
            throw .badRequest("Nested function calls in $filter need $schemaversion=2.1 or later.")
        }
        guard subject.isFunction || subject.property.kind == .string else {
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
        return Condition(sql: "(\(subject.sql) LIKE \(pattern))", fields: [subject.property.name])
    }
}
