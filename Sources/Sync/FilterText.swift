/// The lexical rule for a side's filter: one predicate that stays inside the parentheses the
/// engine puts around it (`WHERE (<filter>)`).
///
/// The endpoint decides whether the text is a valid boolean expression (`MappingEndpointCheck`
/// asks it to plan one). What the server cannot tell from a statement that plans is whether the
/// filter closed the engine's parenthesis and went on (`true) UNION SELECT … WHERE (true`), so this
/// check reads the text the way PostgreSQL's lexer does — quoted strings and identifiers, `E'…'`
/// escapes, dollar quotes — and refuses a `;`, a parenthesis closed that the filter did not open,
/// one left open, and comments (which could hide the engine's closing parenthesis). It assumes
/// `standard_conforming_strings = on`, the default since PostgreSQL 9.1, which the endpoint
/// check confirms.
enum FilterText {
    /// What is wrong with a filter, and the 1-based character (Unicode scalar) it concerns.
    struct Problem: Error, Equatable {
        var message: String
        var position: Int
    }

    /// Throws the first problem in `text`, if any.
    static func check(_ text: String) throws(Problem) {
        guard text.contains(where: { !$0.isWhitespace }) else {
            throw Problem(message: "a filter must not be empty: leave the key out to synchronize every record", position: 1)
        }
        var scanner = Scanner(Array(text.unicodeScalars))
        try scanner.scan()
    }

    /// Walks the text one token at a time, keeping the open parentheses.
    private struct Scanner {
        let scalars: [Unicode.Scalar]
        var index = 0
        var openParentheses: [Int] = []

        init(_ scalars: [Unicode.Scalar]) { self.scalars = scalars }

        mutating func scan() throws(Problem) {
            while index < scalars.count {
                try step()
            }
            if let open = openParentheses.last {
                throw Problem(message: "'(' is never closed: a filter must be one complete predicate", position: open + 1)
            }
        }

        private mutating func step() throws(Problem) {
            let scalar = scalars[index]
            switch scalar {
            case "'": try skipQuoted(closing: "'", escapes: startsEscapeString, what: "string")
            case "\"": try skipQuoted(closing: "\"", escapes: false, what: "quoted identifier")
            case "$" where !followsIdentifier: try skipDollarQuote()
            case "-" where next == "-", "/" where next == "*":
                throw Problem(message: "comments are not allowed in a filter", position: index + 1)
            case ";":
                throw Problem(message: "';' ends a statement: a filter must be one predicate, never a second statement", position: index + 1)
            case "(":
                openParentheses.append(index)
            case ")":
                guard openParentheses.popLast() != nil else {
                    throw Problem(message: "')' closes a parenthesis the filter did not open: a filter must be one predicate", position: index + 1)
                }
            default: break
            }
            index += 1
        }

        private var next: Unicode.Scalar? { index + 1 < scalars.count ? scalars[index + 1] : nil }

        /// Whether the scalar before `index` continues an identifier or number (so `$` is part of it).
        private var followsIdentifier: Bool {
            index > 0 && Self.isIdentifierPart(scalars[index - 1])
        }

        /// Whether the quote at `index` opens an `E'…'` string, where a backslash escapes the next character.
        private var startsEscapeString: Bool {
            guard index > 0, "eE".unicodeScalars.contains(scalars[index - 1]) else { return false }
            return index == 1 || !Self.isIdentifierPart(scalars[index - 2])
        }

        /// Moves `index` to the closing quote; a doubled quote is part of the text.
        private mutating func skipQuoted(closing: Unicode.Scalar, escapes: Bool, what: String) throws(Problem) {
            let start = index
            index += 1
            while index < scalars.count {
                if escapes, scalars[index] == "\\" {
                    index += 2
                    continue
                }
                if scalars[index] == closing {
                    guard next == closing else { return }
                    index += 1
                }
                index += 1
            }
            throw Problem(message: "the \(what) that starts here is never closed", position: start + 1)
        }

        /// Moves `index` to the end of a `$tag$…$tag$` string; a `$` that starts no tag is left to the server.
        private mutating func skipDollarQuote() throws(Problem) {
            var end = index + 1
            while end < scalars.count, scalars[end] != "$" {
                guard Self.isIdentifierPart(scalars[end]), !(end == index + 1 && Self.isDigit(scalars[end])) else { return }
                end += 1
            }
            guard end < scalars.count else { return }
            let tag = Array(scalars[index...end])
            var search = end + 1
            while search + tag.count <= scalars.count {
                if Array(scalars[search..<(search + tag.count)]) == tag {
                    index = search + tag.count - 1
                    return
                }
                search += 1
            }
            throw Problem(message: "the dollar-quoted string that starts here is never closed", position: index + 1)
        }

        private static func isIdentifierPart(_ scalar: Unicode.Scalar) -> Bool {
            scalar == "_" || scalar == "$" || scalar.properties.isAlphabetic || isDigit(scalar)
        }

        private static func isDigit(_ scalar: Unicode.Scalar) -> Bool { ("0"..."9").contains(scalar) }
    }
}
