import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Testing
@testable import ODataConnector

/// A request the scripted server received.
struct RecordedRequest: Sendable {
    var method: String
    var path: String
    var headers: [(name: String, value: String)]
    var body: [UInt8]
    var arrivedAt: ContinuousClock.Instant

    func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// The form fields of an `application/x-www-form-urlencoded` body.
    var formFields: [String: String] {
        var fields: [String: String] = [:]
        for pair in bodyText.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
            if parts.count == 2 { fields[parts[0]] = parts[1] }
        }
        return fields
    }
}

/// What the scripted server answers.
struct ScriptedResponse: Sendable {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    init(status: Int, headers: [(name: String, value: String)] = [], body: String = "") {
        self.status = status
        self.headers = headers
        self.body = Array(body.utf8)
    }

    static func json(_ body: String) -> ScriptedResponse {
        .json(200, body)
    }

    static func json(_ status: Int, _ body: String, headers: [(name: String, value: String)] = []) -> ScriptedResponse {
        ScriptedResponse(status: status, headers: [("Content-Type", "application/json; odata.metadata=minimal")] + headers, body: body)
    }

    static func token(_ value: String, expiresIn: Int = 3599) -> ScriptedResponse {
        .json(200, #"{"token_type":"Bearer","expires_in":\#(expiresIn),"ext_expires_in":\#(expiresIn),"access_token":"\#(value)"}"#)
    }
}

/// Counts and records what the server saw.
actor ServerLog {
    private(set) var requests: [RecordedRequest] = []
    private(set) var concurrent = 0
    private(set) var maximumConcurrent = 0

    func record(_ request: RecordedRequest) { requests.append(request) }
    func enter() { concurrent += 1; maximumConcurrent = max(maximumConcurrent, concurrent) }
    func leave() { concurrent -= 1 }

    func requests(under prefix: String) -> [RecordedRequest] { requests.filter { $0.path.hasPrefix(prefix) } }
    var tokenRequests: [RecordedRequest] { requests(under: "/auth/") }
    var apiRequests: [RecordedRequest] { requests(under: "/api/") }
}

/// A Hummingbird server on a loopback port chosen by the system, answering every request with `handler`.
enum TestServer {
    static func run<T: Sendable>(
        _ handler: @escaping @Sendable (RecordedRequest) async -> ScriptedResponse,
        log: ServerLog = ServerLog(),
        _ body: (URL) async throws -> T
    ) async throws -> T {
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            await log.enter()
            let bytes = try await request.body.collect(upTo: 16 * 1024 * 1024)
            let recorded = RecordedRequest(
                method: request.method.rawValue, path: request.uri.string,
                headers: [("Host", request.head.authority ?? "")] + request.headers.map { ($0.name.rawName, $0.value) }, body: Array(bytes.readableBytesView),
                arrivedAt: .now
            )
            await log.record(recorded)
            let scripted = await handler(recorded)
            await log.leave()
            var fields = HTTPFields()
            for header in scripted.headers {
                if let name = HTTPField.Name(header.name) { fields.append(HTTPField(name: name, value: header.value)) }
            }
            return Response(status: .init(code: scripted.status), headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: scripted.body)))
        }
        var serverLogger = Logger(label: "test-server")
        serverLogger.logLevel = .critical
        let app = Application(
            responder: responder,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in portContinuation.yield(channel.localAddress?.port ?? 0) },
            logger: serverLogger
        )
        let server = Task { try await app.runService() }
        defer { server.cancel() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        let root = try #require(URL(string: "http://127.0.0.1:\(port)/"))
        return try await body(root)
    }
}

/// Collects log messages and metadata, to prove what logs do not hold.
final class LogCapture: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []

    var text: String { lock.withLock { lines.joined(separator: "\n") } }

    func append(_ line: String) { lock.withLock { lines.append(line) } }

    func logger() -> Logger {
        var logger = Logger(label: "odata-test") { _ in CapturingHandler(capture: self) }
        logger.logLevel = .trace
        return logger
    }

    struct CapturingHandler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { $1 }
            capture.append("\(event.level) \(event.message) \(all)")
        }
    }
}

/// Builds clients of a scripted server: service root `<server>/api/data/v9.2/`, authority `<server>/auth/`.
struct TestSetup {
    static let secret = "s3cr3t-Value~With.Specials&=+"

    var retry = ODataRetryPolicy(maximumAttempts: 4, baseDelay: .milliseconds(5), maximumDelay: .milliseconds(40), maximumTotalTime: .seconds(10))
    var protection = ServiceProtectionLimits(requestsPerWindow: 1000, window: .seconds(1), maximumConcurrentRequests: 10)
    var limits = ODataLimits()
    var timeouts = ODataTimeouts(request: .seconds(5), connect: .seconds(1))
    var refresh = TokenRefreshPolicy()

    func service(_ server: URL) throws -> ODataService {
        let root = try #require(URL(string: "api/data/v9.2/", relativeTo: server)?.absoluteURL)
        let authority = try #require(URL(string: "auth/", relativeTo: server)?.absoluteURL)
        let credentials = ClientCredentials(
            tenant: "contoso.onmicrosoft.com", clientID: "535fb089-9ff3-47b6-9bfb-4f1264799865",
            secret: EndpointSecret(TestSetup.secret), resource: "https://org.crm.dynamics.com", authority: authority
        )
        return try ODataService(name: "crm", root: root, credentials: credentials, limits: limits, timeouts: timeouts,
                                retry: retry, protection: protection)
    }

    /// Runs `body` with a client of `server` and the token source it uses.
    func withClient<T>(
        _ server: URL, logger: Logger = Logger(label: "odata-test"),
        _ body: (ODataClient, ClientCredentialsTokenSource) async throws -> T
    ) async throws -> T {
        let service = try service(server)
        let http = ODataClient.makeHTTPClient(connectTimeout: timeouts.connect)
        let tokens = ClientCredentialsTokenSource(service: service, httpClient: http, refresh: refresh, logger: logger)
        let client = ODataClient(service: service, httpClient: http, tokenSource: tokens, logger: logger)
        do {
            let result = try await body(client, tokens)
            try await http.shutdown()
            return result
        } catch {
            try? await http.shutdown()
            throw error
        }
    }
}

/// Answers token requests with `token` and everything else with `api`.
func routing(token: @escaping @Sendable (RecordedRequest) async -> ScriptedResponse = { _ in .token("token-1") },
             api: @escaping @Sendable (RecordedRequest) async -> ScriptedResponse) -> @Sendable (RecordedRequest) async -> ScriptedResponse {
    { request in
        request.path.hasPrefix("/auth/") ? await token(request) : await api(request)
    }
}

/// Runs `body` expecting an `ODataError`, and returns it.
func expectODataError(_ body: () async throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) async throws -> ODataError {
    do {
        try await body()
    } catch let error as ODataError {
        return error
    }
    Issue.record("no error thrown", sourceLocation: sourceLocation)
    throw CancellationError()
}

/// A golden file's text.
func golden(_ name: String) throws -> String {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/\(name)")
    return try String(contentsOf: url, encoding: .utf8)
}
