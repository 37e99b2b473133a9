import Foundation
import Sync

// Writing: one `$batch` per call, a change set per record (see `DataverseTableEndpoint`); updates
// and deletions are `ODataTable`'s.
extension DataverseTableEndpoint {
    func insertRequest(body: ODataJSON) -> ODataBatchRequest {
        ODataBatchRequest(
            method: .post, url: "\(entity.entitySet)?$select=\(key),\(modified)", headers: [("Prefer", "return=representation")], body: body)
    }

    func isKeyTaken(_ response: ODataBatchResponse, id: String) async throws -> Bool { DataverseErrors.isDuplicateKey(response) }

    func updateRequest(id: String, ifMatch: String, body: ODataJSON) -> ODataBatchRequest {
        ODataBatchRequest(
            method: .patch, url: "\(collection)(\(id))?$select=\(modified)",
            headers: [("If-Match", ifMatch), ("Prefer", "return=representation")], body: body)
    }

    /// The JSON body writing `values`, or the refusal of the first value that cannot travel unchanged.
    func writeBody(_ values: FieldValues) async throws -> Result<ODataJSON, RecordRefusal> {
        var members: [ODataJSON.Member] = []
        for column in values.keys.sorted() {
            let value = values[column] ?? nil
            if entity.lookupTyped(by: column) != nil { continue }  // set through its lookup's binding
            let kind: ODataValueKind
            do { kind = try entity.kind(of: column) } catch {
                return .failure(Self.valueRefusal(column, "Dataverse table \(entity.logicalName) has no such column"))
            }
            if case .lookup(let targets) = kind {
                switch try await binding(column, value, targets: targets, values: values) {
                case .success(let member): members.append(member)
                case .failure(let refusal): return .failure(refusal)
                }
                continue
            }
            switch ODataValues.json(value, kind: kind) {
            case .success(let json): members.append(ODataJSON.Member(column, json))
            case .failure(let problem): return .failure(Self.valueRefusal(column, problem.reason))
            }
        }
        return .success(.object(members))
    }

    /// `<lookup>@odata.bind` to the record `value` names, in the target its type column names
    /// when the lookup has several; null clears the lookup.
    private func binding(
        _ column: String, _ value: String?, targets: [String], values: FieldValues
    ) async throws -> Result<ODataJSON.Member, RecordRefusal> {
        let name = "\(column)@odata.bind"
        guard let value else { return .success(ODataJSON.Member(name, .null)) }
        guard UUID(uuidString: value) != nil else { return .failure(Self.valueRefusal(column, "a lookup takes a GUID")) }
        let target: String
        if targets.count == 1 {
            target = targets[0]
        } else if let named = values["\(column)type"] ?? nil, targets.contains(named) {
            target = named
        } else {
            return .failure(Self.valueRefusal(
                column, "the lookup may point to \(targets.joined(separator: " or ")); map \(column)type to say which"))
        }
        let entitySet = try await session.entity(target).entitySet
        return .success(ODataJSON.Member(name, .string("/\(entitySet)(\(value.lowercased()))")))
    }

    /// Each record its own change set, so a failed one rolls back alone.
    func sendBatch(_ requests: [ODataBatchRequest]) async throws -> [ODataBatchResponse] {
        let batch = ODataBatch(items: requests.map { .changeSet([$0]) }, continueOnError: true, isIdempotent: false)
        return try await client.batch(batch).responses
    }

    func concernsOtherRecords(_ code: String) -> Bool { DataverseErrors.concernsOtherRecords(code) }
}

/// Dataverse's error codes that the connector tells apart.
enum DataverseErrors {
    /// `0x80040237`: a record with the same key exists.
    static let duplicateRecord = "0x80040237"

    /// Whether a create was refused because its key is taken.
    static func isDuplicateKey(_ response: ODataBatchResponse) -> Bool {
        guard let code = response.serviceError?.code else { return false }
        return code.lowercased() == duplicateRecord || (response.status == 412 && code.lowercased().contains("duplicate"))
    }

    /// Whether a refusal concerns other records (a duplicate value, a missing referenced record).
    static func concernsOtherRecords(_ code: String) -> Bool {
        ["0x80040237", "0x80040217", "0x80060891"].contains(code.lowercased())
    }
}
