import Foundation
import Postgres
import PostgresTestSupport
import Testing

/// A full sync of mapping `DEBTOR` to a Web API by a real worker killed mid-run, then rescued by a
/// second worker: what `DataverseProcessTests` and `BusinessCentralProcessTests` assert alike —
/// the job completes, every record is written once, and the rescuer leaks no secret.
struct KilledWorkerRescue {
    /// Both processes' environment.
    let environment: [String: String]
    /// The coordination database.
    let coordination: PostgresConnection
    /// The database the API serves.
    let target: PostgresConnection
    /// The table the records land in, and a column whose values differ between records.
    let table: String
    let distinctColumn: String
    /// How many records the sync writes.
    let records: Int
    /// The secret the processes must never print.
    let secret: String

    func count(_ connection: PostgresConnection, _ sql: String) async throws -> Int {
        try await connection.query(PostgresQuery(unsafeSQL: sql)).single().decode(Int.self, at: 0)
    }

    /// Applies the mappings in `folder`, starts a worker, kills it once some records are written,
    /// and lets a second worker rescue the job.
    func run(mappingsIn folder: URL) async throws {
        let apply = try await CoupletProcess.run(["mappings", "apply", "mappings.yaml"], environment: environment, directory: folder)
        #expect(apply.status == 0, "\(apply.standardError)")
        #expect(!apply.standardOutput.contains(secret) && !apply.standardError.contains(secret))
        let victim = try CoupletProcess.start(["worker", "--queues", "sync", "--lease", "3s"], environment: environment)
        #expect(try await CoupletProcess.run(["sync", "DEBTOR", "--full"], environment: environment).status == 0)
        #expect(try await eventually(within: .seconds(60), every: .milliseconds(20)) {
            try await count(target, "SELECT count(*) FROM \(table)") >= records / 10
        })
        victim.kill()
        let partial = try await count(target, "SELECT count(*) FROM \(table)")
        #expect(partial < records, "killed before the end (\(partial) written)")
        let rescuer = try CoupletProcess.start(["worker", "--queues", "sync", "--lease", "3s"], environment: environment)
        // A rescue waits out the lease; the rerun writes over HTTP to an emulator sharing this test's cores.
        #expect(try await eventually(within: .seconds(300), every: .milliseconds(200)) {
            try await count(coordination, "SELECT count(*) FROM couplet.jobs WHERE kind = 'sync.full' AND state = 'completed'") == 1
        })
        #expect(try await count(target, "SELECT count(*) FROM \(table)") == records)
        #expect(try await count(target, "SELECT count(DISTINCT \(distinctColumn)) FROM \(table)") == records, "no record twice")
        #expect(try await count(coordination, "SELECT count(*) FROM couplet.couplings") == records)
        rescuer.terminate()
        let rescued = try await rescuer.waitForExit()
        #expect(rescued.status == 0)
        #expect(!rescued.standardError.contains(secret))
    }
}
