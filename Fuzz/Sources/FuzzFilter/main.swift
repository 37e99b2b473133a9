import FuzzInput
import Postgres
import Sync

/// `sql` with every double-quoted name replaced by `#` (an escaped quote, `""`, closes one name and
/// opens the next: `##`); a name left unclosed keeps its quote, which no token accepts. Reads
/// Unicode scalars, as the server reads bytes: a combining mark after a quote does not hide it.
func outsideQuotedNames(_ sql: String) -> String {
    var result = String.UnicodeScalarView()
    var inName = false
    for scalar in sql.unicodeScalars {
        if scalar == "\"" {
            inName.toggle()
            if !inName { result.append("#") }
        } else if !inName {
            result.append(scalar)
        }
    }
    if inName { result.append("\"") }
    return String(result)
}

/// Words (ASCII letters, digits, `_`, `$`) and single scalars of anything else, without spaces.
func compiledTokens(_ text: String) -> [String] {
    var tokens: [String] = []
    var word = ""
    for scalar in text.unicodeScalars {
        if scalar.isASCII, scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "_" || scalar == "$" {
            word.unicodeScalars.append(scalar)
            continue
        }
        if !word.isEmpty { tokens.append(word) }
        word = ""
        if !scalar.properties.isWhitespace { tokens.append(String(scalar)) }
    }
    return word.isEmpty ? tokens : tokens + [word]
}

/// Whether `token` is one the compiler writes itself.
func isCoupletsOwn(_ token: String) -> Bool {
    if ownWords.contains(token) || ownSymbols.contains(token) { return true }
    if token.hasPrefix("$") { return Int(token.dropFirst()) != nil }
    if token.hasPrefix("couplet_member_") { return Int(token.dropFirst("couplet_member_".count)) != nil }
    return false
}

/// The keywords and constants the compiler writes.
let ownWords: Set<String> = ["AND", "OR", "NOT", "IS", "NULL", "BETWEEN", "LIKE", "ILIKE", "IN", "SELECT", "FROM", "WHERE", "AS", "true", "false"]

/// The punctuation and operator characters the compiler writes, and `#` for a quoted name.
let ownSymbols: Set<String> = ["(", ")", ",", ".", "=", "<", ">", "#"]

// Last in the file: top-level code runs in order, so the sets above exist before the first input.
// The input is a filter. An accepted one compiles to SQL in which nothing of the input's text
// appears outside double-quoted names: what is left is Couplet's own keywords, operators,
// parentheses, `$n` placeholders (one per bound value) and subquery aliases.
fuzz { text in
    guard let filter = try? RecordFilter(parsing: text) else { return }
    let (sql, bindings) = filter.sql.rendered()
    let tokens = compiledTokens(outsideQuotedNames(sql))
    for token in tokens {
        expect(isCoupletsOwn(token), "compiled SQL holds only Couplet's own text outside quoted names, not \(token) in \(sql)")
    }
    let placeholders = tokens.filter { $0.hasPrefix("$") }.count
    expect(placeholders == bindings.count, "one placeholder per bound value in \(sql)")
}
