import Foundation
import Sync

// Writing: one JSON `$batch` per 100 records, a request per record (see `BusinessCentralTableEndpoint`);
// updates and deletions are `ODataTable`'s.
extension BusinessCentralTableEndpoint {
    func insertRequest(body: ODataJSON) -> ODataBatchRequest {
        ODataBatchRequest(method: .post, url: collection, body: body)
    }

    /// `Internal_EntityWithSameKeyExists` says a record with the same key fields exists — the id
    /// or another unique field (`number`): the id is taken when a record holds it.
    func isKeyTaken(_ response: ODataBatchResponse, id: String) async throws -> Bool {
        guard response.serviceError?.code == "Internal_EntityWithSameKeyExists" else { return false }
        return try await !currentETags([id]).isEmpty
    }

    /// The property's values as JSON, or the refusal of the first that cannot travel unchanged.
    func writeBody(_ values: FieldValues) async throws -> Result<ODataJSON, RecordRefusal> {
        var members: [ODataJSON.Member] = []
        for column in values.keys.sorted() {
            let value = values[column] ?? nil
            switch Self.json(value, for: entity.properties[column], named: column, in: entity.entitySet) {
            case .success(let json): members.append(ODataJSON.Member(column, json))
            case .failure(let refusal): return .failure(refusal)
            }
        }
        return .success(.object(members))
    }

    /// The JSON of `value` for `property`, or the refusal naming `column`.
    static func json(
        _ value: String?, for property: BusinessCentralEntity.Property?, named column: String, in entitySet: String
    ) -> Result<ODataJSON, RecordRefusal> {
        guard let property else { return .failure(valueRefusal(column, "Business Central's \(entitySet) has no such property")) }
        guard !property.isReadOnly else {
            return .failure(valueRefusal(column, "Business Central computes \(column) of \(entitySet); it cannot be written"))
        }
        if let value, let maxLength = property.maxLength, value.utf16.count > maxLength {
            return .failure(valueRefusal(column, "the value is \(value.utf16.count) characters long; Business Central holds \(maxLength)"))
        }
        return ODataValues.json(value, kind: property.kind).mapError { valueRefusal(column, $0.reason) }
    }

    func updateRequest(id: String, ifMatch: String, body: ODataJSON) -> ODataBatchRequest {
        ODataBatchRequest(method: .patch, url: "\(collection)(\(id))", headers: [("If-Match", ifMatch)], body: body)
    }

    func sendBatch(_ requests: [ODataBatchRequest]) async throws -> [ODataBatchResponse] {
        try await client.jsonBatch(Self.jsonBatch(requests)).responses
    }

    /// `requests` as one JSON `$batch` going on after a failure; each request's id is its position from 1.
    static func jsonBatch(_ requests: [ODataBatchRequest]) -> ODataJSONBatch {
        ODataJSONBatch(
            requests: requests.enumerated().map { index, request in
                ODataJSONBatchRequest(id: "\(index + 1)", method: request.method, url: request.url, headers: request.headers, body: request.body)
            },
            continueOnError: true)
    }

    /// `Internal_EntityWithSameKeyExists`: a record with the same number exists.
    func concernsOtherRecords(_ code: String) -> Bool {
        code == "Internal_EntityWithSameKeyExists"
    }
}
