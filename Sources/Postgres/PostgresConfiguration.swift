import Foundation

/// Where and how to connect: a `postgres://` URL or a libpq keyword string (`host=… dbname=…`).
///
/// The string is parsed once, here; an invalid one is refused with the setting that is wrong and
/// none of its text. `description` shows user, host, port and database only, and every message
/// derived from libpq is scrubbed of every setting's value before it can reach an error or a log.
public struct PostgresConfiguration: Sendable, CustomStringConvertible {
    /// The full connection string, password included: hand it only to a child process's environment
    /// (`COUPLET_DATABASE_URL`), never to a log, an argument list or a message.
    public let connectionString: String
    /// The decoded settings, in order, as libpq receives them.
    let settings: [ConnectionSetting]

    /// Parses a connection string; an error names `source` (the variable or option it came from)
    /// and the part that is wrong, never any of the string's text.
    public init(_ connectionString: String, source: String = "the connection string") throws(PostgresError) {
        do {
            self.settings = try ConnectionStringParser.parse(connectionString)
        } catch {
            throw PostgresError(.invalidConfiguration, message: "\(source) is not a valid connection string: \(error)")
        }
        self.connectionString = connectionString
    }

    private init(settings: [ConnectionSetting]) {
        self.settings = settings
        self.connectionString = settings.map { "\($0.keyword)='\(Self.escapeKeywordValue($0.value))'" }.joined(separator: " ")
    }

    /// The configuration in the environment variable `variable`, or in the file that `variable_FILE`
    /// names (systemd credentials, Kubernetes secret mounts); nil when neither is set.
    public static func fromEnvironment(_ variable: String, in environment: [String: String]) throws(PostgresError)
        -> PostgresConfiguration?
    {
        let fileVariable = variable + "_FILE"
        switch (environment[variable].flatMap(\.nonEmpty), environment[fileVariable].flatMap(\.nonEmpty)) {
        case (nil, nil):
            return nil
        case (let text?, nil):
            return try PostgresConfiguration(text, source: variable)
        case (nil, let path?):
            return try PostgresConfiguration(readSecret(path, variable: fileVariable), source: fileVariable)
        case (_?, _?):
            throw PostgresError(.invalidConfiguration, message: "set \(variable) or \(fileVariable), not both")
        }
    }

    private static func readSecret(_ path: String, variable: String) throws(PostgresError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PostgresError(.invalidConfiguration, message: "\(variable) cannot be read: no readable file at \(path)")
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func value(of keyword: String) -> String? {
        settings.last { $0.keyword == keyword }.flatMap(\.value.nonEmpty)
    }

    /// The user name, if the string names one.
    public var user: String? { value(of: "user") }
    /// The host, if the string names one.
    public var host: String? { value(of: "host") ?? value(of: "hostaddr") }
    /// The port, if the string names one.
    public var port: String? { value(of: "port") }
    /// The database name, if the string names one.
    public var database: String? { value(of: "dbname") }
    /// True when the string itself carries a password (which a process list would show on a command line).
    public var containsPassword: Bool { value(of: "password") != nil }

    /// `user@host:port/database`, without the password.
    public var description: String {
        "\(user.map { $0 + "@" } ?? "")\(host ?? "localhost"):\(port ?? "5432")/\(database ?? user ?? "")"
    }

    /// The settings as libpq's environment variables (`PGHOST`, `PGPASSFILE`, …), for another libpq or
    /// libpq-compatible client (pgbench, asyncpg) started as a child process: the password travels in
    /// its environment, never on its command line. A setting with no such variable is refused.
    public func libpqEnvironment() throws(PostgresError) -> [String: String] {
        var environment: [String: String] = [:]
        for setting in settings {
            guard let variable = Self.environmentVariables[setting.keyword] else {
                throw PostgresError(
                    .invalidConfiguration, message: "the setting \(setting.keyword) has no libpq environment variable to pass it to another client")
            }
            environment[variable] = setting.value
        }
        return environment
    }

    /// libpq's documented environment variable for each connection setting that has one.
    private static let environmentVariables = [
        "host": "PGHOST", "hostaddr": "PGHOSTADDR", "port": "PGPORT", "dbname": "PGDATABASE", "user": "PGUSER",
        "password": "PGPASSWORD", "passfile": "PGPASSFILE", "channel_binding": "PGCHANNELBINDING",
        "service": "PGSERVICE", "options": "PGOPTIONS", "application_name": "PGAPPNAME", "sslmode": "PGSSLMODE",
        "sslnegotiation": "PGSSLNEGOTIATION", "sslcompression": "PGSSLCOMPRESSION", "sslcert": "PGSSLCERT",
        "sslkey": "PGSSLKEY", "sslrootcert": "PGSSLROOTCERT", "sslcrl": "PGSSLCRL", "sslcrldir": "PGSSLCRLDIR",
        "sslsni": "PGSSLSNI", "requirepeer": "PGREQUIREPEER", "require_auth": "PGREQUIREAUTH",
        "ssl_min_protocol_version": "PGSSLMINPROTOCOLVERSION", "ssl_max_protocol_version": "PGSSLMAXPROTOCOLVERSION",
        "gssencmode": "PGGSSENCMODE", "krbsrvname": "PGKRBSRVNAME", "gsslib": "PGGSSLIB",
        "connect_timeout": "PGCONNECT_TIMEOUT", "client_encoding": "PGCLIENTENCODING",
        "target_session_attrs": "PGTARGETSESSIONATTRS", "load_balance_hosts": "PGLOADBALANCEHOSTS",
    ]

    /// The same server with another database: for tools and tests that create databases.
    public func replacingDatabase(with database: String) -> PostgresConfiguration {
        PostgresConfiguration(settings: settings.filter { $0.keyword != "dbname" } + [ConnectionSetting(keyword: "dbname", value: database)])
    }

    /// A libpq message with every setting's value (and `secret`'s, a setting not kept here) replaced by
    /// `<keyword>`: libpq echoes values (a host, a user, a password pasted into the wrong setting), and
    /// none may reach an error or a log.
    func scrub(_ message: String, alsoHiding secret: ConnectionSetting? = nil) -> String {
        Self.replacing(settings + (secret.map { [$0] } ?? []), in: message)
    }

    /// The same server and database for another login: `user` replaces the user name, and any
    /// password or password file is dropped (the caller supplies the login's own password).
    func replacingCredentials(user: String) -> PostgresConfiguration {
        PostgresConfiguration(
            settings: settings.filter { !["user", "password", "passfile"].contains($0.keyword) } + [ConnectionSetting(keyword: "user", value: user)])
    }

    /// A server's message with the password replaced: the server never saw the other values' secrets.
    func scrubPassword(_ message: String) -> String {
        Self.replacing(settings.filter { $0.keyword == "password" }, in: message)
    }

    /// Replaces each value in one pass, longest first, so that a placeholder is never replaced again.
    private static func replacing(_ settings: [ConnectionSetting], in message: String) -> String {
        let candidates = settings.filter { !$0.value.isEmpty }.sorted { $0.value.count > $1.value.count }
        var result = ""
        var rest = Substring(message)
        while let character = rest.first {
            if let match = candidates.first(where: { rest.hasPrefix($0.value) }) {
                result += "<\(match.keyword)>"
                rest = rest.dropFirst(match.value.count)
            } else {
                result.append(character)
                rest = rest.dropFirst()
            }
        }
        return result
    }

    private static func escapeKeywordValue(_ value: String) -> String {
        value.escaping(["\\", "'"], with: "\\")
    }
}

extension String {
    fileprivate var nonEmpty: String? { isEmpty ? nil : self }
}
