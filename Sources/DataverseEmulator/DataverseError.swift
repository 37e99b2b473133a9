import EmulatorSupport
import Foundation
import HTTPTypes

/// An error the Web API answers with: an HTTP status and Dataverse's `{"error":{"code","message"}}` body.
///
/// The codes are the hexadecimal ones the Dataverse documentation shows for each case; where a page
/// shows an empty code (the conditional-operations examples) the emulator sends an empty code too.
public typealias DataverseError = ServiceError<DataverseService>

/// Marks the Dataverse Web API's errors.
public enum DataverseService {}

extension ServiceError where Service == DataverseService {
    /// The JSON body.
    var body: JSONValue {
        .object([("error", .object([("code", .string(code)), ("message", .string(message))]))])
    }

    /// A record that is not there (`0x80040217`, "account With Id = … Does Not Exist").
    static func recordNotFound(_ entity: String, _ id: String) -> DataverseError {
        DataverseError(.notFound, code: "0x80040217", "\(entity) With Id = \(id) Does Not Exist")
    }

    /// An unknown entity set or path segment (`0x8006088a`).
    static func segmentNotFound(_ segment: String) -> DataverseError {
        DataverseError(.notFound, code: "0x8006088a", "Resource not found for the segment '\(segment)'.")
    }

    /// An unknown property in `$select`, `$filter`, `$orderby` or a payload (`0x0`).
    static func unknownProperty(_ name: String, entity: String) -> DataverseError {
        DataverseError(
            .badRequest, code: "0x0", "Could not find a property named '\(name)' on type 'Microsoft.Dynamics.CRM.\(entity)'.")
    }

    /// A malformed query option or request (`0x0`).
    static func badRequest(_ message: String) -> DataverseError {
        DataverseError(.badRequest, code: "0x0", message)
    }

    /// A payload that cannot be applied to the entity (`0x80048d19`).
    static func payload(_ entity: String, _ detail: String) -> DataverseError {
        DataverseError(
            .badRequest, code: "0x80048d19",
            "Error identified in Payload provided by the user for Entity :'\(entity)', For more information on this error "
                + "please follow this help link https://go.microsoft.com/fwlink/?linkid=2195293  ----> InnerException : \(detail)")
    }

    /// A create whose id (or another unique key) is taken (412, DuplicateRecord).
    static var duplicate: Self { DataverseError(.preconditionFailed, code: "0x80040237", "A record with matching key values already exists.") }

    /// An `If-None-Match: *` upsert that found the record (412, the documented empty code).
    static var upsertPrevented: Self { DataverseError(.preconditionFailed, code: "", "A record with matching key values already exists.") }

    /// An `If-Match` etag that no longer matches (412, the documented empty code).
    static var versionMismatch: Self { DataverseError(
        .preconditionFailed, code: "", "The version of the existing record doesn't match the RowVersion property provided.") }
}

/// The Web API's requests and responses are the shared emulator ones.
typealias APIRequest = EmulatorRequest
/// The Web API's responses.
typealias APIResponse = EmulatorResponse

extension EmulatorResponse {
    /// A response for an error, with the `REQ_ID` header the batch documentation's error examples show.
    static func error(_ error: DataverseError) -> EmulatorResponse {
        json(error.status, error.body, headers: error.headers + [("REQ_ID", UUID().uuidString.lowercased())])
    }
}
