import Foundation

/// One page of the product's documentation — `README.md`, `SECURITY.md` or `docs/*.md` of the
/// repository these tests were built from — read as a reader reads it, so that a test of a page
/// tests what the page says today.
public struct DocumentationPage: Sendable {
    /// The path from the repository's root, e.g. `docs/sync.md`.
    public let path: String
    /// The whole text.
    public let text: String

    /// The repository's root folder.
    public static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The page at `path` (from the repository's root).
    public static func named(_ path: String) throws -> DocumentationPage {
        DocumentationPage(path: path, text: try String(contentsOf: repository.appending(path: path), encoding: .utf8))
    }

    /// `README.md`, `SECURITY.md` and every `docs/*.md`, in that order.
    public static func all() throws -> [DocumentationPage] {
        let docs = try FileManager.default.contentsOfDirectory(atPath: repository.appending(path: "docs").path)
            .filter { $0.hasSuffix(".md") }.sorted().map { "docs/" + $0 }
        return try (["README.md", "SECURITY.md"] + docs).map(named)
    }

    /// The page's lines, numbered from 1.
    private var numberedLines: [(number: Int, text: Substring)] {
        text.split(separator: "\n", omittingEmptySubsequences: false).enumerated().map { ($0.offset + 1, $0.element) }
    }

    /// Every fenced code block, in order.
    public var codeBlocks: [CodeBlock] {
        var blocks: [CodeBlock] = []
        var open: (line: Int, indent: Int, language: String, marker: String?, body: [String])?
        var previous = ""
        for (number, line) in numberedLines {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if var block = open {
                if trimmed == "```" {
                    blocks.append(CodeBlock(page: path, line: block.line, language: block.language, text: block.body.joined(separator: "\n"),
                                            marker: block.marker))
                    open = nil
                } else {
                    block.body.append(String(line.dropFirst(min(block.indent, line.prefix { $0 == " " }.count))))
                    open = block
                }
            } else if trimmed.hasPrefix("```") {
                open = (number, line.prefix { $0 == " " }.count, String(trimmed.dropFirst(3)), Self.marker(previous), [])
            }
            if !trimmed.isEmpty { previous = trimmed }
        }
        return blocks
    }

    /// The comment `<!-- text -->` on a line of its own, as `text`.
    private static func marker(_ line: String) -> String? {
        guard line.hasPrefix("<!--"), line.hasSuffix("-->") else { return nil }
        return line.dropFirst(4).dropLast(3).trimmingCharacters(in: .whitespaces)
    }

    /// The text outside fenced code blocks.
    public var prose: String {
        var inBlock = false
        return numberedLines.compactMap { _, line -> Substring? in
            if line.trimmingCharacters(in: .whitespaces).hasPrefix("```") {
                inBlock.toggle()
                return nil
            }
            return inBlock ? nil : line
        }.joined(separator: "\n")
    }

    /// The inline code spans of the prose (`` `like this` ``), their white space collapsed (a span may wrap).
    public var inlineCode: [String] {
        prose.matches(of: /`([^`]+)`/).map { String($0.output.1).split(whereSeparator: \.isWhitespace).joined(separator: " ") }
    }

    /// The part of the page under the heading `title` (any level), up to the next heading of the same
    /// level or above; nil when there is no such heading.
    public func section(_ title: String) -> DocumentationPage? {
        let lines = numberedLines.map(\.text)
        var inBlock = false
        let headings = lines.map { line -> (level: Int, title: String)? in
            if line.trimmingCharacters(in: .whitespaces).hasPrefix("```") { inBlock.toggle() }
            return inBlock ? nil : Self.heading(line)
        }
        guard let start = headings.firstIndex(where: { $0?.title == title }), let level = headings[start]?.level else { return nil }
        let end = headings[(start + 1)...].firstIndex { $0.map { $0.level <= level } ?? false } ?? lines.endIndex
        return DocumentationPage(path: path, text: lines[start..<end].joined(separator: "\n"))
    }

    /// A heading line's level and title.
    private static func heading(_ line: Substring) -> (level: Int, title: String)? {
        guard let match = line.wholeMatch(of: /(#{1,6}) +(.+)/) else { return nil }
        return (match.output.1.count, String(match.output.2).trimmingCharacters(in: .whitespaces))
    }

    /// The anchors its headings get on GitHub: lower-cased, punctuation dropped, spaces as hyphens, a
    /// repeated one numbered (`-1`, `-2`).
    public var anchors: Set<String> {
        var seen: [String: Int] = [:]
        var anchors: Set<String> = []
        for line in prose.split(separator: "\n", omittingEmptySubsequences: false) {
            guard let (_, title) = Self.heading(line) else { continue }
            let slug = String(title.lowercased().unicodeScalars.filter {
                CharacterSet.alphanumerics.contains($0) || $0 == " " || $0 == "-" || $0 == "_"
            }.map(Character.init)).replacingOccurrences(of: " ", with: "-")
            let count = seen[slug, default: 0]
            anchors.insert(count == 0 ? slug : "\(slug)-\(count)")
            seen[slug] = count + 1
        }
        return anchors
    }

    /// The targets of its Markdown links (`[text](target)`) outside code, in order.
    public var linkTargets: [String] {
        prose.replacing(/`[^`]*`/, with: "").matches(of: /\]\(([^)\s]+)\)/).map { String($0.output.1) }
    }
}

/// A fenced code block of a documentation page.
public struct CodeBlock: Sendable {
    /// The page's path.
    public let page: String
    /// The line of its opening fence.
    public let line: Int
    /// The fence's info string: `sql`, `sh`, `yaml`, or empty.
    public let language: String
    /// Its lines, without the fence's indentation.
    public let text: String
    /// The text of an HTML comment on the line before the fence (`<!-- own-databases: mappings.yaml -->`), if any.
    public let marker: String?

    /// `page:line`, for messages.
    public var location: String { "\(page):\(line)" }
}
