import DataverseEmulator
import Foundation
import NIOHTTP1
import Testing

/// A golden example taken from Microsoft's documentation: a sequence of steps, each SQL to run
/// or a request with the response the documentation shows.
///
/// File format (`Golden/*.http`): comment lines start with `#`; `### sql` opens SQL run against the
/// test database; `### request` opens `METHOD path` (relative to the service root), headers, a
/// blank line and a body; `### response` opens the status code, the headers that matter (a value of
/// `*` only requires the header) and the body. In paths and bodies `{{nextLink}}` and `{{deltaLink}}`
/// stand for the previous response's links, `{{etag}}` for its etag, and each target adds its own
/// (`{{company}}`); `[Organization URI]` in expectations is the emulator's URL. `### companies` lists
/// the Business Central emulator's companies (`Name=schema` lines); `### truncated` says the
/// documentation shortens its responses, so a response must hold the members shown and may hold more.
struct Golden {
    enum Step {
        case sql(String)
        case exchange(method: String, path: String, headers: [(String, String)], body: String?, status: Int, expectedHeaders: [(String, String)], expectedBody: String?)
    }

    let name: String
    let steps: [Step]
    /// The `### setup` SQL: the tables, created before the emulator starts.
    var setup = ""
    /// The `### companies` lines (`Name=schema`).
    var companies: [String] = []
    /// True under `### truncated`: the documented responses show only some members.
    var truncated = false

    /// Reads `Golden/<name>.http` from the test bundle.
    static func load(_ name: String) throws -> Golden {
        guard let url = Bundle.module.url(forResource: name, withExtension: "http", subdirectory: "Golden") else {
            throw HarnessError("no golden file \(name).http")
        }
        return try parse(String(contentsOf: url, encoding: .utf8), name: name)
    }

    static func parse(_ text: String, name: String) throws -> Golden {
        var sections: [(kind: String, lines: [String])] = []
        for line in text.components(separatedBy: "\n").map({ $0.hasSuffix("\r") ? String($0.dropLast()) : $0 }) {
            if line.hasPrefix("### ") {
                sections.append((String(line.dropFirst(4)).trimmingCharacters(in: .whitespaces), []))
            } else if !sections.isEmpty, !(line.hasPrefix("#") && sections.last?.kind != "request" && sections.last?.kind != "response") {
                sections[sections.count - 1].lines.append(line)
            }
        }
        var steps: [Step] = []
        var setup = ""
        var companies: [String] = []
        var truncated = false
        var index = 0
        while index < sections.count {
            let section = sections[index]
            switch section.kind {
            case "setup":
                setup += section.lines.joined(separator: "\n") + "\n"
                index += 1
            case "sql":
                steps.append(.sql(section.lines.joined(separator: "\n")))
                index += 1
            case "companies":
                companies += section.lines.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
                index += 1
            case "truncated":
                truncated = true
                index += 1
            case "request":
                guard index + 1 < sections.count, sections[index + 1].kind == "response" else { throw HarnessError("\(name): request without response") }
                let request = message(section.lines)
                let response = message(sections[index + 1].lines)
                let words = request.start.split(separator: " ", maxSplits: 1).map(String.init)
                guard words.count == 2, let status = Int(response.start.split(separator: " ").first ?? "") else {
                    throw HarnessError("\(name): bad start line '\(request.start)' / '\(response.start)'")
                }
                steps.append(.exchange(method: words[0], path: words[1], headers: request.headers, body: request.body, status: status, expectedHeaders: response.headers, expectedBody: response.body))
                index += 2
            default:
                throw HarnessError("\(name): unknown section '\(section.kind)'")
            }
        }
        return Golden(name: name, steps: steps, setup: setup, companies: companies, truncated: truncated)
    }

    /// Start line, headers up to the first blank line, then the body (nil when empty).
    private static func message(_ lines: [String]) -> (start: String, headers: [(String, String)], body: String?) {
        var lines = lines.drop { $0.trimmingCharacters(in: .whitespaces).isEmpty || $0.hasPrefix("#") }
        let start = lines.first ?? ""
        lines = lines.dropFirst()
        var headers: [(String, String)] = []
        while let line = lines.first, !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2 { headers.append((parts[0], parts[1])) }
            lines = lines.dropFirst()
        }
        // Comment lines (the next step's description) are no part of a body.
        let body = lines.filter { !$0.hasPrefix("# ") }.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        return (start, headers, body.isEmpty ? nil : body)
    }

    /// Runs the steps against `emulated`, checking each response; returns the replies.
    @discardableResult
    func run(on emulated: some GoldenTarget) async throws -> [Reply] {
        var replies: [Reply] = []
        var links: [String: String] = [:]
        for step in steps {
            switch step {
            case .sql(let script):
                try await sql(emulated, script)
            case let .exchange(method, path, headers, body, status, expectedHeaders, expectedBody):
                let resolve = { (text: String) in substitute(text, links: links, base: emulated.base, placeholders: emulated.placeholders) }
                let reply = try await emulated.send(
                    HTTPMethod(rawValue: method), resolve(path), headers: headers.map { ($0.0, resolve($0.1)) }, body: body.map(resolve),
                    token: nil)
                replies.append(reply)
                let label = "\(name): \(method) \(path)"
                #expect(reply.status == status, "\(label): status \(reply.status), body \(reply.body)")
                for (header, value) in expectedHeaders {
                    let actual = reply.header(header)
                    #expect(actual != nil, "\(label): no \(header) header")
                    if let actual, value != "*", !value.contains("[Organization") {
                        #expect(actual.lowercased().hasPrefix(value.lowercased()), "\(label): \(header) is '\(actual)', expected '\(value)'")
                    }
                }
                if let expectedBody {
                    if expectedBody.hasPrefix("--") {
                        try compareMultipart(expected: expectedBody, actual: reply, label: label, base: emulated.base)
                    } else if !expectedBody.hasPrefix("{") {
                        #expect(reply.body.trimmingCharacters(in: .whitespacesAndNewlines) == expectedBody, "\(label): body \(reply.body)")
                    } else {
                        let expected = try JSONValue.parse(expectedBody)
                        compareShape(expected, reply.json, path: label, base: emulated.base, truncated: truncated)
                    }
                }
                for key in ["@odata.nextLink", "@odata.deltaLink", "@odata.etag"] {
                    if let link = reply.json[key]?.stringValue { links[key] = link }
                }
            }
        }
        return replies
    }

    private func substitute(_ text: String, links: [String: String], base: String, placeholders: [(String, String)]) -> String {
        let linked = text.replacingOccurrences(of: "{{nextLink}}", with: links["@odata.nextLink"] ?? "")
            .replacingOccurrences(of: "{{deltaLink}}", with: links["@odata.deltaLink"] ?? "")
            .replacingOccurrences(of: "{{etag}}", with: links["@odata.etag"] ?? "")
            .replacingOccurrences(of: "{{environment}}", with: base)
        return placeholders.reduce(linked) { $0.replacingOccurrences(of: "{{\($1.0)}}", with: $1.1) }
    }
}

// MARK: Comparing

/// Compares JSON as the documentation's example shows it: the same members (in any order; when the
/// documentation is `truncated`, at least its members) and value kinds; strings equal except ids (any
/// guid), etags (any `W/"<n>"`), timestamps (any ISO 8601) and links (equal up to their token).
func compareShape(_ expected: JSONValue, _ actual: JSONValue, path: String, base: String, truncated: Bool = false) {
    switch (expected, actual) {
    case let (.object(expectedMembers), .object(actualMembers)):
        let expectedKeys = Set(expectedMembers.map(\.0))
        let actualKeys = Set(actualMembers.map(\.0))
        let keysMatch = truncated ? expectedKeys.isSubset(of: actualKeys) : expectedKeys == actualKeys
        #expect(keysMatch, "\(path): members \(actualKeys.sorted()) ≠ expected \(expectedKeys.sorted())")
        for (key, value) in expectedMembers {
            if let other = actual[key] { compareShape(value, other, path: path + "." + key, base: base, truncated: truncated) }
        }
    case let (.array(expectedElements), .array(actualElements)):
        #expect(expectedElements.count == actualElements.count, "\(path): \(actualElements.count) elements, expected \(expectedElements.count)")
        for (index, (a, b)) in zip(expectedElements, actualElements).enumerated() {
            compareShape(a, b, path: path + "[\(index)]", base: base, truncated: truncated)
        }
    case let (.string(a), .string(b)):
        compareStrings(a, b, path: path, base: base)
    case let (.number(a), .number(b)):
        #expect(Decimal(string: a) == Decimal(string: b), "\(path): \(b) ≠ expected \(a)")
    case (.null, .null):
        break
    case let (.bool(a), .bool(b)):
        #expect(a == b, "\(path): \(b) ≠ expected \(a)")
    default:
        Issue.record("\(path): \(actual.serialized) is not of the kind of expected \(expected.serialized)")
    }
}

private func compareStrings(_ expected: String, _ actual: String, path: String, base: String) {
    if expected.hasSuffix("<any>") {
        let prefix = String(expected.dropLast("<any>".count))
        #expect(actual.hasPrefix(prefix), "\(path): '\(actual)' does not begin '\(prefix)'")
        return
    }
    if isGUID(expected) { #expect(isGUID(actual), "\(path): '\(actual)' is not a guid"); return }
    if expected.hasPrefix("W/\"") { #expect(actual.hasPrefix("W/\"") && actual.hasSuffix("\""), "\(path): '\(actual)' is not an etag"); return }
    if isTimestamp(expected) { #expect(isTimestamp(actual), "\(path): '\(actual)' is not a timestamp"); return }
    if expected.contains("[Organization U") {
        let normalized = normalizeLink(expected.replacingOccurrences(of: "[Organization URI]", with: base).replacingOccurrences(of: "[Organization Uri]", with: base))
        #expect(normalizeLink(actual) == normalized, "\(path): '\(actual)' ≠ expected '\(normalized)'")
        return
    }
    #expect(expected == actual, "\(path): '\(actual)' ≠ expected '\(expected)'")
}

/// A link with its version made v9.2, its tokens' values and guids blanked.
func normalizeLink(_ link: String) -> String {
    var text = link.replacingOccurrences(of: "/v9.0/", with: "/v9.2/").replacingOccurrences(of: "/v9.1/", with: "/v9.2/")
    for token in ["$skiptoken=", "$deltatoken="] {
        if let range = text.range(of: token) {
            let end = text[range.upperBound...].firstIndex(of: "&") ?? text.endIndex
            text.replaceSubrange(range.upperBound..<end, with: "…")
        }
    }
    let pattern = try? NSRegularExpression(pattern: "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
    let range = NSRange(text.startIndex..., in: text)
    return pattern?.stringByReplacingMatches(in: text, range: range, withTemplate: "<guid>") ?? text
}

func isGUID(_ text: String) -> Bool { UUID(uuidString: text) != nil }

func isTimestamp(_ text: String) -> Bool {
    text.range(of: #"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?Z$"#, options: .regularExpression) != nil
}

/// One part of a multipart batch response: its headers, the inner status, inner headers and body; or a change set.
struct ResponsePart {
    var headers: [(String, String)]
    var status: Int
    var innerHeaders: [(String, String)]
    var body: String
    var changeSet: [ResponsePart]?
}

/// The parts of a batch response body (boundaries found from the text itself).
func parseMultipart(_ text: String) -> [ResponsePart] {
    let lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { scalars in
        String(scalars.last == "\r" ? scalars.dropLast() : scalars[...])
    }
    guard let first = lines.first(where: { $0.hasPrefix("--") }) else { return [] }
    return parts(lines, boundary: String(first.dropFirst(2)))
}

private func parts(_ lines: [String], boundary: String) -> [ResponsePart] {
    var chunks: [[String]] = []
    var current: [String]?
    for line in lines {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        if trimmed == "--" + boundary || trimmed == "--" + boundary + "--" {
            if let current { chunks.append(current) }
            current = trimmed.hasSuffix(boundary + "--") ? nil : []
        } else {
            current?.append(line)
        }
    }
    return chunks.map { chunk in
        var index = 0
        var headers: [(String, String)] = []
        while index < chunk.count, !chunk[index].trimmingCharacters(in: .whitespaces).isEmpty {
            let pair = chunk[index].split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2 { headers.append((pair[0].lowercased(), pair[1])) }
            index += 1
        }
        let rest = Array(chunk[min(index + 1, chunk.count)...])
        if let type = headers.first(where: { $0.0 == "content-type" })?.1, type.hasPrefix("multipart/mixed"),
            let range = type.range(of: "boundary=")
        {
            let inner = String(type[range.upperBound...]).trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
            return ResponsePart(headers: headers, status: 0, innerHeaders: [], body: "", changeSet: parts(rest, boundary: inner))
        }
        var body = rest.drop { $0.trimmingCharacters(in: .whitespaces).isEmpty }
        let statusLine = body.first ?? ""
        body = body.dropFirst()
        var innerHeaders: [(String, String)] = []
        while let line = body.first, !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let pair = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2 { innerHeaders.append((pair[0].lowercased(), pair[1])) }
            body = body.dropFirst()
        }
        let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") ?? 0
        return ResponsePart(
            headers: headers, status: status, innerHeaders: innerHeaders,
            body: body.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines), changeSet: nil)
    }
}

/// Compares a batch response with the documentation's: the same parts and change sets, statuses,
/// part headers, the inner headers the example shows, and bodies by shape.
func compareMultipart(expected: String, actual: Reply, label: String, base: String) throws {
    #expect(actual.header("Content-Type")?.hasPrefix("multipart/mixed; boundary=batchresponse_") == true, "\(label): content type \(actual.header("Content-Type") ?? "none")")
    let parts = parseMultipart(actual.body)
    #expect(!parts.isEmpty, "\(label): \(actual.status) \(actual.body)")
    compareParts(parseMultipart(expected), parts, label: label, base: base)
}

private func compareParts(_ expected: [ResponsePart], _ actual: [ResponsePart], label: String, base: String) {
    #expect(expected.count == actual.count, "\(label): \(actual.count) parts, expected \(expected.count)")
    for (index, (e, a)) in zip(expected, actual).enumerated() {
        let where_ = "\(label) part \(index + 1)"
        if let inner = e.changeSet {
            #expect(a.changeSet != nil, "\(where_): not a change set")
            compareParts(inner, a.changeSet ?? [], label: where_, base: base)
            continue
        }
        #expect(e.status == a.status, "\(where_): status \(a.status), expected \(e.status): \(a.body)")
        for (name, value) in e.headers {
            #expect(a.headers.first { $0.0 == name }?.1 == value, "\(where_): part header \(name)")
        }
        for (name, value) in e.innerHeaders where name != "req_id" {
            let found = a.innerHeaders.first { $0.0 == name }?.1
            #expect(found != nil, "\(where_): no \(name) header")
            if let found, name == "location" || name == "odata-entityid" {
                let expectedLink = normalizeLink(value.replacingOccurrences(of: "[Organization Uri]", with: base).replacingOccurrences(of: "[Organization URI]", with: base))
                #expect(normalizeLink(found) == expectedLink, "\(where_): \(name) \(found) ≠ \(expectedLink)")
            } else if let found, name != "content-length" {
                #expect(found == value, "\(where_): \(name) '\(found)' ≠ '\(value)'")
            }
        }
        if !e.body.isEmpty {
            if let expectedJSON = try? JSONValue.parse(e.body) {
                compareShape(expectedJSON, (try? JSONValue.parse(a.body)) ?? .null, path: where_, base: base)
            }
        }
    }
}
