import Foundation

/// Reads `rule | rule | ...` into transformations, reporting the first problem with its position.
struct RuleParser {
    private let tokens: [RuleToken]
    private var index = 0

    private init(tokens: [RuleToken]) {
        self.tokens = tokens
    }

    /// The rules of `text`, in order.
    static func rules(of text: String) throws(TransformationError) -> [Transformation] {
        var parser = RuleParser(tokens: try RuleLexer.tokens(of: text))
        return try parser.chain()
    }

    private var current: RuleToken { tokens[index] }

    private mutating func chain() throws(TransformationError) -> [Transformation] {
        guard current.kind != .end else {
            throw .parse(.syntax, "the rule text is empty; write a rule such as trim, or a chain such as trim | uppercase", at: 1)
        }
        var rules = [try rule()]
        while current.kind == .pipe {
            index += 1
            rules.append(try rule())
        }
        guard current.kind == .end else {
            throw .parse(.syntax, "expected '|' or the end of the text, found \(current.shown)", at: current.position)
        }
        return rules
    }

    private mutating func rule() throws(TransformationError) -> Transformation {
        guard case .word(let name) = current.kind else {
            throw .parse(.syntax, "expected a rule name, found \(current.shown)", at: current.position)
        }
        let position = current.position
        index += 1
        guard let spec = RuleCatalogue.spec(named: name) else {
            throw .parse(.unknownRule, "unknown rule \"\(name)\"; known rules: \(RuleCatalogue.names)", at: position)
        }
        let arguments = RuleArguments(spec: spec, values: try argumentList(), position: position)
        return try arguments.build()
    }

    private mutating func argumentList() throws(TransformationError) -> [RuleArgument] {
        guard current.kind == .open else { return [] }
        index += 1
        if current.kind == .close {
            index += 1
            return []
        }
        var arguments: [RuleArgument] = []
        while true {
            arguments.append(try argument())
            switch current.kind {
            case .comma: index += 1
            case .close: index += 1; return arguments
            default: throw .parse(.syntax, "expected ',' or ')', found \(current.shown)", at: current.position)
            }
        }
    }

    private mutating func argument() throws(TransformationError) -> RuleArgument {
        let token = current
        let value: RuleArgument.Value
        switch token.kind {
        case .word(let word): value = .word(word)
        case .string(let text): value = .string(text)
        case .integer(let number): value = .integer(number)
        default:
            throw .parse(.syntax, "expected an argument (a number, a word or a quoted string), found \(token.shown)", at: token.position)
        }
        index += 1
        return RuleArgument(value: value, position: token.position)
    }
}

/// One argument as written, with the 1-based character it starts at.
struct RuleArgument {
    enum Value {
        case word(String)
        case string(String)
        case integer(Int)
    }

    var value: Value
    var position: Int

    /// How the argument reads in an error message.
    var shown: String {
        switch value {
        case .word(let word): "\"\(word)\""
        case .string(let text): "the string \(quoted(text))"
        case .integer(let number): "\(number)"
        }
    }
}

/// The arguments of one rule, read and checked against the rule's parameters.
struct RuleArguments {
    let spec: RuleSpec
    let values: [RuleArgument]
    let position: Int

    /// The transformation, or the first problem with its arguments.
    func build() throws(TransformationError) -> Transformation {
        guard spec.arity.contains(values.count) else {
            throw .parse(.invalidArgument, "\(spec.name) takes \(spec.arityText), written \(spec.usage), but got \(values.count)", at: position)
        }
        return try spec.build(self)
    }

    /// Whether argument `index` (0-based) was given.
    func has(_ index: Int) -> Bool { index < values.count }

    /// Argument `index` as a whole number within `range`.
    func integer(_ index: Int, in range: ClosedRange<Int>) throws(TransformationError) -> Int {
        guard case .integer(let number) = values[index].value else {
            throw wrong(index, "must be a whole number, not \(values[index].shown)")
        }
        guard range.contains(number) else {
            throw wrong(index, "must be between \(range.lowerBound) and \(range.upperBound), not \(number)")
        }
        return number
    }

    /// Argument `index` as a quoted string.
    func string(_ index: Int) throws(TransformationError) -> String {
        guard case .string(let text) = values[index].value else {
            throw wrong(index, "must be a quoted string, not \(values[index].shown)")
        }
        return text
    }

    /// Argument `index` as text, whether written as a word, a string or a number.
    func text(_ index: Int) -> String {
        switch values[index].value {
        case .word(let text), .string(let text): text
        case .integer(let number): String(number)
        }
    }

    /// Argument `index` as a non-empty text.
    func nonEmptyText(_ index: Int) throws(TransformationError) -> String {
        let text = text(index)
        guard !text.isEmpty else { throw wrong(index, "must not be empty") }
        return text
    }

    /// Argument `index` of `lookup`, what to do when the value is not coupled: `fail` (the
    /// default, also when not given) or `keep` (the target keeps its value).
    func keepsTarget(_ index: Int) throws(TransformationError) -> Bool {
        guard has(index) else { return false }
        switch text(index).lowercased() {
        case "fail": return false
        case "keep": return true
        default: throw wrong(index, "must be fail or keep, not \(values[index].shown)")
        }
    }

    /// Argument `index` as a time-zone identifier such as `Europe/Berlin`; UTC when not given.
    func timeZone(_ index: Int) throws(TransformationError) -> TimeZone {
        guard has(index) else { return .gmt }
        let identifier = try string(index)
        guard let zone = TimeZone(identifier: identifier) else {
            throw wrong(index, "names no known time zone: \(quoted(identifier)); use an IANA name such as \"Europe/Berlin\" or \"UTC\"", code: .invalidPattern)
        }
        return zone
    }

    /// A problem found while compiling argument `index` (a regular expression, a date pattern).
    func invalid(_ index: Int, _ error: TransformationError) -> TransformationError {
        .parse(error.code, "\(spec.name): \(error.message)", at: values[index].position)
    }

    private func wrong(_ index: Int, _ problem: String, code: TransformationError.Code = .invalidArgument) -> TransformationError {
        .parse(code, "argument \(index + 1) of \(spec.name) (\(spec.parameters[index])) \(problem)", at: values[index].position)
    }
}
