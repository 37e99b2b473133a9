import Foundation
import Logging
import Postgres
import PostgresTestSupport
import Testing
@testable import Sync

/// A source that prefers large reads (a Web API's page) is read a page at a time, while the engine
/// still decides and writes the records in batches of the mapping's batch size.
@Suite struct ReadSizeTests {
    static let mappings = """
        endpoints:
          - {name: erp}
          - {name: crm}
        mappings:
          - name: DEBTOR
            direction: to_integration
            sync_only_coupled: false
            batch_size: 10
            local: {endpoint: erp, table: debtor, key: debtorid, modified: modified_at}
            integration: {endpoint: crm, table: account, key: accountid, modified: modifiedon}
            fields:
              - {local: name, integration: name}
        """

    /// A full pass and then a delta from a source of 95 debtors that prefers reads of `readSize`.
    func run(readSize: Int?, _ check: (MemoryTableEndpoint, MemoryTableEndpoint, PostgresConnection) async throws -> Void) async throws {
        try await withMigratedDatabase { _, coordination in
            try await MappingStore.apply(try MappingFile.parse(Self.mappings, file: "mappings.yaml"), prune: false, on: coordination)
            let source = MemoryTableEndpoint(key: "debtorid", columns: ["name"], readSize: readSize)
            let target = MemoryTableEndpoint(key: "accountid", columns: ["name"])
            let debtors = (1...95).map { NewRecord(values: ["debtorid": String(format: "d%03d", $0), "name": "Debtor \($0)"], token: "\($0)") }
            _ = try await source.insert(debtors)
            try await check(source, target, coordination)
        }
    }

    func pass(_ kind: SyncKind, _ source: MemoryTableEndpoint, _ target: MemoryTableEndpoint, _ coordination: PostgresConnection) async throws -> SyncCounts {
        let mapping = try await MappingStore.load("DEBTOR", on: coordination)
        return try await SyncPass(
            mapping: mapping, direction: .toIntegration, kind: kind, coordination: coordination, source: source, target: target,
            logger: Logger(label: "test")
        ).run(jobID: nil)
    }

    @Test("a full run reads pages of the source's read size, and a short page ends the range without another read")
    func fullRunReadsPages() async throws {
        try await run(readSize: 40) { source, target, coordination in
            let counts = try await pass(.full, source, target, coordination)
            #expect(counts.inserted == 95 && counts.failed == 0)
            #expect(try await target.count() == 95)
            #expect(source.reads.withLock { $0.map(\.limit) } == [40, 40, 40], "95 records: 40, 40 and a short 15")
            #expect(source.reads.withLock { $0.map(\.answered) } == [40, 40, 15])
            #expect(try await coordination.query("SELECT count(*) FROM couplet.couplings WHERE mapping = 'DEBTOR'").single().decode(Int.self, at: 0) == 95)
        }
    }

    @Test("without a read size, reads follow the batch size")
    func batchSizeReads() async throws {
        try await run(readSize: nil) { source, target, coordination in
            let counts = try await pass(.full, source, target, coordination)
            #expect(counts.inserted == 95)
            #expect(source.reads.withLock { $0.map(\.answered) } == [10, 10, 10, 10, 10, 10, 10, 10, 10, 5])
        }
    }

    @Test("a delta reads changes a page at a time too, and carries every change")
    func deltaReadsPages() async throws {
        try await run(readSize: 40) { source, target, coordination in
            _ = try await pass(.full, source, target, coordination)
            source.reads.withLock { $0.removeAll() }
            let changed = (1...45).map { RecordChange(id: String(format: "d%03d", $0), values: ["name": "Renamed \($0)"]) }
            _ = try await source.update(changed)
            let counts = try await pass(.delta, source, target, coordination)
            #expect(counts.modified == 45 && counts.failed == 0)
            // 45 changes (and the full run's newest record, re-read at the watermark's cap): a page of 40 and a short one.
            #expect(source.reads.withLock { $0.map(\.limit) } == [40, 40])
            #expect(source.reads.withLock { $0.map(\.answered) }.first == 40)
            #expect(try await target.records(in: KeyRange(), limit: 100).filter { ($0.values["name"] ?? nil)?.hasPrefix("Renamed") == true }.count == 45)
        }
    }
}
