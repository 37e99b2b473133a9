import Postgres

/// Reads a filter's tokens into a `FilterCondition` by recursive descent (the grammar is on
/// `RecordFilter`), refusing whatever the grammar does not have with a located reason.
struct FilterParser {
    private let tokens: [FilterToken]
    private var index = 0
    private var depth = 0

    /// The condition `text` describes.
    static func condition(of text: String) throws(FilterError) -> FilterCondition {
        guard text.unicodeScalars.count <= RecordFilter.maximumLength else {
            throw FilterError(message: "a filter is at most \(RecordFilter.maximumLength) characters long", position: RecordFilter.maximumLength + 1)
        }
        var parser = FilterParser(tokens: try FilterLexer.tokens(of: text))
        guard parser.current.kind != .end else {
            throw FilterError(message: "a filter must not be empty: leave the key out to synchronize every record", position: 1)
        }
        let condition = try parser.disjunction()
        guard parser.current.kind == .end else {
            throw parser.unexpected(expecting: "AND, OR or the end of the filter")
        }
        return condition
    }

    private init(tokens: [FilterToken]) { self.tokens = tokens }

    private var current: FilterToken { tokens[index] }

    // MARK: - Conditions

    private mutating func disjunction() throws(FilterError) -> FilterCondition {
        var condition = try conjunction()
        while take("OR") { condition = .or(condition, try conjunction()) }
        return condition
    }

    private mutating func conjunction() throws(FilterError) -> FilterCondition {
        var condition = try negation()
        while take("AND") { condition = .and(condition, try negation()) }
        return condition
    }

    private mutating func negation() throws(FilterError) -> FilterCondition {
        guard current.isKeyword("NOT") else { return try predicate() }
        return try nested { (parser: inout FilterParser) throws(FilterError) in
            parser.index += 1
            return .not(try parser.negation())
        }
    }

    private mutating func predicate() throws(FilterError) -> FilterCondition {
        if current.kind == .symbol("(") {
            return try nested { (parser: inout FilterParser) throws(FilterError) in
                parser.index += 1
                let condition = try parser.disjunction()
                try parser.expect(symbol: ")", closing: "the parenthesis")
                return condition
            }
        }
        let operand = try operand()
        if let test = try test(of: operand) { return test }
        return try truth(operand)
    }

    /// An operand standing alone, which must be able to be true or false by itself.
    private func truth(_ operand: FilterOperand) throws(FilterError) -> FilterCondition {
        if case .literal(let literal) = operand, case .boolean = literal { return .truth(operand) }
        if case .column = operand { return .truth(operand) }
        throw FilterError(
            message: "a value alone is not a condition: compare it with a column (for example code = 'X')",
            position: tokens[index - 1].position)
    }

    /// The test that follows `operand`, if any.
    private mutating func test(of operand: FilterOperand) throws(FilterError) -> FilterCondition? {
        if case .symbol(let symbol) = current.kind, let comparison = Self.comparison(symbol) {
            index += 1
            return .comparison(operand, comparison, try self.operand())
        }
        if take("IS") {
            let negated = take("NOT")
            guard take("NULL") else { throw unexpected(expecting: "NULL after IS (IS NULL or IS NOT NULL)") }
            return .isNull(operand, negated: negated)
        }
        let negated = take("NOT")
        if take("BETWEEN") {
            let low = try self.operand()
            guard take("AND") else { throw unexpected(expecting: "AND between BETWEEN's bounds") }
            return .between(operand, low: low, high: try self.operand(), negated: negated)
        }
        if current.isKeyword("LIKE") || current.isKeyword("ILIKE") {
            let caseSensitive = current.isKeyword("LIKE")
            index += 1
            return .like(operand, pattern: try self.operand(), caseSensitive: caseSensitive, negated: negated)
        }
        if take("IN") { return try membership(of: operand, negated: negated) }
        if negated { throw unexpected(expecting: "BETWEEN, LIKE, ILIKE or IN after NOT") }
        return nil
    }

    private static func comparison(_ symbol: String) -> FilterComparison? {
        symbol == "!=" ? .notEqual : FilterComparison(rawValue: symbol)
    }

    // MARK: - IN

    private mutating func membership(of operand: FilterOperand, negated: Bool) throws(FilterError) -> FilterCondition {
        try expect(symbol: "(", closing: nil)
        if current.isKeyword("SELECT") {
            let membership = try nested { (parser: inout FilterParser) throws(FilterError) in try parser.selection() }
            try expect(symbol: ")", closing: "the subquery")
            return .inTable(operand, membership, negated: negated)
        }
        var literals = [try literal()]
        while take(symbol: ",") { literals.append(try literal()) }
        try expect(symbol: ")", closing: "the list")
        return .inList(operand, literals, negated: negated)
    }

    /// `SELECT column FROM table [WHERE condition]`, the subquery's own tokens.
    private mutating func selection() throws(FilterError) -> FilterMembership {
        index += 1
        let column = try columnName(what: "the column SELECT returns")
        guard take("FROM") else { throw unexpected(expecting: "FROM: a subquery is SELECT column FROM table [WHERE filter]") }
        let table = try tableName()
        let condition = take("WHERE") ? try disjunction() : nil
        return FilterMembership(column: column, table: table, condition: condition)
    }

    private mutating func tableName() throws(FilterError) -> PostgresIdentifier {
        let position = current.position
        let first = try name(what: "a table")
        guard take(symbol: ".") else { return try identifier(first, schema: nil, at: position) }
        return try identifier(try name(what: "a table after the schema's '.'"), schema: first, at: position)
    }

    // MARK: - Operands

    private mutating func operand() throws(FilterError) -> FilterOperand {
        if let literal = try optionalLiteral() { return .literal(literal) }
        let column = try columnName(what: "a column or a value")
        if case .symbol(let symbol) = current.kind, symbol == "(" || symbol == "." {
            throw FilterError(
                message: symbol == "("
                    ? "functions are not part of the filter grammar: compare the column itself"
                    : "qualified names are not part of the filter grammar: name the column alone",
                position: current.position)
        }
        return .column(column)
    }

    private mutating func literal() throws(FilterError) -> FilterLiteral {
        guard let literal = try optionalLiteral() else { throw unexpected(expecting: "a value: 'text', a number, TRUE or FALSE") }
        return literal
    }

    private mutating func optionalLiteral() throws(FilterError) -> FilterLiteral? {
        let literal: FilterLiteral? =
            switch current.kind {
            case .text(let text): .text(text)
            case .number(let number): .number(number)
            case .word where current.isKeyword("TRUE"): .boolean(true)
            case .word where current.isKeyword("FALSE"): .boolean(false)
            case .word where current.isKeyword("NULL"):
                throw FilterError(message: "NULL is not a value to compare with: write IS NULL or IS NOT NULL", position: current.position)
            default: nil
            }
        if literal != nil { index += 1 }
        return literal
    }

    private mutating func columnName(what: String) throws(FilterError) -> PostgresIdentifier {
        let position = current.position
        return try identifier(try name(what: what), schema: nil, at: position)
    }

    /// A name, quoted or not; keywords are not names.
    private mutating func name(what: String) throws(FilterError) -> String {
        switch current.kind {
        case .word(let word) where !Self.keywords.contains(word.uppercased()):
            index += 1
            return word
        case .quotedName(let name):
            index += 1
            return name
        case .word(let word):
            throw FilterError(
                message: "expected \(what), found the keyword \(word.uppercased()); a column with that name goes in double quotes",
                position: current.position)
        default:
            throw unexpected(expecting: what)
        }
    }

    private func identifier(_ name: String, schema: String?, at position: Int) throws(FilterError) -> PostgresIdentifier {
        do { return try PostgresIdentifier(name, schema: schema, what: "name") } catch {
            throw FilterError(message: error.message, position: position)
        }
    }

    private static let keywords: Set<String> = [
        "AND", "OR", "NOT", "IS", "NULL", "BETWEEN", "LIKE", "ILIKE", "IN", "TRUE", "FALSE", "SELECT", "FROM", "WHERE",
    ]

    // MARK: - Tokens

    /// Consumes the keyword `keyword` if it is next.
    private mutating func take(_ keyword: String) -> Bool {
        guard current.isKeyword(keyword) else { return false }
        index += 1
        return true
    }

    /// Consumes `symbol` if it is next.
    private mutating func take(symbol: String) -> Bool {
        guard current.kind == .symbol(symbol) else { return false }
        index += 1
        return true
    }

    private mutating func expect(symbol: String, closing what: String?) throws(FilterError) {
        guard !take(symbol: symbol) else { return }
        throw unexpected(expecting: what.map { "'\(symbol)' to close \($0)" } ?? "'\(symbol)'")
    }

    /// Runs `body` one level deeper, refusing to go beyond `RecordFilter.maximumDepth`.
    private mutating func nested<Result>(
        _ body: (inout FilterParser) throws(FilterError) -> Result
    ) throws(FilterError) -> Result {
        guard depth < RecordFilter.maximumDepth else {
            throw FilterError(message: "a filter nests at most \(RecordFilter.maximumDepth) levels deep", position: current.position)
        }
        depth += 1
        defer { depth -= 1 }
        return try body(&self)
    }

    private func unexpected(expecting what: String) -> FilterError {
        FilterError(message: "expected \(what), found \(current.shown)", position: current.position)
    }
}
