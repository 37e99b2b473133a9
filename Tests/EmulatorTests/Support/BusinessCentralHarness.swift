import BusinessCentralEmulator
import Foundation
import NIOHTTP1
import PostgresTestSupport

/// A Business Central emulator running in-process on a free port over a test database, with a token.
struct EmulatedBusinessCentral: GoldenTarget {
    let emulator: BusinessCentralEmulator
    let database: TestDatabase
    let accessToken: String
    static let secret = "bc-emulator-test-secret"

    /// `http://127.0.0.1:<port>`.
    var base: String { emulator.baseURL }

    /// `…/api/v2.0/`, where relative paths start.
    var root: String { emulator.apiRoot() }

    /// The first company's id.
    var companyID: String { emulator.configuration.companies.first.flatMap { emulator.companyID(named: $0.name) } ?? "" }

    /// `companies(<first company's id>)/`, the prefix of entity set paths.
    var company: String { "companies(\(companyID))/" }

    /// `{{company}}`: the first company's id.
    var placeholders: [(String, String)] { [("company", companyID)] }

    /// The token form for the configured client and resource (or the ones given).
    static func tokenForm(_ emulator: BusinessCentralEmulator, secret: String = secret, scope: String? = nil) -> String {
        let scope = scope ?? emulator.tokenResource + "/.default"
        return "client_id=\(Emulated.formEncoded(emulator.configuration.clientID))&client_secret=\(Emulated.formEncoded(secret))"
            + "&scope=\(Emulated.formEncoded(scope))&grant_type=client_credentials"
    }

    /// Asks the token endpoint for a new token.
    func fetchToken() async throws -> String {
        let reply = try await Emulated.send(
            .POST, emulator.tokenURL(), headers: [("Content-Type", "application/x-www-form-urlencoded")], body: Self.tokenForm(emulator))
        guard let token = reply.json["access_token"]?.stringValue else { throw HarnessError("no token: \(reply.status) \(reply.body)") }
        return token
    }

    /// Sends a request; `path` is relative to the API root unless it starts with `/` or `http`.
    func send(
        _ method: HTTPMethod, _ path: String, headers: [(String, String)] = [], body: String? = nil, token: String? = nil
    ) async throws -> Reply {
        let url: String
        if path.hasPrefix("http") { url = path } else if path.hasPrefix("/") { url = base + path } else { url = root + path }
        var all = headers
        let bearer = token ?? accessToken
        if !bearer.isEmpty { all.append(("Authorization", "Bearer \(bearer)")) }
        if body != nil, !all.contains(where: { $0.0.lowercased() == "content-type" }) { all.append(("Content-Type", "application/json")) }
        return try await Emulated.send(method, url, headers: all, body: body)
    }
}

/// Creates a test database, runs `setup` in it, starts a Business Central emulator on a free port, fetches
/// a token, runs `body`, and stops the emulator. The default company is `CRONUS USA, Inc.` on schema `public`.
func withBusinessCentral<T: Sendable>(
    setup: String,
    configure: (inout BusinessCentralEmulator.Configuration) -> Void = { _ in },
    _ body: (EmulatedBusinessCentral) async throws -> T
) async throws -> T {
    try await TestDatabase.with { database in
        let connection = try await database.connect()
        try await connection.runScript(setup, name: "emulator test setup")
        connection.close()
        var configuration = BusinessCentralEmulator.Configuration(database: database.configuration, clientSecret: EmulatedBusinessCentral.secret)
        configure(&configuration)
        let emulator = BusinessCentralEmulator(configuration: configuration)
        try await emulator.start()
        do {
            let reply = try await Emulated.send(
                .POST, emulator.tokenURL(), headers: [("Content-Type", "application/x-www-form-urlencoded")],
                body: EmulatedBusinessCentral.tokenForm(emulator))
            guard let token = reply.json["access_token"]?.stringValue else { throw HarnessError("no token: \(reply.body)") }
            let result = try await body(EmulatedBusinessCentral(emulator: emulator, database: database, accessToken: token))
            await emulator.stop()
            return result
        } catch {
            await emulator.stop()
            throw error
        }
    }
}

/// A customers table shaped like the API's customer resource (the properties the tests use), with a
/// number series for `number` and the enums `customerType` and `customerBlocked`.
let customerTables = """
    CREATE TYPE "customerType" AS ENUM ('Company', 'Person');
    CREATE TYPE "customerBlocked" AS ENUM (' ', 'Ship', 'Invoice', 'All');
    CREATE SEQUENCE customer_numbers START 10000 INCREMENT 10;
    CREATE TABLE customers (
      id uuid PRIMARY KEY, number varchar(20) NOT NULL UNIQUE DEFAULT nextval('customer_numbers')::text,
      "displayName" varchar(100) NOT NULL, type "customerType" NOT NULL DEFAULT 'Company',
      city varchar(30) NOT NULL DEFAULT '', "creditLimit" numeric(18,2) NOT NULL DEFAULT 0 CHECK ("creditLimit" >= 0),
      "taxLiable" boolean NOT NULL DEFAULT false, "firstOrderDate" date, "currencyId" uuid,
      blocked "customerBlocked" NOT NULL DEFAULT ' ', "lastModifiedDateTime" timestamptz NOT NULL DEFAULT now());
    """
