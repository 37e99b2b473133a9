import Foundation
import Postgres
import PostgresTestSupport
import Testing

/// `withBoundExecutor`: a task on the connection's own thread, its calls run there without a hop.
@Suite("A connection's own thread as the task's executor")
struct BoundExecutorTests {
    @Test("calls on the bound connection run on its thread, calls on another connection still answer, and the preference ends with the body")
    func runsOnItsThread() async throws {
        try await withTestConnection { db in
            let other = try await PostgresConnection.connect(db.configuration, applicationName: "other")
            defer { other.close() }
            let (threads, sums) = try await db.withBoundExecutor {
                var threads: Set<UInt> = [UInt(pthread_self())]
                var sums: [Int] = []
                for value in 0..<200 {
                    sums.append(try await db.query("SELECT \(value)::int + 1").single().decode(Int.self, at: 0))
                    threads.insert(UInt(pthread_self()))
                    sums.append(try await other.query("SELECT \(value)::int + 2").single().decode(Int.self, at: 0))
                    threads.insert(UInt(pthread_self()))
                }
                return (threads, sums)
            }
            #expect(threads.count == 1, "the body ran on the connection's one thread throughout")
            await Task.yield()
            _ = try await other.query("SELECT 1")
            #expect(!threads.contains(UInt(pthread_self())), "after the body the task runs on the shared pool again")
            #expect(sums == (0..<200).flatMap { [$0 + 1, $0 + 2] })
        }
    }

    @Test("a bound task and an unbound one share the connection: their statements take turns and every one arrives")
    func sharesTheConnection() async throws {
        try await withTestConnection { db in
            try await db.query("CREATE TABLE entries (who text, n int)")
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await db.withBoundExecutor {
                        for n in 0..<100 { try await db.query("INSERT INTO entries VALUES ('bound', \(n))") }
                    }
                }
                group.addTask {
                    for n in 0..<100 { try await db.query("INSERT INTO entries VALUES ('unbound', \(n))") }
                }
                try await group.waitForAll()
            }
            let counts = try await db.query("SELECT who, count(*)::int FROM entries GROUP BY who ORDER BY who")
                .map { try $0.decode((String, Int).self) }
            #expect(counts.map(\.0) == ["bound", "unbound"] && counts.map(\.1) == [100, 100])
        }
    }

    @Test("cancelling a bound task cancels its running statement on the server, and the connection goes on")
    func cancellation() async throws {
        try await withTestConnection { db in
            let started = ContinuousClock.now
            let sleeper = Task { try await db.withBoundExecutor { try await db.query("SELECT pg_sleep(30)") } }
            try await Task.sleep(for: .milliseconds(300))
            sleeper.cancel()
            let error = await #expect(throws: PostgresError.self) { try await sleeper.value }
            #expect(error?.sqlState == "57014" || error?.code == .cancelled, "cancelled on the server, or before it was sent")
            #expect(started.duration(to: .now) < .seconds(10))
            #expect(try await db.withBoundExecutor { try await db.query("SELECT 1").single().decode(Int.self, at: 0) } == 1)
        }
    }
}

