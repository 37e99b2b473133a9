import Foundation
import Postgres
import PostgresTestSupport
import Testing

/// Runs `couplet <sync>` while `couplet.couplings` is locked, so the worker that runs it writes its
/// target and then waits to save the coupling; once `written` holds and a session waits on the
/// lock, runs `beforeKill`, SIGKILLs `worker` and releases the lock. The crash every "killed before
/// its coupling save" test needs.
func killBeforeCouplingSave(
    _ worker: CoupletProcess.Running, coordination: PostgresConnection, sync: [String], environment: [String: String],
    written: () async throws -> Bool, beforeKill: () async throws -> Void = {}
) async throws {
    let locker = try await PostgresConnection.connect(coordination.configuration)
    defer { locker.close() }
    try await locker.runScript("BEGIN; LOCK TABLE couplet.couplings IN EXCLUSIVE MODE", name: "hold couplings")
    let enqueued = try await CoupletProcess.run(sync, environment: environment)
    #expect(enqueued.status == 0, "\(enqueued.standardError)")
    let held = try await eventually(within: .seconds(60), every: .milliseconds(50)) {
        let waiting = try await coordination.query(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
        ).single().decode(Int.self, at: 0)
        return try await written() && waiting > 0
    }
    #expect(held, "the worker wrote the target and waits to save the coupling")
    try await beforeKill()
    worker.kill()
    _ = try await worker.waitForExit()
    try await locker.runScript("ROLLBACK", name: "release")
}
