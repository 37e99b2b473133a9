import Postgres

extension RecordFilter {
    /// The filter as a parenthesized SQL predicate on the side's table: names quoted, values bound
    /// as parameters of unknown type (so a value takes its column's type, as an SQL literal would).
    public var sql: PostgresQuery { condition.sql(depth: 0) }
}

extension FilterCondition {
    /// The condition in SQL at subquery `depth`: 0 for the side's table, whose columns stay
    /// unqualified; inside a membership subquery, columns are qualified by that subquery's alias,
    /// so that they always name the subquery's table and never an outer one.
    func sql(depth: Int) -> PostgresQuery {
        let sql: PostgresQuery =
            switch self {
            case .and(let left, let right): "\(left.sql(depth: depth)) AND \(right.sql(depth: depth))"
            case .or(let left, let right): "\(left.sql(depth: depth)) OR \(right.sql(depth: depth))"
            case .not(let condition): "NOT \(condition.sql(depth: depth))"
            case .truth(let operand): operand.sql(depth: depth)
            case .comparison(let left, let comparison, let right):
                "\(left.sql(depth: depth)) \(PostgresQuery(unsafeSQL: comparison.rawValue)) \(right.sql(depth: depth))"
            case .isNull(let operand, let negated):
                "\(operand.sql(depth: depth)) \(PostgresQuery(unsafeSQL: negated ? "IS NOT NULL" : "IS NULL"))"
            case .between(let operand, let low, let high, let negated):
                "\(operand.sql(depth: depth)) \(not(negated))BETWEEN \(low.sql(depth: depth)) AND \(high.sql(depth: depth))"
            case .like(let operand, let pattern, let caseSensitive, let negated):
                "\(operand.sql(depth: depth)) \(not(negated))\(PostgresQuery(unsafeSQL: caseSensitive ? "LIKE" : "ILIKE")) \(pattern.sql(depth: depth))"
            case .inList(let operand, let literals, let negated):
                "\(operand.sql(depth: depth)) \(not(negated))IN (\(PostgresQuery.joined(literals.map(\.sql), separator: ", ")))"
            case .inTable(let operand, let membership, let negated):
                "\(operand.sql(depth: depth)) \(not(negated))IN (\(membership.sql(depth: depth + 1)))"
            }
        return "(\(sql))"
    }

    private func not(_ negated: Bool) -> PostgresQuery { negated ? "NOT " : "" }
}

extension FilterMembership {
    /// `SELECT alias.column FROM table AS alias WHERE …` for a subquery at `depth` (1 or more).
    func sql(depth: Int) -> PostgresQuery {
        "SELECT \(Self.alias(depth)).\(column) FROM \(table) AS \(Self.alias(depth)) WHERE \(condition?.sql(depth: depth) ?? "true")"
    }

    /// `couplet_member_<depth>`: built from a number, never from filter text.
    static func alias(_ depth: Int) -> PostgresQuery { PostgresQuery(unsafeSQL: "couplet_member_\(depth)") }
}

extension FilterOperand {
    /// A quoted column (qualified inside a subquery) or a bound value.
    func sql(depth: Int) -> PostgresQuery {
        switch self {
        case .column(let column) where depth > 0: "\(FilterMembership.alias(depth)).\(column)"
        case .column(let column): "\(column)"
        case .literal(let literal): literal.sql
        }
    }
}

extension FilterLiteral {
    /// Text and numbers bound as parameters of unknown type; booleans as SQL's own constants.
    var sql: PostgresQuery {
        switch self {
        case .text(let text): "\(PostgresBinding(text: text, type: .unknown))"
        case .number(let number): "\(PostgresBinding(text: number, type: .unknown))"
        case .boolean(let value): PostgresQuery(unsafeSQL: value ? "true" : "false")
        }
    }
}
