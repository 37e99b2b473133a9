import CLibPQ
import Foundation

/// Where and how to connect: a `postgres://` URL or a libpq keyword string (`host=… dbname=…`).
///
/// The text is kept private. `description` shows user, host, port and database only, and every
/// message derived from libpq is scrubbed of the password before it can reach an error or a log.
public struct PostgresConfiguration: Sendable, CustomStringConvertible {
    /// The full connection string, password included: hand it only to a child process's environment
    /// (`COUPLET_DATABASE_URL`), never to a log, an argument list or a message.
    public let connectionString: String
    private let options: [String: String]

    /// Validates a connection string with libpq's own parser; the error never repeats the string.
    public init(_ connectionString: String) throws(PostgresError) {
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let parsed = PQconninfoParse(connectionString, &errorMessage) else {
            let reason = errorMessage.map { String(cString: $0) } ?? "unreadable"
            PQfreemem(errorMessage)
            let scrubbed = Self.scrub(reason, secrets: Self.urlPasswords(in: connectionString))
            throw PostgresError(
                .invalidConfiguration,
                message: "invalid connection string: \(scrubbed.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        defer { PQconninfoFree(parsed) }
        var options: [String: String] = [:]
        var option = parsed
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val { options[String(cString: keyword)] = String(cString: value) }
            option += 1
        }
        self.connectionString = connectionString
        self.options = options
    }

    /// The user name, if the string names one.
    public var user: String? { options["user"] }
    /// The host, if the string names one.
    public var host: String? { options["host"] ?? options["hostaddr"] }
    /// The port, if the string names one.
    public var port: String? { options["port"] }
    /// The database name, if the string names one.
    public var database: String? { options["dbname"] }
    /// True when the string itself carries a password (which a process list would show on a command line).
    public var containsPassword: Bool { options["password"] != nil }

    /// `user@host:port/database`, without the password.
    public var description: String {
        "\(user.map { $0 + "@" } ?? "")\(host ?? "localhost"):\(port ?? "5432")/\(database ?? user ?? "")"
    }

    /// The same server with another database: for tools and tests that create databases.
    public func replacingDatabase(with database: String) -> PostgresConfiguration {
        var keywords = options.filter { $0.key != "dbname" }
        keywords["dbname"] = database
        let text = keywords.sorted { $0.key < $1.key }.map { "\($0.key)='\(Self.escapeKeywordValue($0.value))'" }
        // The keyword form was produced from values libpq already parsed, so it parses again.
        return try! PostgresConfiguration(text.joined(separator: " "))
    }

    /// Removes the password from a libpq message.
    func scrub(_ message: String) -> String {
        Self.scrub(message, secrets: [options["password"]].compactMap { $0 } + Self.urlPasswords(in: connectionString))
    }

    private static func scrub(_ message: String, secrets: [String]) -> String {
        secrets.filter { !$0.isEmpty }.reduce(message) { $0.replacingOccurrences(of: $1, with: "********") }
    }

    /// The password of `scheme://user:password@host`, as written and percent-decoded, even when the
    /// rest of the string does not parse.
    private static func urlPasswords(in text: String) -> [String] {
        guard let scheme = text.range(of: "://") else { return [] }
        let authorityEnd = text[scheme.upperBound...].firstIndex { $0 == "/" || $0 == "?" } ?? text.endIndex
        guard let at = text.range(of: "@", options: .backwards, range: scheme.upperBound..<authorityEnd),
            let colon = text.range(of: ":", range: scheme.upperBound..<at.lowerBound)
        else { return [] }
        let password = String(text[colon.upperBound..<at.lowerBound])
        return [password, password.removingPercentEncoding].compactMap { $0 }
    }

    private static func escapeKeywordValue(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
    }
}
