import Foundation
import Synchronization
@testable import Sync

/// A table held in memory, for engine tests and as the conformance suite's reference: the
/// `TableEndpoint` contract with nothing else in the way. Keys are compared as text, so tests use
/// keys whose text order is their order (uuids in lower case); `refuses` plays the endpoint's
/// constraints, `passes` its filter.
final class MemoryTableEndpoint: TableEndpoint {
    private struct Row {
        var modifiedOn: Date
        var values: FieldValues
    }

    private let key: String
    private let columns: [String]
    private let passes: @Sendable (FieldValues) -> Bool
    private let refuses: @Sendable (FieldValues) -> RecordRefusal?
    private let rows = Mutex<[String: Row]>([:])
    /// The clock writes stamp with: strictly increasing, like a database's transaction start in the tests' use.
    private let clock = Mutex<Date>(Date(timeIntervalSince1970: 1_800_000_000))
    let readSize: Int?
    /// The `limit` of each read of changes or of a key range, and how many records it answered.
    let reads = Mutex<[(limit: Int, answered: Int)]>([])

    /// A table keyed by `key` that reads `columns`, preferring reads of `readSize` records.
    init(
        key: String, columns: [String], readSize: Int? = nil, passes: @escaping @Sendable (FieldValues) -> Bool = { _ in true },
        refuses: @escaping @Sendable (FieldValues) -> RecordRefusal? = { _ in nil }
    ) {
        (self.key, self.columns, self.readSize, self.passes, self.refuses) = (key, columns, readSize, passes, refuses)
    }

    /// Notes a read of `limit` that answered `records`.
    private func noted(_ records: [SyncRecord], limit: Int) -> [SyncRecord] {
        reads.withLock { $0.append((limit, records.count)) }
        return records
    }

    private func tick() -> Date {
        clock.withLock { now in
            now = now.addingTimeInterval(0.001)
            return now
        }
    }

    private func record(_ id: String, _ row: Row) -> SyncRecord {
        var values = FieldValues()
        for column in columns { values[column] = row.values[column] ?? nil }
        return SyncRecord(id: id, modifiedOn: row.modifiedOn, values: values)
    }

    private func passing() -> [(String, Row)] {
        rows.withLock { rows in rows.filter { passes($0.value.values) }.map { ($0.key, $0.value) } }
    }

    func changes(since: Date?, after cursor: ChangeCursor?, limit: Int) async throws -> [SyncRecord] {
        noted(changed(since: since, after: cursor, limit: limit), limit: limit)
    }

    private func changed(since: Date?, after cursor: ChangeCursor?, limit: Int) -> [SyncRecord] {
        passing()
            .filter { id, row in
                since.map { row.modifiedOn > $0 } ?? true
                    && cursor.map { (row.modifiedOn, id) > ($0.modifiedOn, $0.id) } ?? true
            }
            .sorted { ($0.1.modifiedOn, $0.0) < ($1.1.modifiedOn, $1.0) }
            .prefix(limit).map { record($0.0, $0.1) }
    }

    func records(in range: KeyRange, limit: Int) async throws -> [SyncRecord] {
        noted(
            passing()
                .filter { id, _ in range.after.map { id > $0 } ?? true && range.upTo.map { id <= $0 } ?? true }
                .sorted { $0.0 < $1.0 }.prefix(limit).map { record($0.0, $0.1) },
            limit: limit)
    }

    func splitKeys(every size: Int) async throws -> [String] {
        let keys = passing().map(\.0).sorted()
        return stride(from: size - 1, to: keys.count, by: size).map { keys[$0] }
    }

    func count() async throws -> Int { passing().count }

    func records(ids: [String]) async throws -> [SyncRecord] {
        let wanted = Set(ids)
        return passing().filter { wanted.contains($0.0) }.map { record($0.0, $0.1) }
    }

    func recordsWithFilterState(ids: [String]) async throws -> [(record: SyncRecord, passesFilter: Bool)] {
        let wanted = Set(ids)
        return rows.withLock { $0.filter { wanted.contains($0.key) } }.map { (record($0.key, $0.value), passes($0.value.values)) }
    }

    func existingIDs(_ ids: [String]) async throws -> Set<String> {
        rows.withLock { rows in Set(ids.filter { rows[$0] != nil }) }
    }

    func assignKeys(_ records: [NewRecord]) async throws -> [NewRecord] {
        records.map { record in
            guard (record.values[key] ?? nil) == nil else { return record }
            var assigned = record
            assigned.values[key] = UUID().uuidString.lowercased()
            assigned.keyAssigned = true
            return assigned
        }
    }

    func insert(_ records: [NewRecord]) async throws -> WriteResults<InsertResult> {
        records.map { record in
            if let refusal = refuses(record.values) { return .failure(refusal) }
            let id = (record.values[key] ?? nil) ?? UUID().uuidString.lowercased()
            let stamp = tick()
            return rows.withLock { rows in
                guard rows[id] == nil else { return .success(.keyTaken(id: id)) }
                var values = record.values
                values[key] = id
                rows[id] = Row(modifiedOn: stamp, values: values)
                return .success(.inserted(id: id, stamp: RecordStamp(modifiedOn: stamp)))
            }
        }
    }

    func update(_ changes: [RecordChange]) async throws -> WriteResults<RecordStamp?> {
        changes.map { change in
            let stamp = tick()
            return rows.withLock { rows in
                guard var row = rows[change.id], change.expected.map({ $0.modifiedOn == row.modifiedOn }) ?? true else { return .success(nil) }
                row.values.merge(change.values) { _, new in new }
                if let refusal = refuses(row.values) { return .failure(refusal) }
                row.modifiedOn = stamp
                rows[change.id] = row
                return .success(RecordStamp(modifiedOn: stamp))
            }
        }
    }

    func delete(_ records: [RecordDeletion]) async throws -> WriteResults<Bool> {
        records.map { deletion in
            rows.withLock { rows in
                guard rows[deletion.id]?.modifiedOn == deletion.expected.modifiedOn else { return .success(false) }
                rows[deletion.id] = nil
                return .success(true)
            }
        }
    }

    func check(_ expected: [ExpectedRecord]) async throws -> [String: ExpectationCheck] {
        rows.withLock { rows in
            var checks: [String: ExpectationCheck] = [:]
            for record in expected {
                guard let row = rows[record.id] else { continue }
                let agrees = record.values.allSatisfy { column, value in (row.values[column] ?? nil) == value }
                checks[record.id] = ExpectationCheck(stamp: RecordStamp(modifiedOn: row.modifiedOn), agrees: agrees)
            }
            return checks
        }
    }

    func candidates(matching columns: [String], values: [[String]], caseSensitive: Bool) async throws -> [[String]] {
        let normal = { (text: String) -> String in
            let spaced = text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            return caseSensitive ? spaced : spaced.lowercased()
        }
        let all = passing()
        return values.map { tuple in
            all.filter { _, row in
                zip(columns, tuple).allSatisfy { column, value in ((row.values[column] ?? nil).map(normal)) == normal(value) }
            }.map(\.0).sorted()
        }
    }

    func ids(whose column: String, isAnyOf values: [String]) async throws -> [String] {
        let wanted = Set(values)
        return rows.withLock { rows in rows.filter { ($0.value.values[column] ?? nil).map(wanted.contains) == true }.map(\.key) }
    }

    func watermarkCap() async throws -> Date { clock.withLock { $0 } }
}
