/// Why a call to an OData service failed, naming the endpoint; never carries a secret, a token or a header.
public struct ODataError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: Sendable, Equatable {
        /// The service answered with an OData error body `{"error":{"code":…,"message":…}}` (Dataverse's
        /// `0x80040217`, Business Central's `BadRequest_NotFound`, `Request_EntityChanged`…).
        case service(status: Int, code: String, message: String)
        /// The service answered with a status the caller did not expect and no OData error body.
        case unexpectedStatus(status: Int, excerpt: String)
        /// The response is not what an OData service sends: an HTML page, a wrong content type, JSON that does not
        /// parse or ends early. `excerpt` is at most the first 200 printable characters of the body.
        case invalidResponse(status: Int, problem: String, excerpt: String)
        /// The body is longer than the configured bound; reading stopped there.
        case responseTooLarge(status: Int, limit: Int)
        /// The token endpoint refused the credentials: `code` is the `AADSTS…` code (or the OAuth `error`),
        /// `description` the first line of `error_description`.
        case tokenRefused(status: Int, code: String, description: String)
        /// The token endpoint answered with something that is neither a token nor an OAuth error.
        case tokenEndpointFailed(status: Int, problem: String)
        /// The connection failed or broke (refused, reset, closed early, TLS).
        case transport(String)
        /// No response came within the per-request timeout.
        case timedOut(after: Duration)
        /// Retrying stopped: `attempts` attempts or the total time budget spent; `last` is the last failure.
        case gaveUp(attempts: Int, last: String)
        /// The request cannot be sent as given (a URL off the service's host, a batch over its limit…).
        case invalidRequest(String)
        /// A `$batch` response does not match its request (part count, boundaries, Content-IDs).
        case invalidBatchResponse(String)
        /// A setting or secret is missing or unusable.
        case configuration(String)
    }

    /// The endpoint's name, as Couplet's configuration names it.
    public var endpoint: String
    /// What went wrong.
    public var kind: Kind

    /// Creates an error.
    public init(endpoint: String, _ kind: Kind) {
        self.endpoint = endpoint
        self.kind = kind
    }

    /// The HTTP status the failure came with, when there was a response.
    public var status: Int? {
        switch kind {
        case .service(let status, _, _), .unexpectedStatus(let status, _), .invalidResponse(let status, _, _),
             .responseTooLarge(let status, _), .tokenRefused(let status, _, _), .tokenEndpointFailed(let status, _):
            return status
        default:
            return nil
        }
    }

    /// Whether the same request could succeed if sent again later (a server error, the network, a timeout, a busy
    /// token endpoint).
    public var isTransient: Bool {
        switch kind {
        case .transport, .timedOut: return true
        case .service(let status, _, _), .unexpectedStatus(let status, _):
            return ODataRetryPolicy.retryableStatuses.contains(status)
        case .tokenEndpointFailed(let status, _):
            return status == 429 || ODataRetryPolicy.retryableStatuses.contains(status)
        case .invalidResponse(let status, _, _):
            return ODataRetryPolicy.retryableStatuses.contains(status)
        default:
            return false
        }
    }

    public var description: String {
        if case .tokenRefused = kind { return kindDescription }
        return "endpoint \(endpoint): " + kindDescription
    }

    private var kindDescription: String {
        switch kind {
        case .service(let status, let code, let message):
            return "the service answered \(status) \(code): \(message)"
        case .unexpectedStatus(let status, let excerpt):
            return "the service answered \(status)" + (excerpt.isEmpty ? "" : ": \(excerpt)")
        case .invalidResponse(let status, let problem, let excerpt):
            return "the response (status \(status)) is not usable: \(problem)" + (excerpt.isEmpty ? "" : "; it begins \"\(excerpt)\"")
        case .responseTooLarge(let status, let limit):
            return "the response (status \(status)) is larger than the limit of \(limit) bytes"
        case .tokenRefused(_, let code, let description):
            let detail = description.hasPrefix(code) ? description : "\(code): \(description)"
            return "the token endpoint refused endpoint \(endpoint)'s credentials: \(detail)"
        case .tokenEndpointFailed(let status, let problem):
            return "the token endpoint answered \(status): \(problem)"
        case .transport(let problem):
            return "the connection failed: \(problem)"
        case .timedOut(let after):
            return "no response within \(after)"
        case .gaveUp(let attempts, let last):
            return "gave up after \(attempts) attempts: \(last)"
        case .invalidRequest(let problem):
            return "the request cannot be sent: \(problem)"
        case .invalidBatchResponse(let problem):
            return "the $batch response does not match the request: \(problem)"
        case .configuration(let problem):
            return problem
        }
    }
}

/// Text of an untrusted body fit for an error message: the first `limit` printable characters, runs of whitespace
/// and control characters folded to one space.
enum BodyExcerpt {
    /// The excerpt of `bytes` (decoded as UTF-8, invalid sequences replaced).
    static func of(_ bytes: some Collection<UInt8>, limit: Int = 200) -> String {
        var excerpt = ""
        var count = 0
        var pendingSpace = false
        for character in String(decoding: bytes.prefix(limit * 4), as: UTF8.self) {
            guard count < limit else { break }
            if character.isWhitespace || character.unicodeScalars.contains(where: isControl) {
                pendingSpace = !excerpt.isEmpty
                continue
            }
            if pendingSpace, count + 1 < limit { excerpt.append(" "); count += 1 }
            pendingSpace = false
            excerpt.append(character)
            count += 1
        }
        return excerpt
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar == "\u{FFFD}"
    }
}
