import Yams

/// Gathers the located problems found while one YAML file is read, so that a reader can go on
/// after a problem and report them all at once.
public struct ProblemCollector: Sendable {
    /// The file's name, printed in front of every problem.
    public let file: String
    /// Every problem reported so far, in the order reported.
    public private(set) var problems: [FileProblem] = []

    /// A collector for the file named `file`.
    public init(file: String) {
        self.file = file
    }

    /// Whether an error (not only warnings) was reported.
    public var hasErrors: Bool { problems.contains { $0.severity == .error } }

    /// Reports `message` at `node`, or at the start of the file when there is no node.
    public mutating func report(at node: Node?, _ message: String, severity: FileProblem.Severity = .error) {
        report(at: node?.place ?? .start, message, severity: severity)
    }

    /// Reports `message` at `place`.
    public mutating func report(at place: FilePlace, _ message: String, severity: FileProblem.Severity = .error) {
        problems.append(FileProblem(file: file, at: place, message, severity: severity))
    }

    /// Reports `error`'s message: at its own place for a `NodeValueError` that has one, else at `node`.
    public mutating func report(_ error: any Error, at node: Node) {
        let value = error as? NodeValueError
        report(at: value?.place ?? node.place, value?.message ?? "\(error)")
    }

    /// `read(node)`, or nil when there is no node or `read` throws; the error is reported at the
    /// node (at its own place for a `NodeValueError` that has one).
    public mutating func value<T>(_ node: Node?, _ read: (Node) throws -> T) -> T? {
        guard let node else { return nil }
        do {
            return try read(node)
        } catch {
            report(error, at: node)
            return nil
        }
    }

    /// The problems as an error in file order, or nil when there are none.
    public var error: FileProblems? {
        problems.isEmpty ? nil : FileProblems(problems: FileProblems.inFileOrder(problems))
    }

    /// The YAML document's root node, or nil (with the problems reported) when the text is not
    /// YAML or holds anchors and aliases; an empty document is nil without a problem.
    ///
    /// Anchors are refused before the document itself is composed, so that no alias is ever
    /// expanded: a few hundred bytes of aliases nested in aliases stand for gigabytes, and the
    /// YAML library hashes a mapping key that is an alias in full.
    public mutating func compose(_ yaml: String) -> Node? {
        do {
            let anchors = try YAMLAliases.anchors(in: yaml)
            for anchor in anchors { report(at: anchor.place, YAMLAliases.refusal(of: anchor.name)) }
            return anchors.isEmpty ? try Yams.compose(yaml: yaml) : nil
        } catch {
            let (place, message) = YAMLSyntax.locate(error, in: yaml)
            report(at: place, message)
            return nil
        }
    }
}

/// Anchors (`&name`) and aliases (`*name`), which Couplet's files do not take.
///
/// A copy of the text with every `*` replaced by `^` (one byte that also starts a plain scalar)
/// holds no alias, so composing it takes time in proportion to the text, and it shows every anchor
/// of the original: the replacement turns aliases into plain scalars and changes nothing else of
/// the structure up to the first alias. An alias can only refer to an anchor before it, so when
/// the copy shows no anchor, the original composes without expanding anything: an alias in it
/// refers to nothing and is refused as that.
enum YAMLAliases {
    /// Every anchor of `yaml`, in the order of the file; throws when the text is not YAML.
    static func anchors(in yaml: String) throws -> [(place: FilePlace, name: String)] {
        let parser = try Parser(yaml: yaml.replacingOccurrences(of: "*", with: "^"))
        // A node holds its anchor weakly; the parser keeps the anchors alive while it lives.
        return try withExtendedLifetime(parser) {
            try parser.singleRoot().map(anchors(under:)) ?? []
        }
    }

    /// Why an anchor is refused.
    static func refusal(of name: String) -> String {
        "anchor &\(name): \(unsupported) wherever *\(name) refers to it"
    }

    /// Why an alias that refers to no anchor is refused.
    static let aliasRefusal = "this alias refers to no anchor, and \(unsupported)"

    private static let unsupported = "anchors and aliases are not supported; write the value out"

    /// The anchors of `root` and the nodes in it, in the order of the file.
    private static func anchors(under root: Node) -> [(place: FilePlace, name: String)] {
        var anchored: [(place: FilePlace, name: String)] = []
        var pending = [root]
        while let node = pending.popLast() {
            if let anchor = node.anchor { anchored.append((node.place, anchor.rawValue)) }
            switch node {
            case .mapping(let mapping): pending += mapping.reversed().flatMap { [$0.value, $0.key] }
            case .sequence(let sequence): pending += sequence.reversed()
            case .scalar, .alias: break
            }
        }
        return anchored
    }
}

/// Where a YAML syntax error is, and how to say it.
enum YAMLSyntax {
    static func locate(_ error: any Error, in yaml: String) -> (FilePlace, String) {
        guard let error = error as? YamlError else { return (.start, "cannot read the YAML: \(error)") }
        switch error {
        case .composer(_, "found undefined alias", let mark, _):
            return (FilePlace(line: mark.line, column: mark.column), YAMLAliases.aliasRefusal)
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let during = context.map { " (\($0.text))" } ?? ""
            let hint = context?.text.contains("alias") == true ? "; quote values that start with *, as in cron: \"*/5 * * * *\"" : ""
            return (FilePlace(line: mark.line, column: mark.column), "invalid YAML: \(problem)\(during)\(hint)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { "\"\($0)\"" }.joined(separator: ", ")
            return (FilePlace(line: context.mark.line, column: context.mark.column), "the key \(keys) appears more than once in this mapping")
        case .reader(let problem, let offset, _, _):
            return (place(ofUTF8Offset: offset ?? 0, in: yaml), "invalid YAML: \(problem)")
        default:
            return (.start, "invalid YAML: \(error)")
        }
    }

    /// The line and column of a UTF-8 byte offset.
    private static func place(ofUTF8Offset offset: Int, in yaml: String) -> FilePlace {
        let before = yaml.utf8.prefix(offset)
        let line = before.count { $0 == UInt8(ascii: "\n") } + 1
        let lineStart = before.lastIndex(of: UInt8(ascii: "\n")).map { before.index(after: $0) } ?? before.startIndex
        let column = String(decoding: before[lineStart...], as: UTF8.self).unicodeScalars.count + 1
        return FilePlace(line: line, column: column)
    }
}

extension ProblemCollector {
    /// The value node of each key of `mapping` that names a case of `Key`; any other key is reported
    /// as unknown, with the known ones listed.
    public mutating func values<Key: RawRepresentable & CaseIterable & Hashable>(
        of mapping: Node.Mapping, keys: Key.Type
    ) -> [Key: Node] where Key.RawValue == String {
        var values: [Key: Node] = [:]
        for (key, value) in mapping {
            guard let known = key.string.flatMap(Key.init(rawValue:)) else {
                let expected = Key.allCases.map(\.rawValue).joined(separator: ", ")
                report(at: key, "unknown key \(key.summary); expected one of \(expected)")
                continue
            }
            values[known] = value
        }
        return values
    }

    /// Reports each key of `required` that `values` lacks, at `node`: `<what> is missing the required key <key>`.
    public mutating func require<Key: RawRepresentable & Hashable>(
        _ required: [Key], in values: [Key: Node], at node: Node, what: String
    ) where Key.RawValue == String {
        for key in required where values[key] == nil {
            report(at: node, "\(what) is missing the required key \(key.rawValue)")
        }
    }
}
