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

    /// The YAML document's root node, or nil (with the problem reported) when the text is not
    /// YAML; an empty document is nil without a problem.
    public mutating func compose(_ yaml: String) -> Node? {
        do {
            return try Yams.compose(yaml: yaml)
        } catch {
            let (place, message) = YAMLSyntax.locate(error, in: yaml)
            report(at: place, message)
            return nil
        }
    }
}

/// Where a YAML syntax error is, and how to say it.
enum YAMLSyntax {
    static func locate(_ error: any Error, in yaml: String) -> (FilePlace, String) {
        guard let error = error as? YamlError else { return (.start, "cannot read the YAML: \(error)") }
        switch error {
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
