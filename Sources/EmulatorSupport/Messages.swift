import Foundation
import HTTPTypes

/// An emulated API request as the dispatcher sees it, whether it came over HTTP or inside a `$batch`.
public struct EmulatorRequest: Sendable {
    /// The method.
    public var method: HTTPRequest.Method
    /// The resource path after the service root, percent-decoded (`accounts(…)`, `$batch`).
    public var resource: String
    /// The query options, decoded, in order.
    public var query: [(String, String)]
    /// The headers, names lowercased.
    public var headers: [(String, String)]
    /// The body.
    public var body: [UInt8]

    /// A request.
    public init(method: HTTPRequest.Method, resource: String, query: [(String, String)], headers: [(String, String)], body: [UInt8]) {
        self.method = method
        self.resource = resource
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// The first header called `name` (lowercase).
    public func header(_ name: String) -> String? { headers.first { $0.0 == name }?.1 }

    /// All values of headers called `name` (lowercase).
    public func headerValues(_ name: String) -> [String] { headers.filter { $0.0 == name }.map(\.1) }

    /// The query option called `name`.
    public func option(_ name: String) -> String? { query.first { $0.0 == name }?.1 }

    /// The query options but `dropped`, percent-encoded again as `name=value` for a link (`$` kept).
    public func linkQuery(dropping dropped: Set<String>) -> [String] {
        query.filter { !dropped.contains($0.0) }.map { name, value in
            (name.hasPrefix("$") ? "$" + percentEncoded(String(name.dropFirst())) : percentEncoded(name)) + "=" + percentEncoded(value)
        }
    }

    /// The `Prefer` preferences, by name (lowercase), with their values (unquoted).
    public var preferences: [String: String] {
        var result: [String: String] = [:]
        for value in headerValues("prefer") {
            for item in Self.splitOutsideQuotes(value, separator: ",") {
                let parts = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard let name = parts.first, !name.isEmpty else { continue }
                let raw = parts.count > 1 ? parts[1] : ""
                result[name.lowercased()] = raw.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
        }
        return result
    }

    /// Splits a comma-separated list at the commas outside parentheses (`a($select=x,y),b`).
    public static func splitOutsideParentheses(_ text: String) -> [String] {
        split(text, at: ",") { depth, character in
            if character == "(" { depth += 1 }
            if character == ")" { depth -= 1 }
        }
    }

    /// Splits at `separator` where it is not inside double quotes.
    public static func splitOutsideQuotes(_ text: String, separator: Character) -> [String] {
        split(text, at: separator) { depth, character in
            if character == "\"" { depth = depth == 0 ? 1 : 0 }
        }
    }

    /// Splits `text` at each `separator` met while the nesting `track` keeps (from 0) is 0; the
    /// parts trimmed, empty ones dropped.
    private static func split(_ text: String, at separator: Character, tracking track: (inout Int, Character) -> Void) -> [String] {
        var parts: [String] = []
        var current = ""
        var depth = 0
        for character in text {
            track(&depth, character)
            if character == separator, depth == 0 {
                parts.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        parts.append(current)
        return parts.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// Parses a raw query string: `+` is a space, `%XX` decoded.
    public static func parseQuery(_ raw: String) -> [(String, String)] {
        raw.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            let name = decode(parts[0])
            return (name, parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    /// Percent-decodes, `+` as a space.
    public static func decode(_ text: String) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}

/// An emulated API response before it is written to HTTP or into a `$batch` part.
public struct EmulatorResponse: Sendable {
    /// The status.
    public var status: HTTPResponse.Status
    /// The headers (besides `OData-Version`, which every response carries).
    public var headers: [(String, String)] = []
    /// The body text, if any.
    public var body: String?
    /// The body's content type.
    public var contentType: String? = nil

    /// A response.
    public init(status: HTTPResponse.Status, headers: [(String, String)] = [], body: String? = nil, contentType: String? = nil) {
        self.status = status
        self.headers = headers
        self.body = body
        self.contentType = contentType
    }

    /// A JSON response.
    public static func json(_ status: HTTPResponse.Status, _ value: JSONValue, headers: [(String, String)] = []) -> EmulatorResponse {
        EmulatorResponse(status: status, headers: headers, body: value.serialized, contentType: "application/json; odata.metadata=minimal")
    }

    /// 204 No Content.
    public static func noContent(headers: [(String, String)] = []) -> EmulatorResponse {
        EmulatorResponse(status: .noContent, headers: headers)
    }
}

/// Percent-encodes text for a query option value in a link: what a URL cannot hold raw, and `&`, `+`, `#`,
/// `!`, `/` and `:` (as Dataverse's delta tokens show them); commas, quotes and parentheses stay.
public func percentEncoded(_ text: String) -> String {
    var allowed = CharacterSet.urlQueryAllowed
    allowed.remove(charactersIn: "&+#!/:;?@")
    return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
}
