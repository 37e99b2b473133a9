/// SQL as the documentation shows it, taken apart into the statements psql would send.
public enum SQLStatements {
    /// The statements of `text`: `--` comments dropped, split at semicolons outside quotes
    /// (`'…'`, `"…"`, `$tag$…$tag$`), each trimmed and without its semicolon.
    public static func split(_ text: String) -> [String] {
        var statements: [String] = []
        var current = ""
        var scalars = Array(text.unicodeScalars)[...]
        while let scalar = scalars.popFirst() {
            switch scalar {
            case "-" where scalars.first == "-":
                while let next = scalars.first, next != "\n" { scalars.removeFirst() }
            case "'", "\"":
                current.unicodeScalars.append(scalar)
                current.unicodeScalars.append(contentsOf: takeQuoted(until: String(scalar), from: &scalars))
            case "$":
                current.unicodeScalars.append(scalar)
                let name = scalars.prefix { $0.properties.isAlphabetic || $0 == "_" }
                guard scalars.dropFirst(name.count).first == "$" else { break }  // not a dollar quote: $1
                let tag = "$" + String(String.UnicodeScalarView(name)) + "$"
                current.unicodeScalars.append(contentsOf: takeQuoted(until: tag, from: &scalars, skippingOpening: name.count + 1))
            case ";":
                statements.append(current)
                current = ""
            default:
                current.unicodeScalars.append(scalar)
            }
        }
        statements.append(current)
        return statements.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }

    /// Takes the scalars up to and including `end`, after skipping `skippingOpening` of them.
    private static func takeQuoted(
        until end: String, from scalars: inout ArraySlice<Unicode.Scalar>, skippingOpening: Int = 0
    ) -> [Unicode.Scalar] {
        var taken = Array(scalars.prefix(skippingOpening))
        scalars.removeFirst(min(skippingOpening, scalars.count))
        let closing = Array(end.unicodeScalars)
        while let scalar = scalars.popFirst() {
            taken.append(scalar)
            if taken.count >= closing.count, Array(taken.suffix(closing.count)) == closing { break }
        }
        return taken
    }

    /// `sql` with its runs of white space as one space and no final semicolon: the key under which a
    /// test keeps what a documented statement must answer, so that re-wrapping a line changes nothing.
    public static func normalized(_ sql: String) -> String {
        let words = sql.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        return words.hasSuffix(";") ? String(words.dropLast()).trimmingCharacters(in: .whitespaces) : words
    }

    /// Whether an inline code span is a statement a reader could run on the coordination database: it
    /// starts with a statement's keyword (in capitals, as the docs write SQL), names an object of
    /// schema `couplet`, and holds no `…` or `<placeholder>`, which mark a template
    /// (`SELECT 1 FROM <table> WHERE <filter> LIMIT 0`). Fragments such as `CREATE ROLE` name none.
    public static func isRunnableStatement(_ span: String) -> Bool {
        let keywords = ["SELECT ", "INSERT ", "UPDATE ", "DELETE ", "ALTER ", "CREATE ", "GRANT ", "REVOKE ", "WITH "]
        return keywords.contains { span.hasPrefix($0) } && span.contains("couplet.") && !span.contains("…") && !span.contains("<")
    }
}

/// Shell text as the documentation shows it, taken apart into command lines and words.
public enum ShellLines {
    /// The command lines of a shell block: lines ending in `\` joined with the next, blank and
    /// comment-only lines dropped, each trimmed.
    public static func commands(in text: String) -> [String] {
        var lines: [String] = []
        var pending = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasSuffix("\\") {
                pending += trimmed.dropLast().trimmingCharacters(in: .whitespaces) + " "
                continue
            }
            let whole = (pending + trimmed).trimmingCharacters(in: .whitespaces)
            pending = ""
            if !whole.isEmpty, !whole.hasPrefix("#") { lines.append(whole) }
        }
        return lines
    }

    /// A word of a command line: its text without quotes, and whether any of it was quoted.
    public struct Word: Sendable, Equatable {
        public let text: String
        public let quoted: Bool
    }

    /// The words of `line` as a shell splits them: quotes removed, a trailing `# comment` dropped.
    /// Variables are not expanded.
    public static func words(_ line: String) -> [Word] {
        var words: [Word] = []
        var current = ""
        var quoted = false
        var inWord = false
        var quote: Character?
        for character in line {
            if let open = quote {
                if character == open { quote = nil } else { current.append(character) }
            } else if character == "'" || character == "\"" {
                quote = character
                quoted = true
                inWord = true
            } else if character == "#" && !inWord {
                break
            } else if character == " " || character == "\t" {
                if inWord { words.append(Word(text: current, quoted: quoted)) }
                (current, quoted, inWord) = ("", false, false)
            } else {
                current.append(character)
                inWord = true
            }
        }
        if inWord { words.append(Word(text: current, quoted: quoted)) }
        return words
    }
}
