import Foundation
import Sync

// Writing: one `$batch` per call, a change set per record (see `DataverseTableEndpoint`).
extension DataverseTableEndpoint {
    func assignKeys(_ records: [NewRecord]) async throws -> [NewRecord] {
        records.map { record in
            guard (record.values[key] ?? nil) == nil else { return record }
            var assigned = record
            assigned.values[key] = DataverseValues.guid(for: record.token)
            assigned.keyAssigned = true
            return assigned
        }
    }

    func insert(_ records: [NewRecord]) async throws -> WriteResults<InsertResult> {
        var plans: [Plan<InsertResult>] = []
        for record in records {
            switch try await body(record.values) {
            case .failure(let refusal): plans.append(.answered(.failure(refusal)))
            case .success(let body):
                plans.append(.send(ODataBatchRequest(
                    method: .post, url: "\(entity.entitySet)?$select=\(key),\(modified)",
                    headers: [("Prefer", "return=representation")], body: body)))
            }
        }
        return try await send(plans) { response, index in
            let id = (records[index].values[key] ?? nil)?.lowercased() ?? ""
            if (200..<300).contains(response.status) {
                let created = response.body?[key]?.stringValue?.lowercased() ?? id
                if let stamp = response.body?[modified]?.stringValue, let modifiedOn = DataverseValues.instant(stamp) {
                    return .success(.inserted(id: created, modifiedOn: modifiedOn))
                }
                guard let modifiedOn = try await currentETags([created])[created]?.modifiedOn else {
                    throw SyncFailure(code: .configuration, message: "Dataverse created a \(entity.logicalName) record but cannot show it; the next run recognises it")
                }
                return .success(.inserted(id: created, modifiedOn: modifiedOn))
            }
            if DataverseErrors.isDuplicateKey(response) { return .success(.keyTaken(id: id)) }
            return .failure(refusal(response, values: records[index].values))
        }
    }

    func update(_ changes: [RecordChange]) async throws -> WriteResults<Date?> {
        let etags = try await currentETags(changes.filter { $0.expectedModifiedOn != nil }.map(\.id))
        var plans: [Plan<Date?>] = []
        for change in changes {
            var ifMatch = "*"
            if let expected = change.expectedModifiedOn {
                guard let current = etags[change.id.lowercased()], current.modifiedOn == expected else {
                    plans.append(.answered(.success(nil)))  // changed (or gone) since the change was computed
                    continue
                }
                ifMatch = current.etag
            }
            switch try await body(change.values.filter { $0.key != key }) {
            case .failure(let refusal): plans.append(.answered(.failure(refusal)))
            case .success(let body):
                plans.append(.send(ODataBatchRequest(
                    method: .patch, url: "\(entity.entitySet)(\(change.id.lowercased()))?$select=\(modified)",
                    headers: [("If-Match", ifMatch), ("Prefer", "return=representation")], body: body)))
            }
        }
        return try await send(plans) { response, index in
            if (200..<300).contains(response.status) {
                if let stamp = response.body?[modified]?.stringValue, let modifiedOn = DataverseValues.instant(stamp) { return .success(modifiedOn) }
                return .success(try await currentETags([changes[index].id])[changes[index].id.lowercased()]?.modifiedOn)
            }
            if response.status == 412 || response.status == 404 { return .success(nil) }
            return .failure(refusal(response, values: changes[index].values))
        }
    }

    func delete(_ records: [RecordDeletion]) async throws -> WriteResults<Bool> {
        let etags = try await currentETags(records.map(\.id))
        let plans: [Plan<Bool>] = records.map { deletion in
            guard let current = etags[deletion.id.lowercased()], current.modifiedOn == deletion.expectedModifiedOn else {
                return .answered(.success(false))
            }
            return .send(ODataBatchRequest(
                method: .delete, url: "\(entity.entitySet)(\(deletion.id.lowercased()))", headers: [("If-Match", current.etag)]))
        }
        return try await send(plans) { response, index in
            if (200..<300).contains(response.status) { return .success(true) }
            if response.status == 412 || response.status == 404 { return .success(false) }
            return .failure(refusal(response, values: [:]))
        }
    }

    /// Each existing record's modified-on and etag, by id.
    private func currentETags(_ ids: [String]) async throws -> [String: (modifiedOn: Date, etag: String)] {
        var etags: [String: (modifiedOn: Date, etag: String)] = [:]
        for chunk in Self.chunks(Self.guids(ids)) {
            let query = resource(filter: [keyIn(chunk)], orderBy: nil, select: "\(key),\(modified)")
            for try await page in session.client.pages(of: query, paging: ODataPaging(maximumPageSize: 5_000)) {
                for json in page.records {
                    guard let id = json[key]?.stringValue, let etag = json["@odata.etag"]?.stringValue,
                          let stamp = json[modified]?.stringValue, let modifiedOn = DataverseValues.instant(stamp)
                    else { continue }
                    etags[id.lowercased()] = (modifiedOn, etag)
                }
            }
        }
        return etags
    }

    /// The JSON body writing `values`, or the refusal of the first value that cannot travel unchanged.
    private func body(_ values: FieldValues) async throws -> Result<ODataJSON, RecordRefusal> {
        var members: [ODataJSON.Member] = []
        for column in values.keys.sorted() {
            let value = values[column] ?? nil
            if entity.lookupTyped(by: column) != nil { continue }  // set through its lookup's binding
            let kind: DataverseEntity.Kind
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
            switch DataverseValues.json(value, kind: kind) {
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

    private static func valueRefusal(_ column: String, _ reason: String) -> RecordRefusal {
        RecordRefusal(detail: "not sent: \(reason)", cause: "value:\(column)", column: column, reason: reason)
    }

    /// A record's write: a request to send, or its answer known without one.
    private enum Plan<Written> {
        case send(ODataBatchRequest)
        case answered(Result<Written, RecordRefusal>)
    }

    /// Sends the planned requests in batches of change sets, one per record, going on after a
    /// failure, and answers each record in order. A server error inside the batch stops the run:
    /// the endpoint failed, not the record.
    private func send<Written>(
        _ plans: [Plan<Written>], _ answer: (ODataBatchResponse, Int) async throws -> Result<Written, RecordRefusal>
    ) async throws -> WriteResults<Written> {
        var results = [Result<Written, RecordRefusal>?](repeating: nil, count: plans.count)
        var pending: [(index: Int, request: ODataBatchRequest)] = []
        for (index, plan) in plans.enumerated() {
            switch plan {
            case .answered(let result): results[index] = result
            case .send(let request): pending.append((index, request))
            }
        }
        for start in stride(from: 0, to: pending.count, by: Self.requestsPerBatch) {
            let chunk = Array(pending[start..<min(start + Self.requestsPerBatch, pending.count)])
            let batch = ODataBatch(items: chunk.map { .changeSet([$0.request]) }, continueOnError: true, isIdempotent: false)
            for response in try await session.client.batch(batch).responses where chunk.indices.contains(response.requestIndex) {
                if response.status >= 500 {
                    throw SyncFailure(
                        code: .configuration,
                        message: "Dataverse failed a write to \(entity.logicalName) (HTTP \(response.status)\(response.serviceError.map { ": \($0.code) \($0.message)" } ?? "")); the run stops and the next one retries")
                }
                let index = chunk[response.requestIndex].index
                results[index] = try await answer(response, index)
            }
        }
        return try results.enumerated().map { index, result in
            guard let result else {
                throw SyncFailure(
                    code: .configuration,
                    message: "Dataverse's $batch answer left out a write to \(entity.logicalName) (record \(index + 1)); the run stops and the next one retries")
            }
            return result
        }
    }

    /// The refusal an error answer gives, naming the column when the service's message names a written one.
    private func refusal(_ response: ODataBatchResponse, values: FieldValues) -> RecordRefusal {
        let (code, message) = response.serviceError ?? ("HTTP \(response.status)", "the service refused the write")
        let column = values.keys.sorted().first { name in message.range(of: "'\(name)'") != nil || message.range(of: " \(name) ") != nil }
        return RecordRefusal(
            detail: "Dataverse \(code): \(message)", cause: [code, column].compactMap { $0 }.joined(separator: ":"),
            column: column, reason: "Dataverse refused it (\(code))", concern: DataverseErrors.concernsOtherRecords(code) ? .otherRecords : .value)
    }
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
