import Foundation
import HTTPTypes

/// A Web API request as the dispatcher sees it, whether it came over HTTP or inside a `$batch`.
struct APIRequest: Sendable {
    /// The method.
    var method: HTTPRequest.Method
    /// The resource path after `/api/data/v9.2/`, percent-decoded (`accounts(…)`, `$batch`).
    var resource: String
    /// The query options, decoded, in order.
    var query: [(String, String)]
    /// The headers, names lowercased.
    var headers: [(String, String)]
    /// The body.
    var body: [UInt8]

    /// The first header called `name` (lowercase).
    func header(_ name: String) -> String? { headers.first { $0.0 == name }?.1 }

    /// All values of headers called `name` (lowercase).
    func headerValues(_ name: String) -> [String] { headers.filter { $0.0 == name }.map(\.1) }

    /// The query option called `name`.
    func option(_ name: String) -> String? { query.first { $0.0 == name }?.1 }

    /// The `Prefer` preferences, by name (lowercase), with their values (unquoted).
    var preferences: [String: String] {
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
    static func splitOutsideParentheses(_ text: String) -> [String] {
        split(text, at: ",") { depth, character in
            if character == "(" { depth += 1 }
            if character == ")" { depth -= 1 }
        }
    }

    /// Splits at `separator` where it is not inside double quotes.
    static func splitOutsideQuotes(_ text: String, separator: Character) -> [String] {
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
    static func parseQuery(_ raw: String) -> [(String, String)] {
        raw.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            let name = decode(parts[0])
            return (name, parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    /// Percent-decodes, `+` as a space.
    static func decode(_ text: String) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}

/// A Web API response before it is written to HTTP or into a `$batch` part.
struct APIResponse: Sendable {
    /// The status.
    var status: HTTPResponse.Status
    /// The headers (besides `OData-Version`, which every response carries).
    var headers: [(String, String)] = []
    /// The body text, if any.
    var body: String?
    /// The body's content type.
    var contentType: String? = nil

    /// A JSON response.
    static func json(_ status: HTTPResponse.Status, _ value: JSONValue, headers: [(String, String)] = []) -> APIResponse {
        APIResponse(status: status, headers: headers, body: value.serialized, contentType: "application/json; odata.metadata=minimal")
    }

    /// A response for an error, with the `REQ_ID` header the batch documentation's error examples show.
    static func error(_ error: DataverseError) -> APIResponse {
        json(error.status, error.body, headers: error.headers + [("REQ_ID", UUID().uuidString.lowercased())])
    }

    /// 204 No Content.
    static func noContent(headers: [(String, String)] = []) -> APIResponse {
        APIResponse(status: .noContent, headers: headers)
    }
}

/// Percent-encodes text for a query option value in a link: what a URL cannot hold raw, and `&`, `+`, `#`,
/// `!`, `/` and `:` (as Dataverse's delta tokens show them); commas, quotes and parentheses stay.
func percentEncoded(_ text: String) -> String {
    var allowed = CharacterSet.urlQueryAllowed
    allowed.remove(charactersIn: "&+#!/:;?@")
    return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
}
