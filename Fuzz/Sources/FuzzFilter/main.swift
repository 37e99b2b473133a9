import FuzzInput
import Postgres
import Sync

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

/// `sql` with every double-quoted name replaced by `#` (an escaped quote, `""`, closes one name and
/// opens the next: `##`); a name left unclosed keeps its quote, which no token accepts.
func outsideQuotedNames(_ sql: String) -> String {
    var result = ""
    var inName = false
    for character in sql {
        if character == "\"" {
            inName.toggle()
            if !inName { result.append("#") }
        } else if !inName {
            result.append(character)
        }
    }
    return inName ? result + "\"" : result
}

/// Words (letters, digits, `_`, `$`) and single characters of anything else, without spaces.
func compiledTokens(_ text: String) -> [String] {
    var tokens: [String] = []
    var word = ""
    for character in text {
        if character.isLetter || character.isNumber || character == "_" || character == "$" {
            word.append(character)
            continue
        }
        if !word.isEmpty { tokens.append(word) }
        word = ""
        if !character.isWhitespace { tokens.append(String(character)) }
    }
    return word.isEmpty ? tokens : tokens + [word]
}

/// Whether `token` is one the compiler writes itself.
func isCoupletsOwn(_ token: String) -> Bool {
    if ownWords.contains(token) || ownSymbols.contains(token) { return true }
    if token.hasPrefix("$") { return token.dropFirst().allSatisfy(\.isASCII) && Int(token.dropFirst()) != nil }
    if token.hasPrefix("couplet_member_") { return Int(token.dropFirst("couplet_member_".count)) != nil }
    return false
}

/// The keywords and constants the compiler writes.
let ownWords: Set<String> = ["AND", "OR", "NOT", "IS", "NULL", "BETWEEN", "LIKE", "ILIKE", "IN", "SELECT", "FROM", "WHERE", "AS", "true", "false"]

/// The punctuation and operator characters the compiler writes, and `#` for a quoted name.
let ownSymbols: Set<String> = ["(", ")", ",", ".", "=", "<", ">", "#"]
