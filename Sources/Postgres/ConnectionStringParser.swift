import CLibPQ

/// One `keyword=value` setting of a connection string, decoded, as libpq receives it.
struct ConnectionSetting: Sendable, Equatable {
    let keyword: String
    let value: String
}

/// What is wrong with a connection string: it names the part, never any of the string's text.
struct ConnectionStringProblem: Error, CustomStringConvertible {
    let description: String
}

/// Parses `postgres://` URLs and libpq keyword strings into settings by libpq's documented rules,
/// so that the string is read once and every error can say which setting is wrong without a value.
enum ConnectionStringParser {
    /// The settings of `text`, in order; a later setting overrides an earlier one.
    static func parse(_ text: String) throws(ConnectionStringProblem) -> [ConnectionSetting] {
        let settings = try parseURLOrKeywords(text)
        try checkPorts(in: settings)
        return settings
    }

    /// Every keyword this libpq knows (`host`, `sslmode`, …).
    private static let knownKeywords: Set<String> = {
        guard let defaults = PQconndefaults() else { return [] }
        defer { PQconninfoFree(defaults) }
        var keywords: Set<String> = []
        var option = defaults
        while let keyword = option.pointee.keyword {
            keywords.insert(String(cString: keyword))
            option += 1
        }
        return keywords
    }()

    private static func parseURLOrKeywords(_ text: String) throws(ConnectionStringProblem) -> [ConnectionSetting] {
        guard let body = urlBody(of: text) else { return try parseKeywords(text) }
        return try parseURL(body)
    }

    private static func urlBody(of text: String) -> Substring? {
        ["postgresql://", "postgres://"].first { text.hasPrefix($0) }.map { text.dropFirst($0.count) }
    }

    // MARK: URLs: postgresql://[user[:password]@][host][:port][,…][/dbname][?keyword=value&…]

    private static func parseURL(_ body: Substring) throws(ConnectionStringProblem) -> [ConnectionSetting] {
        var settings: [ConnectionSetting] = []
        var rest = body
        // As libpq: credentials end at the first '@' before any '/', so '?' may appear in a password.
        if let at = body.firstIndex(where: { $0 == "@" || $0 == "/" }), body[at] == "@" {
            settings += try credentials(body[..<at])
            rest = body[body.index(after: at)...]
        }
        let hostEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        settings += try hosts(rest[..<hostEnd])
        rest = rest[hostEnd...]
        if rest.first == "/" {
            let path = rest.dropFirst().prefix { $0 != "?" }
            guard !path.contains("@") else {
                throw ConnectionStringProblem(description: "an '@' follows the host: write '/' in the user name or password as %2F")
            }
            settings += try setting("dbname", decoding: path, part: "the database name")
            rest = rest[path.endIndex...]
        }
        if rest.first == "?" { settings += try queryParameters(rest.dropFirst()) }
        return settings
    }

    private static func credentials(_ text: Substring) throws(ConnectionStringProblem) -> [ConnectionSetting] {
        guard let colon = text.firstIndex(of: ":") else { return try setting("user", decoding: text, part: "the user name") }
        return try setting("user", decoding: text[..<colon], part: "the user name")
            + setting("password", decoding: text[text.index(after: colon)...], part: "the password")
    }

    private static func hosts(_ text: Substring) throws(ConnectionStringProblem) -> [ConnectionSetting] {
        var hosts: [String] = []
        var ports: [String] = []
        for entry in text.split(separator: ",", omittingEmptySubsequences: false) {
            let (host, port) = try hostAndPort(entry)
            hosts.append(try decode(host, part: "the host"))
            ports.append(try decode(port, part: "the port"))
        }
        return joined("host", hosts) + joined("port", ports)
    }

    private static func hostAndPort(_ entry: Substring) throws(ConnectionStringProblem) -> (Substring, Substring) {
        guard entry.first == "[" else {
            guard let colon = entry.firstIndex(of: ":") else { return (entry, "") }
            return (entry[..<colon], entry[entry.index(after: colon)...])
        }
        guard let close = entry.firstIndex(of: "]") else {
            throw ConnectionStringProblem(description: "the host's '[' has no ']'")
        }
        let host = entry[entry.index(after: entry.startIndex)..<close]
        let after = entry[entry.index(after: close)...]
        guard !host.isEmpty else { throw ConnectionStringProblem(description: "the host's brackets are empty") }
        guard after.isEmpty || after.first == ":" else {
            throw ConnectionStringProblem(description: "the host's ']' is followed by something other than ':' and a port")
        }
        return (host, after.dropFirst())
    }

    private static func joined(_ keyword: String, _ values: [String]) -> [ConnectionSetting] {
        values.allSatisfy(\.isEmpty) ? [] : [ConnectionSetting(keyword: keyword, value: values.joined(separator: ","))]
    }

    private static func queryParameters(_ text: Substring) throws(ConnectionStringProblem) -> [ConnectionSetting] {
        var settings: [ConnectionSetting] = []
        for (offset, parameter) in text.split(separator: "&").enumerated() {
            let part = "query parameter \(offset + 1)"
            let sides = parameter.split(separator: "=", maxSplits: 2, omittingEmptySubsequences: false)
            guard sides.count == 2 else { throw ConnectionStringProblem(description: "\(part) is not keyword=value") }
            let keyword = try decode(sides[0], part: part)
            let value = try decode(sides[1], part: part)
            // libpq's one alias: ssl=true means sslmode=require.
            if keyword == "ssl", value == "true" {
                settings.append(ConnectionSetting(keyword: "sslmode", value: "require"))
                continue
            }
            guard knownKeywords.contains(keyword) else { throw ConnectionStringProblem(description: "\(part) is not a known setting") }
            settings.append(ConnectionSetting(keyword: keyword, value: value))
        }
        return settings
    }

    private static func setting(_ keyword: String, decoding text: Substring, part: String) throws(ConnectionStringProblem)
        -> [ConnectionSetting]
    {
        let value = try decode(text, part: part)
        return value.isEmpty ? [] : [ConnectionSetting(keyword: keyword, value: value)]
    }

    /// Percent-decodes a URL part (`+` stays `+`, as in libpq).
    private static func decode(_ text: Substring, part: String) throws(ConnectionStringProblem) -> String {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                throw ConnectionStringProblem(description: "bad percent-escape in \(part)")
            }
            guard high != 0 || low != 0 else { throw ConnectionStringProblem(description: "%00 in \(part)") }
            bytes.append(high << 4 | low)
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else {
            throw ConnectionStringProblem(description: "\(part) is not UTF-8 once percent-decoded")
        }
        return decoded
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    // MARK: Keyword strings: keyword = value …, values unquoted or in '…' with \ escapes

    private static func parseKeywords(_ text: String) throws(ConnectionStringProblem) -> [ConnectionSetting] {
        var settings: [ConnectionSetting] = []
        var rest = Substring(text).drop { $0.isWhitespace }
        while !rest.isEmpty {
            let place = settings.last.map { "the text after \($0.keyword)=" } ?? "the text"
            let keyword = rest.prefix { !$0.isWhitespace && $0 != "=" }
            rest = rest[keyword.endIndex...].drop { $0.isWhitespace }
            guard rest.first == "=" else {
                throw ConnectionStringProblem(description: "\(place) is not keyword=value (quote a value that contains spaces)")
            }
            rest = rest.dropFirst().drop { $0.isWhitespace }
            guard knownKeywords.contains(String(keyword)) else {
                let setting = settings.last.map { "the setting after \($0.keyword)=" } ?? "the first setting"
                throw ConnectionStringProblem(description: "\(setting) is not a known keyword")
            }
            let value: String
            (value, rest) = try keywordValue(rest, of: String(keyword))
            settings.append(ConnectionSetting(keyword: String(keyword), value: value))
            rest = rest.drop { $0.isWhitespace }
        }
        return settings
    }

    /// The value at the start of `text` and the text after it.
    private static func keywordValue(_ text: Substring, of keyword: String) throws(ConnectionStringProblem)
        -> (String, Substring)
    {
        let quoted = text.first == "'"
        var value = ""
        var rest = quoted ? text.dropFirst() : text
        while let character = rest.first {
            rest = rest.dropFirst()
            if quoted ? character == "'" : character.isWhitespace { return (value, rest) }
            if character == "\\", let escaped = rest.first {
                value.append(escaped)
                rest = rest.dropFirst()
            } else {
                value.append(character)
            }
        }
        guard !quoted else { throw ConnectionStringProblem(description: "the quoted value of \(keyword)= has no closing quote") }
        return (value, rest)
    }

    private static func checkPorts(in settings: [ConnectionSetting]) throws(ConnectionStringProblem) {
        for setting in settings where setting.keyword == "port" {
            let ports = setting.value.split(separator: ",", omittingEmptySubsequences: false)
            guard ports.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }) else {
                throw ConnectionStringProblem(description: "the port is not a number")
            }
        }
    }
}
