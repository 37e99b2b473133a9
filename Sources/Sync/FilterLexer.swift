/// One token of a filter's text.
struct FilterToken: Equatable {
    /// What the token is.
    enum Kind: Equatable {
        /// An unquoted name or keyword, as written.
        case word(String)
        /// A name in double quotes, without them.
        case quotedName(String)
        /// Text in single quotes, without them.
        case text(String)
        /// A decimal number, with its sign.
        case number(String)
        /// Punctuation or an operator: `( ) , . = <> != < <= > >=`.
        case symbol(String)
        /// The end of the text.
        case end
    }

    /// What the token is.
    let kind: Kind
    /// The 1-based character the token starts at.
    let position: Int

    /// Whether the token is the keyword `keyword` (written in capitals), in any case.
    func isKeyword(_ keyword: String) -> Bool {
        if case .word(let word) = kind { word.uppercased() == keyword } else { false }
    }

    /// The token as an error message shows it.
    var shown: String {
        switch kind {
        case .word(let word): "'\(word)'"
        case .quotedName(let name): "the name \"\(name)\""
        case .text(let text): "the text \(quoted(text))"
        case .number(let number): "the number \(number)"
        case .symbol(let symbol): "'\(symbol)'"
        case .end: "the end of the filter"
        }
    }
}

/// Splits a filter's text into tokens. Anything the grammar has no token for is refused here, with
/// a message saying what the grammar offers instead.
struct FilterLexer {
    private let scalars: [Unicode.Scalar]
    private var index = 0
    private var tokens: [FilterToken] = []

    /// The tokens of `text`, ending with `.end`.
    static func tokens(of text: String) throws(FilterError) -> [FilterToken] {
        var lexer = FilterLexer(scalars: Array(text.unicodeScalars))
        while let token = try lexer.next() { lexer.tokens.append(token) }
        lexer.tokens.append(FilterToken(kind: .end, position: lexer.scalars.count + 1))
        return lexer.tokens
    }

    private init(scalars: [Unicode.Scalar]) { self.scalars = scalars }

    private var current: Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }
    private var following: Unicode.Scalar? { index + 1 < scalars.count ? scalars[index + 1] : nil }

    private mutating func next() throws(FilterError) -> FilterToken? {
        while let scalar = current, scalar.properties.isWhitespace { index += 1 }
        guard let scalar = current else { return nil }
        let start = index
        let kind: FilterToken.Kind
        switch scalar {
        case "'": kind = .text(try quoted(by: "'", what: "text"))
        case "\"": kind = .quotedName(try quoted(by: "\"", what: "quoted name"))
        case "(", ")", ",", ".", "=": kind = .symbol(advance(by: 1))
        case "<" where following == ">" || following == "=", ">" where following == "=", "!" where following == "=":
            kind = .symbol(advance(by: 2))
        case "<", ">": kind = .symbol(advance(by: 1))
        case "-" where following.map(Self.isDigit) == true, _ where Self.isDigit(scalar): kind = .number(try number())
        case _ where Self.startsName(scalar): kind = .word(word())
        default: throw refusal(of: scalar)
        }
        return FilterToken(kind: kind, position: start + 1)
    }

    /// Text between `quote`s, a doubled quote standing for one.
    private mutating func quoted(by quote: Unicode.Scalar, what: String) throws(FilterError) -> String {
        let start = index
        var text = String.UnicodeScalarView()
        index += 1
        while let scalar = current {
            index += 1
            if scalar == quote {
                guard current == quote else { return String(text) }
                index += 1
            }
            guard scalar != "\0" else { throw FilterError(message: "a filter must not contain a NUL character", position: index) }
            text.append(scalar)
        }
        throw FilterError(message: "the \(what) that starts here is never closed", position: start + 1)
    }

    /// A decimal number: an optional `-`, digits, an optional fraction and exponent.
    private mutating func number() throws(FilterError) -> String {
        let start = index
        if current == "-" { index += 1 }
        skipDigits()
        if current == ".", following.map(Self.isDigit) == true {
            index += 1
            skipDigits()
        }
        if current == "e" || current == "E" {
            let mantissaEnd = index
            index += 1
            if current == "+" || current == "-" { index += 1 }
            guard current.map(Self.isDigit) == true else { index = mantissaEnd; return try endOfNumber(from: start) }
            skipDigits()
        }
        return try endOfNumber(from: start)
    }

    /// The number from `start` to here, which must not run into a name.
    private func endOfNumber(from start: Int) throws(FilterError) -> String {
        if let scalar = current, Self.continuesName(scalar) {
            throw FilterError(message: "a number must not run into a name; names starting with a digit go in double quotes", position: index + 1)
        }
        return String(String.UnicodeScalarView(scalars[start..<index]))
    }

    private mutating func skipDigits() {
        while let scalar = current, Self.isDigit(scalar) { index += 1 }
    }

    private mutating func word() -> String {
        let start = index
        while let scalar = current, Self.continuesName(scalar) { index += 1 }
        return String(String.UnicodeScalarView(scalars[start..<index]))
    }

    private mutating func advance(by count: Int) -> String {
        defer { index += count }
        return String(String.UnicodeScalarView(scalars[index..<(index + count)]))
    }

    /// Why `scalar` cannot start a token, and what to write instead.
    private func refusal(of scalar: Unicode.Scalar) -> FilterError {
        let message =
            switch scalar {
            case ";": "';' ends a statement: a filter is one predicate, never a second statement"
            case "-" where following == "-", "/" where following == "*": "comments are not part of the filter grammar"
            case ":": "casts are not part of the filter grammar: a literal takes the type of the column it is compared with"
            case "$": "'$' has no meaning in a filter: there are no parameters or dollar-quoted strings; write text in single quotes"
            case "\0": "a filter must not contain a NUL character"
            case "*": "'*' is not part of the filter grammar: a subquery selects one column, and there is no arithmetic"
            case "+", "-", "/", "%", "|", "^": "arithmetic and other operators are not part of the filter grammar"
            default:
                "unexpected '\(scalar.escaped(asASCII: false))'; a name with characters other than letters, digits and '_' goes in double quotes"
            }
        return FilterError(message: message, position: index + 1)
    }

    private static func isDigit(_ scalar: Unicode.Scalar) -> Bool { ("0"..."9").contains(scalar) }
    private static func startsName(_ scalar: Unicode.Scalar) -> Bool { scalar == "_" || scalar.properties.isAlphabetic }
    private static func continuesName(_ scalar: Unicode.Scalar) -> Bool { startsName(scalar) || isDigit(scalar) }
}
