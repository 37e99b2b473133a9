import Foundation
import HTTPTypes
import Synchronization

/// The Microsoft identity platform's token endpoint for the client credentials grant, and the
/// access tokens it issued.
///
/// `POST /{tenant}/oauth2/v2.0/token` with `client_id`, `client_secret`, `scope=<resource>/.default`
/// and `grant_type=client_credentials` answers `{"token_type":"Bearer","expires_in":N,"ext_expires_in":N,
/// "access_token":"…"}`; a wrong client, secret or scope answers the documented error JSON with its
/// `AADSTS` code.
public final class TokenIssuer: Sendable {
    private let clientID: String
    private let clientSecret: String
    private let lifetime: TimeInterval
    private let tokens = Mutex<[String: (client: String, expires: Date)]>([:])

    /// An issuer that knows one application, its secret, and issues tokens valid for `lifetime` seconds.
    public init(clientID: String, clientSecret: String, lifetime: TimeInterval) {
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.lifetime = lifetime
    }

    /// The client a bearer token belongs to, or nil when it is unknown or expired.
    public func client(forAuthorization header: String?) -> String? {
        guard let header, header.lowercased().hasPrefix("bearer ") else { return nil }
        let token = String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
        return tokens.withLock { tokens in
            guard let entry = tokens[token] else { return nil }
            guard entry.expires > Date() else {
                tokens[token] = nil
                return nil
            }
            return entry.client
        }
    }

    /// Makes every token issued so far expired.
    public func expireAll() {
        tokens.withLock { $0.removeAll() }
    }

    /// Answers a token request for `tenant`; `resource` is the only resource whose `/.default` scope is valid.
    public func answer(tenant: String, body: [UInt8], resource: String) -> EmulatorResponse {
        let form = Dictionary(EmulatorRequest.parseQuery(String(decoding: body, as: UTF8.self))) { first, _ in first }
        if let refusal = refusal(form, tenant: tenant, resource: resource) { return refusal }
        let token = Self.newToken()
        let now = Date()
        tokens.withLock { tokens in
            if tokens.count > 10_000 { tokens = tokens.filter { $0.value.expires > now } }
            tokens[token] = (clientID, now.addingTimeInterval(lifetime))
        }
        let seconds = JSONValue.number(String(Int(lifetime)))
        return .json(
            .ok,
            .object([
                ("token_type", .string("Bearer")), ("expires_in", seconds), ("ext_expires_in", seconds),
                ("access_token", .string(token)),
            ]),
            headers: [("Cache-Control", "no-store, no-cache"), ("Pragma", "no-cache")])
    }

    /// The documented error for a request that gets no token, checked in the identity platform's order:
    /// grant type, application, secret, scope.
    private func refusal(_ form: [String: String], tenant: String, resource: String) -> EmulatorResponse? {
        guard form["grant_type"] == "client_credentials" else {
            return error(.badRequest, "unsupported_grant_type", 70003, "The app requested an unsupported grant type '\(form["grant_type"] ?? "")'.")
        }
        guard form["client_id"] == clientID else {
            return error(
                .badRequest, "unauthorized_client", 700016,
                "Application with identifier '\(form["client_id"] ?? "")' was not found in the directory '\(tenant)'. This can "
                    + "happen if the application has not been installed by the administrator of the tenant or consented to by any "
                    + "user in the tenant. You may have sent your authentication request to the wrong tenant.")
        }
        guard let secret = form["client_secret"], !secret.isEmpty else {
            return error(.unauthorized, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
        }
        guard Self.constantTimeEqual(secret, clientSecret) else {
            return error(
                .unauthorized, "invalid_client", 7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the "
                    + "client secret ID, for a secret added to app '\(clientID)'.")
        }
        let scope = form["scope"] ?? ""
        guard [resource + "/.default", resource + "//.default"].contains(scope) else {
            return error(.badRequest, "invalid_scope", 70011, "The provided value for the input parameter 'scope' isn't valid. The scope \(scope) isn't valid.")
        }
        return nil
    }

    /// The documented error JSON: `error`, `error_description` (beginning `AADSTS<code>:` and ending with the
    /// trace id, correlation id and timestamp), `error_codes`, `timestamp`, `trace_id`, `correlation_id`.
    private func error(_ status: HTTPResponse.Status, _ code: String, _ number: Int, _ message: String) -> EmulatorResponse {
        let traceID = UUID().uuidString.lowercased()
        let correlationID = UUID().uuidString.lowercased()
        let timestamp = Self.timestamp.string(from: Date())
        let description = "AADSTS\(number): \(message)\r\nTrace ID: \(traceID)\r\nCorrelation ID: \(correlationID)\r\nTimestamp: \(timestamp)"
        let body: JSONValue = .object([
            ("error", .string(code)), ("error_description", .string(description)), ("error_codes", .array([.number(String(number))])),
            ("timestamp", .string(timestamp)), ("trace_id", .string(traceID)), ("correlation_id", .string(correlationID)),
            ("error_uri", .string("https://login.microsoftonline.com/error?code=\(number)")),
        ])
        return EmulatorResponse(status: status, headers: [("Cache-Control", "no-store, no-cache")], body: body.serialized, contentType: "application/json; charset=utf-8")
    }

    private static let timestamp: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss'Z'"
        return formatter
    }()

    private static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return "emulator." + Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    private static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
