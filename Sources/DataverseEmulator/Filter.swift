import EmulatorSupport
import Foundation
import Postgres

/// One lexical token of a `$filter` expression.
enum FilterToken: Equatable {
    case word(String)
    case string(String)
    case open, close, comma, openBracket, closeBracket, equals
}

/// Compiles an OData `$filter` expression into a SQL condition over the entity's table (alias `t`),
/// every literal bound as a parameter.
///
/// Supported, as Dataverse documents them: `eq ne gt ge lt le`, `and or not`, parentheses, `null`,
/// `true`/`false`, numbers, string literals (`''` escapes a quote), guids, ISO 8601 dates and
/// datetimes, `contains`/`startswith`/`endswith` (whose values are SQL LIKE patterns, as Dataverse's
/// `%` and `_` wildcards are), column comparisons, and the query functions
/// `Microsoft.Dynamics.CRM.In`, `NotIn`, `Between` and `NotBetween` with parameter aliases (`@p1`).
/// String comparisons ignore case, as Dataverse's do. OData 4.01's `in` operator is not part of the
/// Dataverse Web API and is a syntax error here.
struct FilterCompiler {
    let entity: EntityInfo
    let text: String
    let aliases: [String: String]
    private var tokens: [FilterToken] = []
    private var position = 0
    /// How deep `not` and parentheses nest; bounded so that no filter exhausts the stack.
    private var depth = 0
    static let maximumDepth = 64

    init(entity: EntityInfo, text: String, aliases: [String: String]) {
        self.entity = entity
        self.text = text
        self.aliases = aliases
    }

    /// The SQL condition.
    mutating func compile() throws(DataverseError) -> PostgresQuery {
        tokens = try Self.lex(text, aliases: aliases, depth: 0)
        let condition = try orExpression()
        guard position == tokens.count else { throw syntaxError() }
        return condition
    }

    // MARK: Lexing

    static func lex(_ text: String, aliases: [String: String], depth: Int) throws(DataverseError) -> [FilterToken] {
        var tokens: [FilterToken] = []
        let characters = Array(text)
        var index = 0
        while index < characters.count {
            let character = characters[index]
            switch character {
            case " ", "\t", "\n", "\r": index += 1
            case "(": tokens.append(.open); index += 1
            case ")": tokens.append(.close); index += 1
            case ",": tokens.append(.comma); index += 1
            case "[": tokens.append(.openBracket); index += 1
            case "]": tokens.append(.closeBracket); index += 1
            case "=": tokens.append(.equals); index += 1
            case "'", "\"":
                let (value, end) = try quoted(characters, from: index, quote: character, text: text)
                tokens.append(.string(value))
                index = end
            case "@":
                var end = index + 1
                while end < characters.count, characters[end].isLetter || characters[end].isNumber || characters[end] == "_" { end += 1 }
                let name = String(characters[index..<end])
                guard depth < 3, let value = aliases[name] else {
                    throw DataverseError.badRequest("The parameter alias '\(name)' has no value.")
                }
                tokens += try lex(value, aliases: aliases, depth: depth + 1)
                index = end
            default:
                var end = index
                while end < characters.count, !" \t\n\r(),[]='\"".contains(characters[end]) { end += 1 }
                tokens.append(.word(String(characters[index..<end])))
                index = end
            }
        }
        return tokens
    }

    private static func quoted(_ characters: [Character], from start: Int, quote: Character, text: String) throws(DataverseError)
        -> (String, Int)
    {
        var value = ""
        var index = start + 1
        while index < characters.count {
            if characters[index] == quote {
                if index + 1 < characters.count, characters[index + 1] == quote {
                    value.append(quote)
                    index += 2
                    continue
                }
                return (value, index + 1)
            }
            value.append(characters[index])
            index += 1
        }
        throw DataverseError(
            .badRequest, code: "0x80060888", "There is an unterminated literal at position \(characters.count) in '\(text)'.")
    }

    // MARK: Parsing

    private func syntaxError() -> DataverseError {
        DataverseError(.badRequest, code: "0x80060888", "Syntax error at position \(position) in '\(text)'.")
    }

    private var current: FilterToken? { position < tokens.count ? tokens[position] : nil }

    private mutating func expect(_ token: FilterToken) throws(DataverseError) {
        guard current == token else { throw syntaxError() }
        position += 1
    }

    private mutating func keyword(_ word: String) -> Bool {
        if case .word(let text) = current, text == word {
            position += 1
            return true
        }
        return false
    }

    private mutating func orExpression() throws(DataverseError) -> PostgresQuery {
        var result = try andExpression()
        while keyword("or") {
            let right = try andExpression()
            result = "(\(result) OR \(right))"
        }
        return result
    }

    private mutating func andExpression() throws(DataverseError) -> PostgresQuery {
        var result = try unary()
        while keyword("and") {
            let right = try unary()
            result = "(\(result) AND \(right))"
        }
        return result
    }

    private mutating func unary() throws(DataverseError) -> PostgresQuery {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maximumDepth else {
            throw DataverseError(.badRequest, code: "0x80060888", "The $filter nests deeper than \(Self.maximumDepth) levels.")
        }
        if keyword("not") {
            let operand = try unary()
            return "(NOT coalesce(\(operand), false))"
        }
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

    /// A value on either side of a comparison.
    private enum Operand {
        case property(AttributeInfo)
        case literal(String?)
        case stringLiteral(String)
    }

    private mutating func operand() throws(DataverseError) -> Operand {
        switch current {
        case .string(let value):
            position += 1
            return .stringLiteral(value)
        case .word(let word):
            position += 1
            if word == "null" { return .literal(nil) }
            if word == "true" || word == "false" { return .literal(word) }
            if let first = word.first, first.isNumber || first == "-" || first == "+" { return .literal(word) }
            if UUID(uuidString: word) != nil { return .literal(word) }
            guard let attribute = entity.attribute(property: word), !attribute.isLookupType else {
                if word.contains("/") {
                    throw DataverseError.badRequest("The emulator does not support filtering on related records ('\(word)').")
                }
                throw DataverseError.unknownProperty(word, entity: entity.logicalName)
            }
            return .property(attribute)
        default:
            throw syntaxError()
        }
    }

    private mutating func comparison() throws(DataverseError) -> PostgresQuery {
        let left = try operand()
        guard case .word(let op) = current, let sqlOperator = Self.operators[op] else { throw syntaxError() }
        position += 1
        let right = try operand()
        return try Self.compare(left, sqlOperator, right)
    }

    static let operators = ["eq": "=", "ne": "<>", "gt": ">", "ge": ">=", "lt": "<", "le": "<="]

    private static func compare(_ left: Operand, _ op: String, _ right: Operand) throws(DataverseError) -> PostgresQuery {
        let caseless = isText(left) || isText(right)
        if case .literal(nil) = right { return op == "=" ? "(\(sql(left, caseless: false)) IS NULL)" : "(\(sql(left, caseless: false)) IS NOT NULL)" }
        if case .literal(nil) = left { return op == "=" ? "(\(sql(right, caseless: false)) IS NULL)" : "(\(sql(right, caseless: false)) IS NOT NULL)" }
        return "(\(sql(left, caseless: caseless)) \(PostgresQuery(unsafeSQL: op)) \(sql(right, caseless: caseless)))"
    }

    private static func isText(_ operand: Operand) -> Bool {
        if case .property(let attribute) = operand { return attribute.kind == .string || attribute.kind == .memo }
        return false
    }

    private static func sql(_ operand: Operand, caseless: Bool) -> PostgresQuery {
        switch operand {
        case .property(let attribute):
            let column = column(attribute)
            return caseless ? "lower(\(column))" : column
        case .literal(let value):
            return "\(value)"
        case .stringLiteral(let value):
            return caseless ? "lower(\(value)::text)" : "\(value)"
        }
    }

    static func column(_ attribute: AttributeInfo) -> PostgresQuery {
        let identifier = (try? PostgresIdentifier(attribute.name)) ?? (try? PostgresIdentifier("invalid"))
        guard let identifier else { return "NULL" }
        return "t.\(identifier)"
    }

    // MARK: Functions

    private mutating func function(_ name: String) throws(DataverseError) -> PostgresQuery {
        switch name {
        case "contains", "startswith", "endswith":
            let attribute = try propertyArgument()
            try expect(.comma)
            guard case .string(let value) = current else { throw syntaxError() }
            position += 1
            try expect(.close)
            let column = Self.column(attribute)
            switch name {
            case "contains": return "(\(column)::text ILIKE ('%' || \(value)::text || '%'))"
            case "startswith": return "(\(column)::text ILIKE (\(value)::text || '%'))"
            default: return "(\(column)::text ILIKE ('%' || \(value)::text))"
            }
        case "Microsoft.Dynamics.CRM.In", "Microsoft.Dynamics.CRM.NotIn":
            let (attribute, values) = try queryFunctionArguments()
            guard !values.isEmpty else { throw syntaxError() }
            let caseless = Self.isText(.property(attribute))
            let list = PostgresQuery.joined(values.map { Self.sql(Self.value($0, caseless: caseless), caseless: caseless) }, separator: ", ")
            let column = Self.sql(.property(attribute), caseless: Self.isText(.property(attribute)))
            return name.hasSuffix("NotIn") ? "(\(column) NOT IN (\(list)))" : "(\(column) IN (\(list)))"
        case "Microsoft.Dynamics.CRM.Between", "Microsoft.Dynamics.CRM.NotBetween":
            let (attribute, values) = try queryFunctionArguments()
            guard values.count == 2 else { throw syntaxError() }
            let caseless = Self.isText(.property(attribute))
            let column = Self.sql(.property(attribute), caseless: caseless)
            let range: PostgresQuery = "\(Self.sql(Self.value(values[0], caseless: caseless), caseless: caseless)) AND \(Self.sql(Self.value(values[1], caseless: caseless), caseless: caseless))"
            return name.hasSuffix("NotBetween") ? "(\(column) NOT BETWEEN \(range))" : "(\(column) BETWEEN \(range))"
        default:
            throw DataverseError(
                .badRequest, code: "0x80060888", "The emulator does not support the function '\(name)' in $filter.")
        }
    }

    /// A query function's value: a string to compare without case for text columns, else a literal.
    private static func value(_ text: String, caseless: Bool) -> Operand {
        caseless ? .stringLiteral(text) : .literal(text)
    }

    private mutating func propertyArgument() throws(DataverseError) -> AttributeInfo {
        guard case .property(let attribute) = try operand() else { throw syntaxError() }
        return attribute
    }

    /// `PropertyName='x',PropertyValues=['a','b']` (values quoted with ' or ").
    private mutating func queryFunctionArguments() throws(DataverseError) -> (AttributeInfo, [String]) {
        var attribute: AttributeInfo?
        var values: [String] = []
        while current != .close {
            guard case .word(let parameter) = current else { throw syntaxError() }
            position += 1
            try expect(.equals)
            switch parameter {
            case "PropertyName":
                guard case .string(let name) = current else { throw syntaxError() }
                position += 1
                guard let found = entity.attribute(property: name) else {
                    throw DataverseError.unknownProperty(name, entity: entity.logicalName)
                }
                attribute = found
            case "PropertyValues":
                try expect(.openBracket)
                while current != .closeBracket {
                    switch current {
                    case .string(let value), .word(let value): values.append(value)
                    default: throw syntaxError()
                    }
                    position += 1
                    if current == .comma { position += 1 }
                }
                position += 1
            default:
                throw syntaxError()
            }
            if current == .comma { position += 1 }
        }
        position += 1
        guard let attribute else { throw syntaxError() }
        return (attribute, values)
    }
}
