import HTTPTypes

/// An error an emulated service answers with: an HTTP status, the service's error code and message,
/// and extra response headers (`Retry-After`, `WWW-Authenticate`). `Service` is a marker type naming
/// the service; each emulator gives its errors their codes, wording and body in an extension
/// constrained to its marker (`DataverseError`, `BusinessCentralError`).
public struct ServiceError<Service>: Error, Sendable, Equatable {
    /// The HTTP status.
    public var status: HTTPResponse.Status
    /// The service's error code, possibly empty.
    public var code: String
    /// The message.
    public var message: String
    /// Extra response headers.
    public var headers: [(String, String)] = []

    /// Makes an error.
    public init(_ status: HTTPResponse.Status, code: String, _ message: String, headers: [(String, String)] = []) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    /// Compares status, code and message.
    public static func == (lhs: ServiceError, rhs: ServiceError) -> Bool {
        lhs.status == rhs.status && lhs.code == rhs.code && lhs.message == rhs.message
    }
}
