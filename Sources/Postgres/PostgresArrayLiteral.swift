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
    static func parse(_ text: String) -> [String?]? {
        var characters = Substring(text)
        if characters.first == "[" {  // optional explicit bounds: [0:2]={...}
            guard let equals = characters.firstIndex(of: "=") else { return nil }
            characters = characters[characters.index(after: equals)...]
        }
        guard characters.first == "{", characters.last == "}" else { return nil }
        let body = characters.dropFirst().dropLast()
        if body.isEmpty { return [] }
        var elements: [String?] = []
        var current = ""
        var quoted = false, inQuotes = false, escaping = false
        for character in body {
            if escaping {
                current.append(character)
                escaping = false
            } else if character == "\\" {
                escaping = true
            } else if character == "\"" {
                inQuotes.toggle()
                quoted = true
            } else if character == "," && !inQuotes {
                elements.append(quoted || current != "NULL" ? current : nil)
                current = ""
                quoted = false
            } else if character == "{" && !inQuotes {
                return nil  // multi-dimensional arrays are not supported
            } else {
                current.append(character)
            }
        }
        guard !inQuotes, !escaping else { return nil }
        elements.append(quoted || current != "NULL" ? current : nil)
        return elements
    }
}
