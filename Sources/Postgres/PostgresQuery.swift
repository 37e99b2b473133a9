import Foundation

/// A SQL statement whose values are always bound parameters.
///
/// Write it as a string literal; every interpolated value becomes a `$n` parameter, so a value can
/// never be spliced into the SQL text:
///
/// ```swift
/// let rows = try await connection.query("SELECT id FROM couplet.jobs WHERE queue = \(queue) AND priority < \(limit)")
/// ```
///
/// Identifiers that come from configuration are interpolated as ``PostgresIdentifier`` and quoted;
/// another `PostgresQuery` can be interpolated as a fragment, its parameters renumbered. SQL text
/// from anywhere but a literal needs the explicitly named ``init(unsafeSQL:bindings:)``.
public struct PostgresQuery: Sendable, ExpressibleByStringInterpolation, CustomStringConvertible {
    enum Segment: Sendable {
        case sql(String)
        case binding(PostgresBinding)
        /// `$n` placeholders of an unsafe-SQL query, numbered from 1 within `sql`.
        case numbered(sql: String, bindings: [PostgresBinding])
    }

    private var segments: [Segment]

    /// Builds a query from a string literal with interpolated values and identifiers.
    public init(stringInterpolation: StringInterpolation) {
        segments = stringInterpolation.segments
    }

    /// Builds a query from a literal without interpolations.
    public init(stringLiteral value: String) {
        segments = [.sql(value)]
    }

    /// Wraps SQL text that was not written as a literal (a migration file, say), with its `$n`
    /// parameters. Only for trusted text: nothing here protects a value spliced into `sql`.
    public init(unsafeSQL sql: String, bindings: [PostgresBinding] = []) {
        segments = [.numbered(sql: sql, bindings: bindings)]
    }

    /// The SQL text with `$n` placeholders and the parameters to bind to them, in order.
    public func rendered() -> (sql: String, bindings: [PostgresBinding]) {
        var sql = ""
        var bindings: [PostgresBinding] = []
        for segment in segments {
            switch segment {
            case .sql(let text):
                sql += text
            case .binding(let binding):
                bindings.append(binding)
                sql += "$\(bindings.count)"
            case .numbered(let text, let own):
                sql += Self.renumber(text, own: own.count, by: bindings.count)
                bindings += own
            }
        }
        return (sql, bindings)
    }

    /// Shifts by `offset` the `$n` placeholders of trusted SQL text that refer to its own `count`
    /// parameters. Any other `$` text — a larger number, however long, or a dollar quote — stays as written.
    private static func renumber(_ sql: String, own count: Int, by offset: Int) -> String {
        guard offset > 0, count > 0 else { return sql }
        var result = ""
        var rest = Substring(sql)
        while let dollar = rest.firstIndex(of: "$") {
            result += rest[...dollar]
            let digits = rest[rest.index(after: dollar)...].prefix { $0.isASCII && $0.isNumber }
            if let number = Int(digits), number >= 1, number <= count {
                result += String(number + offset)
            } else {
                result += digits
            }
            rest = rest[digits.endIndex...]
        }
        return result + rest
    }

    /// Joins queries with a separator, e.g. a list of `VALUES` rows.
    public static func joined(_ parts: [PostgresQuery], separator: String) -> PostgresQuery {
        var result = PostgresQuery(segments: [])
        for (index, part) in parts.enumerated() {
            if index > 0 { result.segments.append(.sql(separator)) }
            result.segments += part.segments
        }
        return result
    }

    private init(segments: [Segment]) { self.segments = segments }

    /// The SQL text with placeholders; values are not shown.
    public var description: String { rendered().sql }

    /// Collects literal SQL, bound values, quoted identifiers and fragments.
    public struct StringInterpolation: StringInterpolationProtocol {
        var segments: [Segment] = []

        /// Reserves room for the literal and interpolations.
        public init(literalCapacity: Int, interpolationCount: Int) {
            segments.reserveCapacity(interpolationCount * 2 + 1)
        }

        /// Literal SQL from source code.
        public mutating func appendLiteral(_ literal: String) {
            segments.append(.sql(literal))
        }

        /// A value, bound as the next `$n` parameter.
        public mutating func appendInterpolation<Value: PostgresEncodable>(_ value: Value) {
            segments.append(.binding(PostgresBinding(value)))
        }

        /// An optional value, bound as the next `$n` parameter (NULL when nil).
        public mutating func appendInterpolation<Value: PostgresEncodable>(_ value: Value?) {
            segments.append(.binding(PostgresBinding(value)))
        }

        /// A prepared binding, bound as the next `$n` parameter.
        public mutating func appendInterpolation(_ binding: PostgresBinding) {
            segments.append(.binding(binding))
        }

        /// A quoted identifier from configuration.
        public mutating func appendInterpolation(_ identifier: PostgresIdentifier) {
            segments.append(.sql(identifier.quoted))
        }

        /// A comma-separated list of quoted identifiers.
        public mutating func appendInterpolation(_ identifiers: [PostgresIdentifier]) {
            segments.append(.sql(identifiers.map(\.quoted).joined(separator: ", ")))
        }

        /// Another query, inlined with its parameters renumbered.
        public mutating func appendInterpolation(_ fragment: PostgresQuery) {
            segments += fragment.segments
        }
    }
}

/// A SQL identifier (table, column, schema, channel) that comes from configuration, always quoted.
///
/// Creation refuses empty names, names with NUL characters and names longer than PostgreSQL's
/// 63-byte limit (which the server would silently truncate). Quoting doubles embedded quotes, so
/// `a"b` becomes `"a""b"` and no name can escape its quotes.
public struct PostgresIdentifier: Sendable, Hashable, CustomStringConvertible {
    /// The parts, e.g. `["couplet", "jobs"]` for a schema-qualified name.
    public let parts: [String]

    /// Validates a name, optionally qualified by a schema; `what` names it in the error.
    public init(_ name: String, schema: String? = nil, what: String = "identifier") throws(PostgresError) {
        for part in [schema, name].compactMap({ $0 }) {
            if part.isEmpty {
                throw PostgresError(.invalidConfiguration, message: "\(what) must not be empty")
            }
            if part.utf8.count > 63 {
                throw PostgresError(
                    .invalidConfiguration,
                    message: "\(what) \"\(part.prefix(20))…\" is longer than PostgreSQL's 63-byte limit")
            }
            if part.contains("\0") {
                throw PostgresError(.invalidConfiguration, message: "\(what) must not contain a NUL character")
            }
        }
        parts = [schema, name].compactMap { $0 }
    }

    /// Parses `name` or `schema.name` as written in configuration (unquoted, split at the one dot).
    public init(qualified text: String, what: String = "table") throws(PostgresError) {
        let pieces = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard pieces.count <= 2 else {
            throw PostgresError(.invalidConfiguration, message: "\(what) \"\(text)\" has more than one dot")
        }
        try self.init(pieces.last!, schema: pieces.count == 2 ? pieces[0] : nil, what: what)
    }

    /// The quoted form, e.g. `"couplet"."jobs"`.
    public var quoted: String {
        parts.map { "\"" + $0.escaping(["\""], with: "\"") + "\"" }.joined(separator: ".")
    }

    /// The unquoted, dotted form, for messages.
    public var description: String { parts.joined(separator: ".") }
}
