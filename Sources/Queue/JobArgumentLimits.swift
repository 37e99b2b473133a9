import Postgres

/// How large and how deeply nested a job's arguments may be, checked before they are sent; the
/// database checks the same at every insert (migration 0012), whoever enqueues.
///
/// The size counts the bytes of the JSON text; the depth, nested arrays and objects, the
/// arguments' own object being the first level. Within the limits, a handler always decodes the
/// arguments it is given (the decoder gives up past 512 levels, with a misleading "not valid JSON").
public struct JobArgumentLimits: Sendable, Equatable {
    /// The size limit when the database's setting `couplet.max_job_args_bytes` is not set: 1 MiB.
    public static let defaultMaximumBytes = 1_048_576
    /// The deepest nesting of arrays and objects.
    public static let maximumDepth = 64

    /// The most bytes of JSON text.
    public var maximumBytes: Int

    /// Limits of `maximumBytes`, the default unless said otherwise.
    public init(maximumBytes: Int = defaultMaximumBytes) {
        self.maximumBytes = maximumBytes
    }

    /// The limits the coordination database enforces (its setting `couplet.max_job_args_bytes`).
    public static func enforced(on connection: PostgresConnection) async throws -> JobArgumentLimits {
        JobArgumentLimits(
            maximumBytes: try await connection.query("SELECT couplet.max_job_args_bytes()", name: "job args limit")
                .single().decode(Int.self, at: 0))
    }

    /// Throws when `json` is longer than `maximumBytes` or nests deeper than `maximumDepth`;
    /// the error says which, in the words the database uses.
    public func check(_ json: String) throws(JobArgumentsRefusal) {
        let size = json.utf8.count
        guard size <= maximumBytes else {
            throw JobArgumentsRefusal(
                message: "job args are \(size) bytes, more than the \(maximumBytes) that couplet.max_job_args_bytes allows")
        }
        guard !Self.nestsDeeper(json, than: Self.maximumDepth) else {
            throw JobArgumentsRefusal(message: "job args nest arrays and objects deeper than \(Self.maximumDepth) levels")
        }
    }

    /// Whether JSON text opens more than `depth` arrays and objects inside one another: brackets
    /// are counted outside strings, and nothing else is parsed.
    private static func nestsDeeper(_ json: String, than depth: Int) -> Bool {
        var open = 0
        var inString = false
        var escaped = false
        for byte in json.utf8 {
            if escaped {
                escaped = false
            } else if byte == UInt8(ascii: "\"") {
                inString.toggle()
            } else if inString {
                escaped = byte == UInt8(ascii: "\\")
            } else if byte == UInt8(ascii: "[") || byte == UInt8(ascii: "{") {
                open += 1
                if open > depth { return true }
            } else if byte == UInt8(ascii: "]") || byte == UInt8(ascii: "}") {
                open -= 1
            }
        }
        return false
    }
}

/// Job arguments beyond `JobArgumentLimits`, and which limit they break.
public struct JobArgumentsRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is too large, and the limit.
    public let message: String

    /// The message.
    public var description: String { message }
}
