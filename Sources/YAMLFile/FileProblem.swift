/// A place in a text file: 1-based line and column (columns count Unicode scalars, as libYAML does).
public struct FilePlace: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The 1-based line.
    public var line: Int
    /// The 1-based column, in Unicode scalars.
    public var column: Int

    /// The place at `line` and `column`.
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    /// The first character of a file, where problems without a better place are reported.
    public static let start = FilePlace(line: 1, column: 1)

    /// Earlier lines first, then earlier columns.
    public static func < (left: FilePlace, right: FilePlace) -> Bool {
        (left.line, left.column) < (right.line, right.column)
    }

    /// `line:column`.
    public var description: String { "\(line):\(column)" }
}

/// One problem at one place in a file, printed like a compiler diagnostic.
public struct FileProblem: Sendable, Equatable, CustomStringConvertible {
    /// Whether the problem stops the file from being used.
    public enum Severity: String, Sendable, Equatable {
        /// The file cannot be used as it is.
        case error
        /// The file can be used, but something in it probably does not do what was meant.
        case warning
    }

    /// The file's name, as the reader was given it.
    public var file: String
    /// The 1-based line.
    public var line: Int
    /// The 1-based column, in Unicode scalars.
    public var column: Int
    /// What is wrong.
    public var message: String
    /// An error or a warning.
    public var severity: Severity

    /// Creates a problem at `file:line:column`, an error unless said otherwise.
    public init(file: String, line: Int, column: Int, message: String, severity: Severity = .error) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
        self.severity = severity
    }

    /// Creates a problem at `place` in `file`.
    public init(file: String, at place: FilePlace, _ message: String, severity: Severity = .error) {
        self.init(file: file, line: place.line, column: place.column, message: message, severity: severity)
    }

    /// Where the problem is.
    public var place: FilePlace { FilePlace(line: line, column: column) }

    /// `file:line:column: message` for errors, `file:line:column: warning: message` for warnings.
    public var description: String {
        "\(file):\(line):\(column): \(severity == .warning ? "warning: " : "")\(message)"
    }
}

/// Why a file was rejected: every problem found in it, each with its place.
public struct FileProblems: Error, Sendable, Equatable, CustomStringConvertible {
    /// One located problem.
    public typealias Problem = FileProblem

    /// Every problem, in the order of the file.
    public var problems: [FileProblem]

    /// An error listing `problems` in the order given.
    public init(problems: [FileProblem]) {
        self.problems = problems
    }

    /// `problems` sorted by line and column; problems at the same place keep the order they were found in.
    public static func inFileOrder(_ problems: [FileProblem]) -> [FileProblem] {
        problems.enumerated()
            .sorted { ($0.element.place, $0.offset) < ($1.element.place, $1.offset) }
            .map(\.element)
    }

    /// The problems that are errors.
    public var errors: [FileProblem] { problems.filter { $0.severity == .error } }

    /// The problems that are warnings.
    public var warnings: [FileProblem] { problems.filter { $0.severity == .warning } }

    /// One problem per line.
    public var description: String { problems.map(\.description).joined(separator: "\n") }
}
