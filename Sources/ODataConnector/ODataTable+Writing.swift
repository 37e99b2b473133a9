import Foundation
import Sync

/// A record's write: a request to send, or its answer known without one.
enum ODataWritePlan<Written> {
    case send(ODataBatchRequest)
    case answered(Result<Written, RecordRefusal>)
}

// Writing an OData entity set: one `$batch` request per record going on after a failure, so a
// refused record fails alone; updates and deletions guarded by the etag of the record as read.
extension ODataTable {
    /// A key derived from the record's token for each record without one, as the services let a
    /// client choose a new record's id (Dataverse's primary id; Business Central's `id`, which its
    /// create example sends): a record holding it can only be the one Couplet wrote, so a write
    /// whose answer was lost is recognised by the next run instead of being made twice.
    func assignKeys(_ records: [NewRecord]) async throws -> [NewRecord] {
        records.map { record in
            guard (record.values[key] ?? nil) == nil else { return record }
            var assigned = record
            assigned.values[key] = ODataValues.guid(for: record.token)
            assigned.keyAssigned = true
            return assigned
        }
    }

    /// Creates each record with its key in the body; a key taken answers `keyTaken` and writes
    /// nothing. The created record's id is the one the service answers (the one sent, unless the
    /// service chose its own).
    func insert(_ records: [NewRecord]) async throws -> WriteResults<InsertResult> {
        var plans: [ODataWritePlan<InsertResult>] = []
        for record in records {
            switch try await writeBody(record.values.filter { $0.key != key }) {
            case .failure(let refusal): plans.append(.answered(.failure(refusal)))
            case .success(let body): plans.append(.send(insertRequest(body: Self.withKey(body, key, record.values[key] ?? nil))))
            }
        }
        return try await send(plans) { response, index in
            let id = (records[index].values[key] ?? nil)?.lowercased() ?? ""
            guard (200..<300).contains(response.status) else {
                if !id.isEmpty, try await isKeyTaken(response, id: id) { return .success(.keyTaken(id: id)) }
                return .failure(refusal(response, values: records[index].values))
            }
            guard let created = response.body?[key]?.stringValue?.lowercased() ?? (id.isEmpty ? nil : id), UUID(uuidString: created) != nil else {
                throw SyncFailure(code: .serviceFailed, message: "\(service) created a record of \(tableName) but did not answer its id; the run stops")
            }
            if let stamp = stamp(in: response.body) { return .success(.inserted(id: created, stamp: stamp)) }
            guard let stamp = try await currentETags([created])[created] else {
                throw SyncFailure(
                    code: .serviceFailed, message: "\(service) created a record of \(tableName) but cannot show it; the next run recognises it")
            }
            return .success(.inserted(id: created, stamp: stamp))
        }
    }

    /// `body` with the key member `key` holding `id` (lower case), when there is one.
    static func withKey(_ body: ODataJSON, _ key: String, _ id: String?) -> ODataJSON {
        guard let id, case .object(let members) = body else { return body }
        return .object([ODataJSON.Member(key, .string(id.lowercased()))] + members)
    }

    /// Updates that name the state they were computed against send the record's etag as read as
    /// `If-Match` (one that names only a modified-on first reads the etag): a record changed since
    /// (`isChangedOrGone`) or gone is left alone. Others use `If-Match: *`, so an update never
    /// creates a record.
    func update(_ changes: [RecordChange]) async throws -> WriteResults<RecordStamp?> {
        let etags = try await currentETags(changes.filter { $0.expected != nil && $0.expected?.version == nil }.map(\.id))
        var plans: [ODataWritePlan<RecordStamp?>] = []
        for change in changes {
            guard let ifMatch = Self.ifMatch(change.id, expected: change.expected, etags: etags) else {
                plans.append(.answered(.success(nil)))  // changed (or gone) since the change was computed
                continue
            }
            switch try await writeBody(change.values.filter { $0.key != key }) {
            case .failure(let refusal): plans.append(.answered(.failure(refusal)))
            case .success(let body): plans.append(.send(updateRequest(id: change.id.lowercased(), ifMatch: ifMatch, body: body)))
            }
        }
        return try await send(plans) { response, index in
            if (200..<300).contains(response.status) {
                if let stamp = stamp(in: response.body) { return .success(stamp) }
                return .success(try await currentETags([changes[index].id])[changes[index].id.lowercased()])
            }
            if isChangedOrGone(response) { return .success(nil) }
            return .failure(refusal(response, values: changes[index].values))
        }
    }

    func delete(_ records: [RecordDeletion]) async throws -> WriteResults<Bool> {
        let etags = try await currentETags(records.filter { $0.expected.version == nil }.map(\.id))
        let plans: [ODataWritePlan<Bool>] = records.map { deletion in
            guard let ifMatch = Self.ifMatch(deletion.id, expected: deletion.expected, etags: etags) else {
                return .answered(.success(false))
            }
            return .send(ODataBatchRequest(method: .delete, url: "\(collection)(\(deletion.id.lowercased()))", headers: [("If-Match", ifMatch)]))
        }
        return try await send(plans) { response, index in
            if (200..<300).contains(response.status) { return .success(true) }
            if isChangedOrGone(response) { return .success(false) }
            return .failure(refusal(response, values: [:]))
        }
    }

    /// Whether an answer says the record changed since it was read (its etag is stale: `412`, or
    /// Business Central's `409 Request_EntityChanged`) or is gone (`404`): the write is left alone.
    func isChangedOrGone(_ response: ODataBatchResponse) -> Bool {
        switch response.status {
        case 404, 412: true
        case 409: response.serviceError?.code == "Request_EntityChanged"
        default: false
        }
    }

    /// The `If-Match` of a write: `*` when it names no state; the etag it was read with when it
    /// names one (exact, whatever the modified-on's precision); else the current etag from `etags`
    /// when the record still carries the expected modified-on, and nil (leave it alone) when it
    /// changed or is gone.
    static func ifMatch(_ id: String, expected: RecordStamp?, etags: [String: RecordStamp]) -> String? {
        guard let expected else { return "*" }
        if let version = expected.version { return version }
        guard let current = etags[id.lowercased()], current.modifiedOn == expected.modifiedOn else { return nil }
        return current.version
    }

    /// The modified-on a write's answer carries, when it does.
    func modifiedOn(in body: ODataJSON?) -> Date? {
        body?[modified]?.stringValue.flatMap(ODataValues.instant)
    }

    /// The state a record's JSON carries: its modified-on and, when usable, its `@odata.etag`.
    func stamp(in body: ODataJSON?) -> RecordStamp? {
        modifiedOn(in: body).map { RecordStamp(modifiedOn: $0, version: Self.etag(in: body)) }
    }

    /// The `@odata.etag` of a record's JSON; nil when there is none or it is longer than the
    /// 200 characters a coupling stores (the services' are a few dozen): such a record's changes
    /// are told apart by its modified-on alone, and its guarded writes are left alone.
    static func etag(in body: ODataJSON?) -> String? {
        guard let etag = body?["@odata.etag"]?.stringValue, (1...200).contains(etag.utf8.count) else { return nil }
        return etag
    }

    /// Each existing record's state (modified-on and etag), by id; a record without a usable etag is left out.
    func currentETags(_ ids: [String]) async throws -> [String: RecordStamp] {
        var etags: [String: RecordStamp] = [:]
        for chunk in chunks(Self.guids(ids)) {
            let query = resource(filter: [keyIn(chunk)], orderBy: nil, select: "\(key),\(modified)")
            for try await page in client.pages(of: query, paging: paging(.max)) {
                for json in page.records {
                    guard let id = json[key]?.stringValue, let stamp = stamp(in: json), stamp.version != nil else { continue }
                    etags[id.lowercased()] = stamp
                }
            }
        }
        return etags
    }

    /// The refusal of a value that is not sent, naming its column.
    static func valueRefusal(_ column: String, _ reason: String) -> RecordRefusal {
        RecordRefusal(detail: "not sent: \(reason)", cause: "value:\(column)", column: column, reason: reason)
    }

    /// Sends the planned requests in batches, one request per record, going on after a failure,
    /// and answers each record in order. A server error inside the batch stops the run: the
    /// endpoint failed, not the record.
    func send<Written>(
        _ plans: [ODataWritePlan<Written>], _ answer: (ODataBatchResponse, Int) async throws -> Result<Written, RecordRefusal>
    ) async throws -> WriteResults<Written> {
        var results = [Result<Written, RecordRefusal>?](repeating: nil, count: plans.count)
        var pending: [(index: Int, request: ODataBatchRequest)] = []
        for (index, plan) in plans.enumerated() {
            switch plan {
            case .answered(let result): results[index] = result
            case .send(let request): pending.append((index, request))
            }
        }
        for start in stride(from: 0, to: pending.count, by: requestsPerBatch) {
            let chunk = Array(pending[start..<min(start + requestsPerBatch, pending.count)])
            for response in try await sendBatch(chunk.map(\.request)) where chunk.indices.contains(response.requestIndex) {
                if response.status >= 500 {
                    throw SyncFailure(
                        code: .serviceFailed,
                        message: "\(service) failed a write to \(tableName) (HTTP \(response.status)\(response.serviceError.map { ": \($0.code) \($0.message)" } ?? "")); the run stops and the next one retries")
                }
                let index = chunk[response.requestIndex].index
                results[index] = try await answer(response, index)
            }
        }
        return try results.enumerated().map { index, result in
            guard let result else {
                throw SyncFailure(
                    code: .serviceFailed,
                    message: "\(service)'s $batch answer left out a write to \(tableName) (record \(index + 1)); the run stops and the next one retries")
            }
            return result
        }
    }

    /// The refusal an error answer gives, naming the column when the service's message names a written one.
    func refusal(_ response: ODataBatchResponse, values: FieldValues) -> RecordRefusal {
        let (code, message) = response.serviceError ?? ("HTTP \(response.status)", "the service refused the write")
        let column = values.keys.sorted().first { name in message.range(of: "'\(name)'") != nil || message.range(of: " \(name) ") != nil }
        return RecordRefusal(
            detail: "\(service) \(code): \(message)", cause: [code, column].compactMap { $0 }.joined(separator: ":"),
            column: column, reason: "\(service) refused it (\(code))", concern: concernsOtherRecords(code) ? .otherRecords : .value)
    }
}
