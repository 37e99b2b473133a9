/// PostgreSQL's text form of one-dimensional arrays: `{1,2,NULL}`, `{"a b","c\"d"}`.
enum PostgresArrayLiteral {
    /// Formats elements (nil for NULL), quoting every non-NULL element.
    static func format(_ elements: [String?]) -> String {
        var bytes: [UInt8] = [UInt8(ascii: "{")]
        for (index, element) in elements.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            guard let element else {
                bytes.append(contentsOf: "NULL".utf8)
                continue
            }
            bytes.append(UInt8(ascii: "\""))
            for byte in element.utf8 {
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { bytes.append(UInt8(ascii: "\\")) }
                bytes.append(byte)
            }
            bytes.append(UInt8(ascii: "\""))
        }
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Parses a one-dimensional array literal into its elements (nil for NULL); nil if malformed.
    /// Reads Unicode scalars, as the server wrote bytes: an element that starts with a combining
    /// mark must not merge with the brace or quote before it.
    static func parse(_ text: String) -> [String?]? {
        var scalars = Substring(text).unicodeScalars
        if scalars.first == "[" {  // optional explicit bounds: [0:2]={...}
            guard let equals = scalars.firstIndex(of: "=") else { return nil }
            scalars = scalars[scalars.index(after: equals)...]
        }
        guard scalars.first == "{", scalars.last == "}" else { return nil }
        let body = scalars.dropFirst().dropLast()
        if body.isEmpty { return [] }
        var elements: [String?] = []
        var current = String.UnicodeScalarView()
        var quoted = false, inQuotes = false, escaping = false
        for scalar in body {
            if escaping {
                current.append(scalar)
                escaping = false
            } else if scalar == "\\" {
                escaping = true
            } else if scalar == "\"" {
                inQuotes.toggle()
                quoted = true
            } else if scalar == "," && !inQuotes {
                elements.append(element(current, quoted: quoted))
                current = String.UnicodeScalarView()
                quoted = false
            } else if scalar == "{" && !inQuotes {
                return nil  // multi-dimensional arrays are not supported
            } else {
                current.append(scalar)
            }
        }
        guard !inQuotes, !escaping else { return nil }
        elements.append(element(current, quoted: quoted))
        return elements
    }

    /// An element's text, or nil for an unquoted `NULL`.
    private static func element(_ scalars: String.UnicodeScalarView, quoted: Bool) -> String? {
        let text = String(scalars)
        return quoted || text != "NULL" ? text : nil
    }
}
