import AsyncHTTPClient
import NIOCore

/// One HTTP request and its whole, bounded response, with transport failures turned into `ODataError`s.
enum HTTPExchange {
    /// A response head and its body.
    struct Response: Sendable {
        var status: Int
        var headers: [(name: String, value: String)]
        var body: [UInt8]

        /// The first value of header `name` (case-insensitive).
        func header(_ name: String) -> String? {
            headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
        }
    }

    /// Sends `request` and reads the answer, all within `timeout`.
    static func send(
        _ request: HTTPClientRequest, with client: HTTPClient, timeout: Duration, maximumBytes: Int, endpoint: String
    ) async throws -> (status: Int, body: [UInt8]) {
        let response = try await exchange(request, with: client, timeout: timeout, maximumBytes: maximumBytes, endpoint: endpoint)
        return (response.status, response.body)
    }

    /// Sends `request` and reads the answer with its headers, all within `timeout`.
    static func exchange(
        _ request: HTTPClientRequest, with client: HTTPClient, timeout: Duration, maximumBytes: Int, endpoint: String
    ) async throws -> Response {
        do {
            return try await withTimeout(timeout) {
                try await receive(request, with: client, timeout: timeout, maximumBytes: maximumBytes, endpoint: endpoint)
            }
        } catch let error as ODataError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch is TimeoutReached {
            throw ODataError(endpoint: endpoint, .timedOut(after: timeout))
        } catch let error as HTTPClientError {
            throw ODataError(endpoint: endpoint, transportKind(error, timeout: timeout))
        } catch {
            throw ODataError(endpoint: endpoint, .transport(String(describing: type(of: error)) + ": \(error)"))
        }
    }

    private static func receive(
        _ request: HTTPClientRequest, with client: HTTPClient, timeout: Duration, maximumBytes: Int, endpoint: String
    ) async throws -> Response {
        let response = try await client.execute(request, timeout: timeAmount(timeout))
        let status = Int(response.status.code)
        if let length = response.headers.first(name: "Content-Length").flatMap(Int.init), length > maximumBytes {
            throw ODataError(endpoint: endpoint, .responseTooLarge(status: status, limit: maximumBytes))
        }
        let buffer: ByteBuffer
        do {
            buffer = try await response.body.collect(upTo: maximumBytes)
        } catch is NIOTooManyBytesError {
            throw ODataError(endpoint: endpoint, .responseTooLarge(status: status, limit: maximumBytes))
        }
        let headers = response.headers.map { (name: $0.name, value: $0.value) }
        return Response(status: status, headers: headers, body: Array(buffer.readableBytesView))
    }

    private static func transportKind(_ error: HTTPClientError, timeout: Duration) -> ODataError.Kind {
        switch error {
        case .deadlineExceeded, .readTimeout, .writeTimeout:
            return .timedOut(after: timeout)
        default:
            return .transport("\(error)")
        }
    }

    private static func timeAmount(_ duration: Duration) -> TimeAmount {
        .milliseconds(max(1, duration.clampedMilliseconds))
    }

    private struct TimeoutReached: Error {}

    /// Runs `operation`, cancelling it and throwing `TimeoutReached` when `timeout` passes first.
    private static func withTimeout<T: Sendable>(_ timeout: Duration, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw TimeoutReached()
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { throw TimeoutReached() }
            return first
        }
    }
}

extension Duration {
    /// The duration in whole milliseconds, cut to 0…one day (no overflow whatever the value).
    var clampedMilliseconds: Int64 {
        let parts = components
        guard parts.seconds >= 0 else { return 0 }
        guard parts.seconds < 86_400 else { return 86_400_000 }
        return parts.seconds * 1000 + parts.attoseconds / 1_000_000_000_000_000
    }
}
