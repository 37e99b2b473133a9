import AsyncHTTPClient
import DataverseEmulator
import Foundation
import NIOCore
import NIOHTTP1
import Postgres
import PostgresTestSupport

/// One HTTP answer, read whole.
struct Reply: Sendable {
    let status: Int
    let headers: [(String, String)]
    let body: String

    /// The first header called `name` (case-insensitive).
    func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }

    /// The body as JSON (`.null` when it is not JSON).
    var json: JSONValue { (try? JSONValue.parse(body)) ?? .null }
}

/// An emulator running in-process over a test database, as the golden examples and `sql` use it.
protocol GoldenTarget: Sendable {
    /// `http://127.0.0.1:<port>`.
    var base: String { get }
    /// The test database it serves.
    var database: TestDatabase { get }
    /// Placeholders the golden files may use besides the links (`company` for `{{company}}`).
    var placeholders: [(String, String)] { get }
    /// Sends a request; `path` is relative to the service root unless it starts with `/` or `http`; a nil
    /// `token` sends the harness's token, `""` none.
    func send(_ method: HTTPMethod, _ path: String, headers: [(String, String)], body: String?, token: String?) async throws -> Reply
}

/// An emulator running in-process on a free port over a test database, with a client and a token.
struct Emulated: GoldenTarget {
    let emulator: DataverseEmulator
    let database: TestDatabase
    let accessToken: String
    static let secret = "emulator-test-secret"

    /// `http://127.0.0.1:<port>`.
    var base: String { emulator.environmentURL }

    /// None: the Dataverse golden files use only the links.
    var placeholders: [(String, String)] { [] }

    /// Asks the token endpoint for a token with the configured client.
    func fetchToken() async throws -> String {
        let reply = try await Self.requestToken(emulator: emulator, form: Self.tokenForm(emulator))
        guard let token = reply.json["access_token"]?.stringValue else { throw HarnessError("no token: \(reply.status) \(reply.body)") }
        return token
    }

    static func tokenForm(_ emulator: DataverseEmulator, secret: String = Emulated.secret, scope: String? = nil, client: String? = nil) -> String {
        let scope = scope ?? emulator.tokenResource + "/.default"
        let client = client ?? emulator.configuration.clientID
        return "client_id=\(formEncoded(client))&client_secret=\(formEncoded(secret))&scope=\(formEncoded(scope))&grant_type=client_credentials"
    }

    static func formEncoded(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    static func requestToken(emulator: DataverseEmulator, form: String) async throws -> Reply {
        try await send(
            .POST, emulator.tokenURL(), headers: [("Content-Type", "application/x-www-form-urlencoded")], body: form)
    }

    /// Sends a request; `path` is relative to the service root unless it starts with `/` or `http`.
    /// Without a `token` argument the harness's token is sent; pass `""` to send none.
    func send(
        _ method: HTTPMethod, _ path: String, headers: [(String, String)] = [], body: String? = nil, token: String? = nil
    ) async throws -> Reply {
        let url: String
        if path.hasPrefix("http") { url = path } else if path.hasPrefix("/") { url = base + path } else { url = emulator.serviceRoot + path }
        var all = headers
        let bearer = token ?? accessToken
        if !bearer.isEmpty { all.append(("Authorization", "Bearer \(bearer)")) }
        return try await Self.send(method, url, headers: all, body: body)
    }

    /// Sends a request to an absolute URL.
    static func send(_ method: HTTPMethod, _ url: String, headers: [(String, String)], body: String?) async throws -> Reply {
        var request = HTTPClientRequest(url: encodedURL(url))
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        let bytes = try await response.body.collect(upTo: 64 << 20)
        return Reply(
            status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) }, body: String(buffer: bytes))
    }

    /// Percent-encodes what a URL may not hold raw (spaces, quotes, brackets), keeping OData's punctuation.
    static func encodedURL(_ url: String) -> String {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "\"<>[]{}|\\^` +")
        allowed.insert(charactersIn: "%")
        return url.addingPercentEncoding(withAllowedCharacters: allowed) ?? url
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Creates a test database, runs `setup` in it, starts an emulator on a free port, fetches a token,
/// runs `body`, and stops the emulator.
func withEmulator<T: Sendable>(
    setup: String,
    configure: (inout DataverseEmulator.Configuration) -> Void = { _ in },
    _ body: (Emulated) async throws -> T
) async throws -> T {
    try await TestDatabase.with { database in
        let connection = try await database.connect()
        try await connection.runScript(setup, name: "emulator test setup")
        connection.close()
        return try await withEmulator(on: database, configure: configure, body)
    }
}

/// Starts an emulator over an existing test database, fetches a token, runs `body`, and stops the emulator.
func withEmulator<T: Sendable>(
    on database: TestDatabase,
    configure: (inout DataverseEmulator.Configuration) -> Void = { _ in },
    _ body: (Emulated) async throws -> T
) async throws -> T {
    var configuration = DataverseEmulator.Configuration(database: database.configuration, clientSecret: Emulated.secret)
    configure(&configuration)
    let emulator = DataverseEmulator(configuration: configuration)
    try await emulator.start()
    do {
        let reply = try await Emulated.requestToken(emulator: emulator, form: Emulated.tokenForm(emulator))
        guard let token = reply.json["access_token"]?.stringValue else { throw HarnessError("no token: \(reply.body)") }
        let result = try await body(Emulated(emulator: emulator, database: database, accessToken: token))
        await emulator.stop()
        return result
    } catch {
        await emulator.stop()
        throw error
    }
}

/// A batch body from parts (each already holding its part headers), with CRLF line ends.
func batchBody(boundary: String, _ parts: [String]) -> String {
    (parts.map { "--\(boundary)\r\n" + $0.replacingOccurrences(of: "\n", with: "\r\n") + "\r\n" }.joined() + "--\(boundary)--\r\n")
}

/// One `application/http` part holding `request` (its lines separated by \n).
func httpPart(_ request: String, contentID: String? = nil) -> String {
    "Content-Type: application/http\nContent-Transfer-Encoding: binary\n" + (contentID.map { "Content-ID: \($0)\n" } ?? "") + "\n" + request
}

/// A change set part holding `parts`.
func changeSetPart(boundary: String, _ parts: [String]) -> String {
    "Content-Type: multipart/mixed; boundary=\(boundary)\n\n" + parts.map { "--\(boundary)\n" + $0 + "\n" }.joined() + "--\(boundary)--"
}

/// Runs SQL against the emulated database.
func sql(_ emulated: some GoldenTarget, _ script: String) async throws {
    let connection = try await emulated.database.connect()
    defer { connection.close() }
    try await connection.runScript(script, name: "emulator test sql")
}
