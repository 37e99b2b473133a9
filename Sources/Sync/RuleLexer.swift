/// A token of the rule text, with the 1-based character it starts at.
struct RuleToken: Equatable {
    enum Kind: Equatable {
        case word(String)
        case string(String)
        case integer(Int)
        case pipe
        case open
        case close
        case comma
        case end
    }

    var kind: Kind
    var position: Int

    /// How the token reads in an error message.
    var shown: String {
        switch kind {
        case .word(let word): "\"\(word)\""
        case .string(let text): "the string \(quoted(text))"
        case .integer(let number): "\(number)"
        case .pipe: "'|'"
        case .open: "'('"
        case .close: "')'"
        case .comma: "','"
        case .end: "the end of the text"
        }
    }
}

/// Splits rule text into tokens: words (`trim`, `ITEM-PRODUCT`), quoted strings (`"..."` or
/// `'...'`, where a backslash escapes the quote or a backslash), integers, `|`, `(`, `)`, `,`.
struct RuleLexer {
    private let characters: [Character]
    private var index = 0

    init(_ text: String) {
        characters = Array(text)
    }

    /// All tokens, ending with `.end`.
    static func tokens(of text: String) throws(TransformationError) -> [RuleToken] {
        var lexer = RuleLexer(text)
        var tokens: [RuleToken] = []
        repeat {
            tokens.append(try lexer.next())
        } while tokens.last?.kind != .end
        return tokens
    }

    private mutating func next() throws(TransformationError) -> RuleToken {
        while index < characters.count, characters[index].isWhitespace { index += 1 }
        let position = index + 1
        guard index < characters.count else { return RuleToken(kind: .end, position: position) }
        let character = characters[index]
        if let punctuation = Self.punctuation[character] {
            index += 1
            return RuleToken(kind: punctuation, position: position)
        }
        if character == "\"" || character == "'" { return try string(quote: character) }
        if character.isLetter || character == "_" { return word() }
        if character.isASCII, character.isNumber || character == "-" { return try integer() }
        throw .parse(.syntax, "unexpected character '\(character)'", at: position)
    }

    private static let punctuation: [Character: RuleToken.Kind] = ["|": .pipe, "(": .open, ")": .close, ",": .comma]

    private mutating func word() -> RuleToken {
        let start = index
        while index < characters.count, Self.isWordCharacter(characters[index]) { index += 1 }
        return RuleToken(kind: .word(String(characters[start..<index])), position: start + 1)
    }

    private static func isWordCharacter(_ character: Character) -> Bool {
        character.isLetter || character.isNumber || "_-.".contains(character)
    }

    private mutating func string(quote: Character) throws(TransformationError) -> RuleToken {
        let start = index
        index += 1
        var text = ""
        while index < characters.count, characters[index] != quote {
            if characters[index] == "\\", index + 1 < characters.count,
               characters[index + 1] == quote || characters[index + 1] == "\\" {
                index += 1
            }
            text.append(characters[index])
            index += 1
        }
        guard index < characters.count else {
            throw .parse(.syntax, "unterminated string: the \(quote) has no closing \(quote)", at: start + 1)
        }
        index += 1
        return RuleToken(kind: .string(text), position: start + 1)
    }

    private mutating func integer() throws(TransformationError) -> RuleToken {
        let start = index
        if characters[index] == "-" { index += 1 }
        while index < characters.count, characters[index].isASCII, characters[index].isNumber { index += 1 }
        let text = String(characters[start..<index])
        guard text != "-" else { throw .parse(.syntax, "expected digits after '-'", at: start + 1) }
        guard let number = Int(text) else {
            throw .parse(.invalidArgument, "the number \(text) is too large", at: start + 1)
        }
        return RuleToken(kind: .integer(number), position: start + 1)
    }
}
