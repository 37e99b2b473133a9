import Foundation

/// A secret (a client secret) read from the environment; its `description`, `debugDescription` and reflection are
/// redacted, so it can travel in configuration values that are logged or printed.
public struct EndpointSecret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    private let value: String

    /// Wraps a secret held by the caller (tests, an emulator).
    public init(_ value: String) {
        self.value = value
    }

    /// The secret itself, for the one place that sends it (the token request body).
    public func reveal() -> String { value }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "EndpointSecret(<redacted>)" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }

    /// Why a secret could not be read.
    public struct ReadError: Error, Sendable, CustomStringConvertible {
        /// What is wrong, naming variables and files but never their content.
        public var problem: String
        public var description: String { problem }
    }

    /// The variable that holds the secret of endpoint `name`: `COUPLET_ENDPOINT_<NAME>_SECRET`, the name upper-cased
    /// and every character other than a letter or digit written as `_`.
    public static func variableName(endpoint name: String) -> String {
        let upper = name.uppercased().unicodeScalars.map { scalar -> Character in
            (scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar))) ? Character(scalar) : "_"
        }
        return "COUPLET_ENDPOINT_\(String(upper))_SECRET"
    }

    /// The secret of endpoint `name` from `COUPLET_ENDPOINT_<NAME>_SECRET`, or from the file that
    /// `COUPLET_ENDPOINT_<NAME>_SECRET_FILE` names (one trailing newline, `\n` or `\r\n`, removed).
    ///
    /// - Throws: `ReadError` when neither or both variables are set, the file cannot be read, is larger than
    ///   `maximumFileBytes` (at most 1 MiB), or the secret is empty.
    public static func read(
        endpoint name: String,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        maximumFileBytes: Int = 64 * 1024
    ) throws(ReadError) -> EndpointSecret {
        let variable = variableName(endpoint: name)
        let fileVariable = variable + "_FILE"
        switch (environment[variable], environment[fileVariable]) {
        case (.some, .some):
            throw ReadError(problem: "both \(variable) and \(fileVariable) are set; set one")
        case (.some(let value), .none):
            guard !value.isEmpty else { throw ReadError(problem: "\(variable) is empty") }
            return EndpointSecret(value)
        case (.none, .some(let path)):
            return try readFile(path, variable: fileVariable, maximumBytes: min(max(0, maximumFileBytes), 1 << 20))
        case (.none, .none):
            throw ReadError(problem: "endpoint \(name) has no secret: set \(variable) or \(fileVariable)")
        }
    }

    private static func readFile(_ path: String, variable: String, maximumBytes: Int) throws(ReadError) -> EndpointSecret {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ReadError(problem: "\(variable) names \(path), which cannot be opened")
        }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.read(upToCount: maximumBytes + 1) ?? Data()
        } catch {
            throw ReadError(problem: "\(variable) names \(path), which cannot be read")
        }
        guard data.count <= maximumBytes else {
            throw ReadError(problem: "\(variable) names \(path), which is larger than \(maximumBytes) bytes")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ReadError(problem: "\(variable) names \(path), which is not UTF-8 text")
        }
        let secret = withoutTrailingNewline(text)
        guard !secret.isEmpty else { throw ReadError(problem: "\(variable) names \(path), which is empty") }
        return EndpointSecret(secret)
    }

    /// `text` without one final `\n` or `\r\n` (compared by scalars: Swift counts `\r\n` as one character).
    private static func withoutTrailingNewline(_ text: String) -> String {
        var scalars = Substring(text).unicodeScalars
        guard scalars.last == "\n" else { return text }
        scalars.removeLast()
        if scalars.last == "\r" { scalars.removeLast() }
        return String(scalars)
    }
}
