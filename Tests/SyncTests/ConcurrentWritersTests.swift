import Foundation
import Postgres
import Testing

@testable import Sync

@Suite("Bidirectional sync under concurrent writers")
struct ConcurrentWritersTests {
    /// How long the writers run; COUPLET_SOAK_SECONDS makes it longer (the issue asks for a minute).
    static let seconds = Int(ProcessInfo.processInfo.environment["COUPLET_SOAK_SECONDS"] ?? "") ?? 12

    @Test("writers on both sides while deltas run: afterwards both sides are equal, without duplicates or echo", arguments: CRMService.allCases)
    func soak(crm: CRMService) async throws {
        try await SyncFixture.with(crm: crm) { f in
            try await f.addCustomerMapping(updateConflict: "get_from_integration")
            try await f.erp.query("INSERT INTO customer (no, name, city) SELECT n::text, 'c' || n, 'town' FROM generate_series(1, 200) n")
            try await f.sync(.full)
            let deadline = ContinuousClock.now + .seconds(Self.seconds)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<4 {
                    group.addTask {
                        let onERP = writer < 2
                        let name = onERP ? "erp" : "crm"
                        let connection = try await PostgresConnection.connect(f.endpoints.configuration(of: name))
                        defer { connection.close() }
                        var step = 0
                        while ContinuousClock.now < deadline {
                            step += 1
                            let id = Int.random(in: 1...200)
                            let value = "\(name)-\(writer)-\(step)"
                            if onERP {
                                if step % 10 == 0 {
                                    try await connection.query("INSERT INTO customer (no, name, city) VALUES (\("w\(writer)-\(step)"), \(value), 'new town')")
                                } else {
                                    try await connection.query("UPDATE customer SET name = \(value), city = \(value) WHERE no = \(String(id))")
                                }
                            } else {
                                try await connection.query("UPDATE account SET name = \(value) WHERE account_number = \(String(id))")
                            }
                            try await Task.sleep(for: .milliseconds(Int.random(in: 5...30)))
                        }
                    }
                }
                group.addTask {
                    while ContinuousClock.now < deadline {
                        try await f.sync()
                        try await Task.sleep(for: .seconds(2))
                    }
                }
                try await group.waitForAll()
            }
            try await f.sync()
            try await f.sync()
            let third = try await f.sync()
            #expect(third.values.allSatisfy { $0.inserted == 0 && $0.modified == 0 && $0.failed == 0 }, "\(third)")

            let erpRows = try await f.erp.query("SELECT no, name, city FROM customer").map { try $0.decode((String, String, String?).self) }
            let crmRows = try await f.crm.query("SELECT account_number, name, city FROM account").map { try $0.decode((String, String, String?).self) }
            #expect(crmRows.count == erpRows.count)
            #expect(Set(crmRows.map(\.0)).count == crmRows.count, "no duplicate accounts")
            let crm = Dictionary(uniqueKeysWithValues: crmRows.map { ($0.0, ($0.1, $0.2)) })
            for (no, name, city) in erpRows where !(crm[no]?.0 == name && crm[no]?.1 == city) {
                let coupling = try await f.coordination.query(
                    "SELECT local_modified_at::text, integration_modified_at::text FROM couplet.couplings WHERE local_id = \(no)").single().values
                let erpStamp = try await f.erp.query("SELECT modified_at::text FROM customer WHERE no = \(no)").single().values
                let crmStamp = try await f.crm.query("SELECT modified_at::text FROM account WHERE account_number = \(no)").single().values
                Issue.record("customer \(no) differs: \(name), \(city ?? "-") vs \(String(describing: crm[no])); coupling \(coupling), erp \(erpStamp), crm \(crmStamp)")
            }
            #expect(try await f.count(f.coordination, "SELECT count(*) FROM couplet.couplings") == erpRows.count)
        }
    }
}
