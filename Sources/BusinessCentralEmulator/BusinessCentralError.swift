import EmulatorSupport
import Foundation
import HTTPTypes

/// An error the API answers with: an HTTP status and Business Central's `{"error":{"code","message"}}`
/// body, the message ending with a correlation id as the service's do.
///
/// The codes are those of the API's error code table (`BadRequest_NotFound`, `Request_EntityChanged`,
/// `BadRequest_InvalidToken`, `Internal_EntityWithSameKeyExists`, …); see docs/emulator.md.
public typealias BusinessCentralError = ServiceError<BusinessCentralService>

/// Marks the Business Central API's errors.
public enum BusinessCentralService {}

extension ServiceError where Service == BusinessCentralService {
    /// The answer: the JSON body, its message followed by `  CorrelationId:  <guid>.`.
    var response: EmulatorResponse {
        let text = message + "  CorrelationId:  \(UUID().uuidString.lowercased())."
        return .json(status, .object([("error", .object([("code", .string(code)), ("message", .string(text))]))]), headers: headers)
    }

    /// A record or company that is not there (404; the service says "Bad Request - Error in query syntax.").
    static var notFound: Self { BusinessCentralError(.notFound, code: "BadRequest_NotFound", "Bad Request - Error in query syntax.") }

    /// A path segment the API does not have.
    static func segmentNotFound(_ segment: String) -> BusinessCentralError {
        BusinessCentralError(.notFound, code: "BadRequest_ResourceNotFound", "Resource not found for the segment '\(segment)'.")
    }

    /// A query option, filter or path the emulator cannot parse (the code the error table gives query syntax errors).
    static func querySyntax(_ message: String) -> BusinessCentralError {
        BusinessCentralError(.badRequest, code: "BadRequest_NotFound", message)
    }

    /// A property the entity type does not have.
    static func unknownProperty(_ name: String, type: String) -> BusinessCentralError {
        BusinessCentralError(
            .badRequest, code: "BadRequest_NotFound", "Could not find a property named '\(name)' on type 'Microsoft.NAV.\(type)'.")
    }

    /// A request the service understands but refuses (method, payload shape).
    static func badRequest(_ message: String) -> BusinessCentralError {
        BusinessCentralError(.badRequest, code: "BadRequest", message)
    }

    /// `PATCH` or `DELETE` without `If-Match`.
    static var missingETag: Self { BusinessCentralError(
        .badRequest, code: "BadRequest_InvalidToken",
        "Could not validate the client concurrency token required by the service. Please provide a valid token in the client request.") }

    /// `If-Match` naming a version the record no longer has (409, `Request_EntityChanged`).
    static var entityChanged: Self { BusinessCentralError(.conflict, code: "Request_EntityChanged", "Another user has already changed the record.") }

    /// A method the resource does not take, in the error table's words.
    static func methodNotAllowed(_ method: HTTPRequest.Method, _ resource: String) -> BusinessCentralError {
        BusinessCentralError(
            .methodNotAllowed, code: "BadRequest_MethodNotAllowed",
            "'\(method)' requests for '\(resource)' of EdmType 'Entity' are not allowed within Microsoft Dynamics NAV OData web services.")
    }

    /// A body that is not a JSON object (the error table's "Invalid Request Body").
    static var invalidBody: Self { BusinessCentralError(.badRequest, code: "BadRequest", "Invalid Request Body") }
}
