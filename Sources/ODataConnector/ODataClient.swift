import AsyncHTTPClient
import Foundation
import Logging
import Metrics
import NIOCore

/// The HTTP client of one OData service: signs requests in with bearer tokens, keeps to the service protection
/// limits, retries what is safe to retry, and reads answers as untrusted input.
///
/// Give it an `HTTPClient` that does not follow redirects (`ODataClient.makeHTTPClient()`): a redirect is an error
/// here, so a bearer token never follows one to another host.
public final class ODataClient: Sendable {
    /// The service.
    public let service: ODataService
    /// The endpoint's limiter; its `statistics` are the endpoint's throttling read-outs.
    public let protection: ServiceProtection
    private let httpClient: HTTPClient
    private let tokenSource: any ODataTokenSource
    private let logger: Logger

    /// Creates a client; `protection` defaults to a new limiter with `service.protection`. Share one
    /// `ServiceProtection` between all clients of the same endpoint.
    public init(
        service: ODataService, httpClient: HTTPClient, tokenSource: any ODataTokenSource,
        protection: ServiceProtection? = nil, logger: Logger
    ) {
        self.service = service
        self.httpClient = httpClient
        self.tokenSource = tokenSource
        self.protection = protection ?? ServiceProtection(endpoint: service.name, limits: service.protection)
        var logger = logger
        logger[metadataKey: "endpoint"] = "\(service.name)"
        self.logger = logger
    }

    /// An `HTTPClient` for OData services: no redirects, `connect` as connection timeout.
    public static func makeHTTPClient(connectTimeout: Duration = .seconds(10)) -> HTTPClient {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.timeout.connect = .milliseconds(max(1, connectTimeout.clampedMilliseconds))
        configuration.decompression = .disabled
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Sends `request` and returns the service's successful answer.
    ///
    /// - Throws: `ODataError`, or `CancellationError` when the task is cancelled.
    public func send(_ request: ODataRequest) async throws -> ODataResponse {
        let url = try resolve(request.resource)
        var headers = request.headers.filter { !ODataClient.clientHeaders.contains($0.name.lowercased()) }
        if request.body != nil { headers.append(("Content-Type", "application/json")) }
        var prepared = PreparedRequest(
            method: request.method, url: url, headers: headers, body: request.body?.jsonBytes, isIdempotent: request.isIdempotent
        )
        prepared.timeout = request.timeout
        let response = try await exchange(prepared) { _ in false }
        return try ResponseReader(endpoint: service.name).odataResponse(response, expectsJSON: request.expectsJSON)
    }

    /// The bytes of the XML document `resource` (`$metadata`), at most `maximumBytes`.
    ///
    /// - Throws: `ODataError` (`invalidResponse` for a body that is not XML, `responseTooLarge` over the bound).
    public func xmlDocument(_ resource: String, maximumBytes: Int) async throws -> [UInt8] {
        var prepared = PreparedRequest(method: .get, url: try resolve(resource), headers: [], body: nil, isIdempotent: true)
        prepared.accept = "application/xml"
        let response = try await exchange(prepared) { _ in false }
        guard response.body.count <= maximumBytes else {
            throw ODataError(endpoint: service.name, .responseTooLarge(status: response.status, limit: maximumBytes))
        }
        guard let type = ResponseReader.mediaType(response.header("Content-Type")), type.hasSuffix("/xml") else {
            throw ODataError(endpoint: service.name, .invalidResponse(
                status: response.status, problem: "a document that is not XML", excerpt: BodyExcerpt.of(response.body)))
        }
        return response.body
    }

    /// The URL of `resource`: relative to the service root, or absolute on the service root's scheme, host and port.
    ///
    /// - Throws: `ODataError.Kind.invalidRequest` for an absolute URL elsewhere (a token never goes to another host).
    public func resolve(_ resource: String) throws -> URL {
        if resource.lowercased().hasPrefix("http://") || resource.lowercased().hasPrefix("https://") {
            guard let url = URL(string: resource), isOnServiceHost(url) else {
                throw ODataError(endpoint: service.name, .invalidRequest(
                    "\(BodyExcerpt.of(Array(resource.utf8))) is not on the service's host \(service.root.host ?? "")"))
            }
            return url
        }
        let relative = resource.hasPrefix("/") ? String(resource.dropFirst()) : resource
        guard let url = URL(string: service.root.absoluteString + relative) else {
            throw ODataError(endpoint: service.name, .invalidRequest("\(BodyExcerpt.of(Array(resource.utf8))) is not a valid URL path"))
        }
        return url
    }

    private func isOnServiceHost(_ url: URL) -> Bool {
        let root = service.root
        return url.scheme?.lowercased() == root.scheme?.lowercased()
            && url.host?.lowercased() == root.host?.lowercased()
            && effectivePort(url) == effectivePort(root)
    }

    private func effectivePort(_ url: URL) -> Int? {
        url.port ?? (url.scheme?.lowercased() == "https" ? 443 : 80)
    }

    // MARK: The exchange with retries

    /// The headers the client sets itself; a request's own are dropped.
    static let clientHeaders: Set<String> = ["authorization", "accept", "odata-version", "odata-maxversion", "content-type", "host"]

    /// A request ready to go out, apart from its token.
    struct PreparedRequest: Sendable {
        var method: ODataMethod
        var url: URL
        var headers: [(name: String, value: String)]
        var body: [UInt8]?
        var isIdempotent: Bool
        var timeout: Duration?
        /// The media type asked for.
        var accept = "application/json"
    }

    /// How one attempt ended.
    private enum Attempt {
        case answered(HTTPExchange.Response)
        case throttled(retryAfter: Duration?)
        case unauthorized(AccessToken, HTTPExchange.Response)
        /// Failed before the request left (getting a token): safe to retry whatever the request.
        case failedBeforeSending(ODataError)
        case failed(ODataError)

        /// How the attempt ended, as the `outcome` label of `couplet_connector_requests_total`: the
        /// response's status class (`2xx` … `5xx`, with `401` and `429` apart), or `failed` (no answer).
        var outcome: String {
            switch self {
            case .answered(let response): "\(response.status / 100)xx"
            case .throttled: "429"
            case .unauthorized: "401"
            case .failedBeforeSending, .failed: "failed"
            }
        }
    }

    /// The bookkeeping of one request's attempts.
    private struct RetryState {
        let started = ContinuousClock.now
        var failures = 0
        var throttles = 0
        var refreshedToken = false
    }

    /// Sends `request` until it gets an answer worth returning: a success, or an error status that `acceptsError`
    /// takes (a `$batch` error body) — retrying throttling, `5xx` and transport failures as the policy allows.
    func exchange(_ request: PreparedRequest, acceptsError: (HTTPExchange.Response) -> Bool) async throws -> HTTPExchange.Response {
        var state = RetryState()
        while true {
            let attempt = try await attemptOnce(request)
            switch attempt {
            case .answered(let response):
                if response.status < 300 || acceptsError(response) { return response }
                let error = ResponseReader(endpoint: service.name).error(for: response)
                try await handleFailure(error, request: request, state: &state, sent: true)
            case .throttled(let retryAfter):
                try await handleThrottling(retryAfter, state: &state)
            case .unauthorized(let token, let response):
                guard !state.refreshedToken else { throw ResponseReader(endpoint: service.name).error(for: response) }
                state.refreshedToken = true
                logger.info("the service refused the access token; refreshing it once")
                await tokenSource.invalidate(token)
            case .failedBeforeSending(let error):
                try await handleFailure(error, request: request, state: &state, sent: false)
            case .failed(let error):
                try await handleFailure(error, request: request, state: &state, sent: true)
            }
        }
    }

    /// Gets a token, then a permit of the endpoint's protection, then sends: the permit is taken right before the
    /// request leaves, so the bucket counts sends.
    private func attemptOnce(_ request: PreparedRequest) async throws -> Attempt {
        let token: AccessToken
        do {
            token = try await tokenSource.token()
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            return .failedBeforeSending(asODataError(error))
        }
        try await protection.acquire()
        let attempt = await send(request, token: token)
        await protection.release()
        Counter(label: "couplet_connector_requests_total", dimensions: [("endpoint", service.name), ("outcome", attempt.outcome)]).increment()
        return attempt
    }

    private func send(_ request: PreparedRequest, token: AccessToken) async -> Attempt {
        do {
            let response = try await HTTPExchange.exchange(
                httpRequest(request, token: token), with: httpClient, timeout: request.timeout ?? service.timeouts.request,
                maximumBytes: service.limits.maximumResponseBytes, endpoint: service.name
            )
            logger.debug("answered", metadata: ["method": "\(request.method.rawValue)", "url": "\(request.url.path)", "status": "\(response.status)"])
            switch response.status {
            case 429: return .throttled(retryAfter: response.header("Retry-After").flatMap { RetryAfter.parse($0) })
            case 401: return .unauthorized(token, response)
            default: return .answered(response)
            }
        } catch {
            return .failed(asODataError(error))
        }
    }

    private func asODataError(_ error: any Error) -> ODataError {
        if let error = error as? ODataError { return error }
        if error is CancellationError { return ODataError(endpoint: service.name, .transport("cancelled")) }
        return ODataError(endpoint: service.name, .transport("\(type(of: error))"))
    }

    private func handleThrottling(_ retryAfter: Duration?, state: inout RetryState) async throws {
        state.throttles += 1
        let pause = retryAfter ?? service.retry.backoff(beforeRetry: state.throttles)
        await protection.throttled(retryAfter: pause)
        logger.warning("throttled (429); the endpoint pauses", metadata: ["retry_after": "\(pause)"])
        guard state.throttles <= service.retry.maximumThrottledRetries,
              ContinuousClock.now + pause - state.started <= service.retry.maximumTotalTime
        else {
            throw ODataError(endpoint: service.name, .gaveUp(
                attempts: state.failures + state.throttles, last: "throttled (429) \(state.throttles) times"))
        }
    }

    /// Rethrows `error` unless the request may be sent again; otherwise waits the backoff.
    private func handleFailure(_ error: ODataError, request: PreparedRequest, state: inout RetryState, sent: Bool) async throws {
        try Task.checkCancellation()
        guard error.isTransient, request.isIdempotent || !sent else { throw error }
        state.failures += 1
        let attempts = state.failures + state.throttles
        let delay = service.retry.backoff(beforeRetry: state.failures)
        guard state.failures < service.retry.maximumAttempts,
              ContinuousClock.now + delay - state.started <= service.retry.maximumTotalTime
        else {
            throw ODataError(endpoint: service.name, .gaveUp(attempts: attempts, last: error.description))
        }
        logger.warning("retrying after a transient failure", metadata: ["failure": "\(error)", "backoff": "\(delay)"])
        try await Task.sleep(for: delay)
    }

    private func httpRequest(_ request: PreparedRequest, token: AccessToken) -> HTTPClientRequest {
        var http = HTTPClientRequest(url: request.url.absoluteString)
        http.method = .init(rawValue: request.method.rawValue)
        http.headers.add(name: "Authorization", value: "Bearer \(token.value)")
        http.headers.add(name: "Accept", value: request.accept)
        http.headers.add(name: "OData-MaxVersion", value: "4.0")
        http.headers.add(name: "OData-Version", value: "4.0")
        for header in request.headers { http.headers.add(name: header.name, value: header.value) }
        if let body = request.body { http.body = .bytes(ByteBuffer(bytes: body)) }
        return http
    }
}

/// The `Retry-After` header: delay-seconds or an HTTP date (a decimal fraction of seconds is taken too, capped at a day).
enum RetryAfter {
    /// The delay `value` asks for; `nil` when it is neither form. A date in the past is a zero delay.
    static func parse(_ value: String, now: Date = Date()) -> Duration? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Int(trimmed) { return seconds >= 0 ? .seconds(min(seconds, 86_400)) : nil }
        if let seconds = Double(trimmed), seconds.isFinite, seconds >= 0 { return .milliseconds(Int64(min(seconds, 86_400) * 1000)) }
        guard let date = httpDate(trimmed) else { return nil }
        let delay = date.timeIntervalSince(now)
        return .milliseconds(Int64(min(max(delay, 0), 86_400) * 1000))
    }

    static func httpDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: text) { return date }
        }
        return nil
    }
}
