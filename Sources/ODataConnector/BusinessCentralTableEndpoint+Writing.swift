import Foundation
import Sync

// Writing: one JSON `$batch` per 100 records, a request per record (see `BusinessCentralTableEndpoint`);
// updates and deletions are `ODataTable`'s.
extension BusinessCentralTableEndpoint {
    /// Keys stay unknown until the insert: the API reference marks a record's `id` (its SystemId)
    /// non-editable — though its create example shows one in the body — so Couplet does not choose
    /// it, as for a PostgreSQL identity key it cannot take from a sequence. The consequence: a
    /// worker that stops between the `POST` and saving the coupling leaves a record Couplet cannot
    /// recognise as its own (its write intent names no key), and the next run creates the record
    /// again unless matching (the mapping's match fields) couples the first, or a unique field
    /// (`number`) makes Business Central refuse the second.
    func assignKeys(_ records: [NewRecord]) async throws -> [NewRecord] {
        records
    }

    func insert(_ records: [NewRecord]) async throws -> WriteResults<InsertResult> {
        var plans: [ODataWritePlan<InsertResult>] = []
        for record in records {
            switch try await writeBody(record.values) {
            case .failure(let refusal): plans.append(.answered(.failure(refusal)))
            case .success(let body): plans.append(.send(ODataBatchRequest(method: .post, url: collection, body: body)))
            }
        }
        return try await send(plans) { response, index in
            guard (200..<300).contains(response.status) else { return .failure(refusal(response, values: records[index].values)) }
            guard let id = response.body?[key]?.stringValue, UUID(uuidString: id) != nil else {
                throw SyncFailure(
                    code: .configuration,
                    message: "Business Central created a record of \(entity.entitySet) but did not answer its id; the run stops")
            }
            if let modifiedOn = modifiedOn(in: response.body) { return .success(.inserted(id: id.lowercased(), modifiedOn: modifiedOn)) }
            guard let modifiedOn = try await currentETags([id])[id.lowercased()]?.modifiedOn else {
                throw SyncFailure(
                    code: .configuration,
                    message: "Business Central created a record of \(entity.entitySet) but cannot show it; the run stops")
            }
            return .success(.inserted(id: id.lowercased(), modifiedOn: modifiedOn))
        }
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
