import Postgres

/// Which records of a side a mapping synchronizes: a predicate in Couplet's filter grammar.
///
/// A filter is parsed, never passed on as SQL: the engine compiles it to SQL in which every name
/// is a quoted identifier and every value a bound parameter, so no text in a filter can reach the
/// server as SQL. The grammar, in order of binding strength (weakest first):
///
/// ```
/// filter     = or
/// or         = and { OR and }
/// and        = not { AND not }
/// not        = NOT not | predicate
/// predicate  = "(" or ")" | operand [ test ]
/// test       = ( "=" | "<>" | "!=" | "<" | "<=" | ">" | ">=" ) operand
///            | IS [ NOT ] NULL
///            | [ NOT ] BETWEEN operand AND operand
///            | [ NOT ] ( LIKE | ILIKE ) operand
///            | [ NOT ] IN "(" literal { "," literal } ")"
///            | [ NOT ] IN "(" SELECT column FROM table [ WHERE or ] ")"
/// operand    = column | literal
/// literal    = 'text' | number | TRUE | FALSE
/// ```
///
/// A column is a name (letters, digits and `_`, not starting with a digit) or any name in double
/// quotes (`"Post Code"`); names are taken as written, like `table:` and `key:`. Keywords are
/// case-insensitive and reserved: quote a column called `in`. Text is in single quotes with `''`
/// for a quote (no backslash escapes); a number is decimal (`-12`, `0.5`, `1e3`). A literal takes
/// the type of what it is compared with, as an SQL literal would. An operand without a test must be
/// a boolean column (`NOT blocked`) or `TRUE`/`FALSE`.
///
/// The membership form reads another table of the same endpoint, itself filtered in the grammar:
/// `customer_no IN (SELECT no FROM customer WHERE blocked = '')`; its `WHERE` names that table's
/// columns only. There are no functions, casts, other subqueries, comments, parameters or second
/// statements. A filter is at most `maximumLength` characters and nests at most `maximumDepth`
/// parentheses, `NOT`s and subqueries deep.
public struct RecordFilter: Sendable, Equatable, CustomStringConvertible {
    /// The longest filter text accepted, in characters.
    public static let maximumLength = 4_000
    /// The deepest nesting accepted.
    public static let maximumDepth = 32

    /// The text as written in the mappings file and stored in `couplet.table_mappings`.
    public let text: String
    /// The predicate the text describes.
    public let condition: FilterCondition

    /// Parses `text`; a `FilterError` says what is wrong and at which character.
    public init(parsing text: String) throws(FilterError) {
        self.text = text
        condition = try FilterParser.condition(of: text)
    }

    /// The text as written.
    public var description: String { text }
}

/// A parsed filter predicate.
public indirect enum FilterCondition: Sendable, Equatable {
    /// Both hold.
    case and(FilterCondition, FilterCondition)
    /// Either holds.
    case or(FilterCondition, FilterCondition)
    /// The condition does not hold.
    case not(FilterCondition)
    /// A boolean operand on its own: a boolean column, `TRUE` or `FALSE`.
    case truth(FilterOperand)
    /// Two operands compared.
    case comparison(FilterOperand, FilterComparison, FilterOperand)
    /// `IS NULL`, or `IS NOT NULL` when negated.
    case isNull(FilterOperand, negated: Bool)
    /// `[NOT] BETWEEN low AND high`, bounds included.
    case between(FilterOperand, low: FilterOperand, high: FilterOperand, negated: Bool)
    /// `[NOT] LIKE` (or `ILIKE` when not case-sensitive) with `%` and `_` wildcards.
    case like(FilterOperand, pattern: FilterOperand, caseSensitive: Bool, negated: Bool)
    /// `[NOT] IN (literal, …)`.
    case inList(FilterOperand, [FilterLiteral], negated: Bool)
    /// `[NOT] IN (SELECT column FROM table WHERE …)`: membership in another table of the endpoint.
    case inTable(FilterOperand, FilterMembership, negated: Bool)
}

/// What a filter compares: a column of the table, or a literal.
public enum FilterOperand: Sendable, Equatable {
    /// A column, quoted when compiled.
    case column(PostgresIdentifier)
    /// A value, bound when compiled.
    case literal(FilterLiteral)
}

/// A value written in a filter.
public enum FilterLiteral: Sendable, Equatable {
    /// Text in single quotes, without its quotes.
    case text(String)
    /// A decimal number as written.
    case number(String)
    /// `TRUE` or `FALSE`.
    case boolean(Bool)
}

/// A comparison operator.
public enum FilterComparison: String, Sendable, Equatable {
    /// Equal.
    case equal = "="
    /// Not equal (`<>` or `!=`).
    case notEqual = "<>"
    /// Less than.
    case less = "<"
    /// Less than or equal.
    case lessOrEqual = "<="
    /// Greater than.
    case greater = ">"
    /// Greater than or equal.
    case greaterOrEqual = ">="
}

/// The membership form's `SELECT column FROM table [WHERE filter]`.
public struct FilterMembership: Sendable, Equatable {
    /// The column whose values the operand is looked up in.
    public var column: PostgresIdentifier
    /// The table, possibly schema-qualified, on the same endpoint.
    public var table: PostgresIdentifier
    /// Which of that table's rows count, if not all.
    public var condition: FilterCondition?
}

/// Why a filter was refused: what is wrong, and the 1-based character (Unicode scalar) it concerns.
public struct FilterError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, and what the grammar allows instead.
    public let message: String
    /// The 1-based character the problem is at.
    public let position: Int

    /// The message with its position.
    public var description: String { "\(message) (at character \(position))" }
}
