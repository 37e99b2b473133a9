import FuzzInput
import Postgres

// The input is a connection string: a `postgres://` URL or libpq keywords.
fuzz { text in
    guard let configuration = try? PostgresConfiguration(text, source: "the fuzzed string") else { return }
    _ = configuration.description
    checkRewrite(of: configuration)
}

/// The keyword string that `replacingDatabase` writes parses back to the same settings.
func checkRewrite(of configuration: PostgresConfiguration) {
    let rewritten = configuration.replacingDatabase(with: "fuzz")
    let reread = try? PostgresConfiguration(rewritten.connectionString)
    expect(reread?.database == "fuzz", "the rewritten string names the new database")
    expect(reread?.user == configuration.user, "the rewritten string keeps the user")
    expect(reread?.host == configuration.host, "the rewritten string keeps the host")
    expect(reread?.port == configuration.port, "the rewritten string keeps the port")
    expect(reread?.containsPassword == configuration.containsPassword, "the rewritten string keeps the password")
}
