import Foundation
import Postgres
import PostgresTestSupport
import Testing

@Suite("Queries against a real server")
struct RoundTripTests {
    struct Args: Codable, Equatable, Sendable {
        var mapping: String
        var since: Date
        var ids: [Int]
    }

    @Test("every supported type survives a round trip through a table")
    func roundTrips() async throws {
        try await withTestConnection { db in
            try await db.query("""
                CREATE TABLE sample (b bool, i2 int2, i4 int4, i8 int8, f8 float8, n numeric, t text, u uuid,
                    ts timestamptz, bytes bytea, doc jsonb, ids int8[], names text[], nothing text)
                """)
            let uuid = UUID()
            let when = Date(timeIntervalSince1970: 1_764_000_000.123456)
            let decimal = Decimal(string: "12345678901234567890.123456789")!
            let hostile = "O'Brien\"; DROP TABLE sample; -- \\ \t\n ünïcødé 🙂"
            let bytes = Data((0...255).map { UInt8($0) })
            let args = Args(mapping: "CUSTOMER", since: Date(timeIntervalSince1970: 1_700_000_000), ids: [1, 2])
            let names = ["a,b", "quote\"d", "NULL", "", "{x}"]
            try await db.query("""
                INSERT INTO sample VALUES (\(true), \(Int16(-7)), \(Int32(70_000)), \(Int64.max), \(2.5e-300), \(decimal),
                    \(hostile), \(uuid), \(when), \(bytes), \(try PostgresJSON(args)), \([Int.min, 0, 42]), \(names), \(String?.none))
                """)
            let row = try await db.query("SELECT * FROM sample").single()
            #expect(try row.decode(Bool.self, column: "b") == true)
            #expect(try row.decode(Int16.self, column: "i2") == -7)
            #expect(try row.decode(Int32.self, column: "i4") == 70_000)
            #expect(try row.decode(Int64.self, column: "i8") == .max)
            #expect(try row.decode(Double.self, column: "f8") == 2.5e-300)
            #expect(try row.decode(Decimal.self, column: "n") == decimal)
            #expect(try row.decode(String.self, column: "t") == hostile)
            #expect(try row.decode(UUID.self, column: "u") == uuid)
            #expect(try row.decode(Date.self, column: "ts") == when)
            #expect(try row.decode(Data.self, column: "bytes") == bytes)
            #expect(try row.decode(PostgresJSON<Args>.self, column: "doc").value == args)
            #expect(try row.decode([Int].self, column: "ids") == [Int.min, 0, 42])
            #expect(try row.decode([String].self, column: "names") == names)
            #expect(try row.decode(String?.self, column: "nothing") == nil)
            #expect(try await db.query("SELECT count(*) FROM sample").single().decode(Int.self, at: 0) == 1)
        }
    }

    @Test("days bind as date: the server reads the day meant, before 1970 and on leap days too")
    func dates() async throws {
        try await withTestConnection { db in
            for (days, text) in [(0, "1970-01-01"), (-1, "1969-12-31"), (11_016, "2000-02-29"), (20_417, "2025-11-25")] {
                let date = PostgresDate(daysSinceEpoch: days)
                #expect(date.text == text)
                let back = try await db.query("SELECT \(date)::text, \(date) - DATE '1970-01-01'").single().decode((String, Int).self)
                #expect(back.0 == text && back.1 == days)
            }
        }
    }

    @Test("timestamps decode the same whatever the session's time zone")
    func sessionTimeZone() async throws {
        try await withTestConnection { db in
            let instant = Date(timeIntervalSince1970: 1_743_296_400)
            for zone in ["UTC", "Europe/Oslo", "America/St_Johns", "Asia/Kathmandu"] {
                try await db.query("SELECT set_config('TimeZone', \(zone), false)")
                #expect(try await db.query("SELECT \(instant)::timestamptz").single().decode(Date.self, at: 0) == instant)
            }
        }
    }

    @Test("durations bind as intervals; one longer than an interval holds is the server's error, not a trap")
    func durations() async throws {
        try await withTestConnection { db in
            let seconds = try await db.query(
                "SELECT extract(epoch FROM \(Duration.milliseconds(1500)))::float8, extract(epoch FROM \(Duration.milliseconds(-1500)))::float8"
            ).single().decode((Double, Double).self)
            #expect(seconds == (1.5, -1.5))
            let tooLong = Duration.seconds(999_999_999 * 86_400)
            let error = await #expect(throws: PostgresError.self) { try await db.query("SELECT \(tooLong)") }
            #expect(error?.message.contains("interval field value out of range") == true, "\(String(describing: error))")
        }
    }

    @Test("instants beyond what timestamptz holds bind as infinity; the last instant it holds arrives as itself")
    func farTimestamps() async throws {
        try await withTestConnection { db in
            let beyond = Date(timeIntervalSince1970: 999_999_999 * 86_400)
            let last = Date(timeIntervalSince1970: 9_224_318_015_999)
            let row = try await db.query("SELECT \(beyond)::timestamptz = 'infinity', \(last)::timestamptz").single()
            #expect(try row.decode((Bool, Date).self) == (true, last))
        }
    }

    @Test("a syntax error keeps SQLSTATE 42601 and the statement's name, not its values")
    func syntaxError() async throws {
        try await withTestConnection { db in
            let error = await #expect(throws: PostgresError.self) {
                try await db.query("SELEKT \("secret-value")", name: "probe")
            }
            #expect(error?.code == .server)
            #expect(error?.sqlState == "42601")
            #expect(error?.statementName == "probe")
            #expect(error?.description.contains("syntax error") == true)
            #expect(error.map { !String(reflecting: $0).contains("secret-value") } == true)
            let stillUsable = try await db.query("SELECT 1").single().decode(Int.self, at: 0)
            #expect(stillUsable == 1, "the connection is still usable after a server error")
        }
    }

    @Test("a constraint violation keeps the detail for debugging but out of the description")
    func detailStaysOutOfDescription() async throws {
        try await withTestConnection { db in
            try await db.query("CREATE TABLE person (email text PRIMARY KEY)")
            try await db.query("INSERT INTO person VALUES (\("ada@example.com"))")
            let error = await #expect(throws: PostgresError.self) {
                try await db.query("INSERT INTO person VALUES (\("ada@example.com"))", name: "insert person")
            }
            #expect(error?.sqlState == "23505")
            #expect(error?.detail?.contains("ada@example.com") == true)
            #expect(error?.description.contains("ada@example.com") == false)
            #expect(error.map { String(reflecting: $0).contains("ada@example.com") } == true)
        }
    }

    @Test("a value of the wrong type for its column is a server error naming the problem")
    func badValue() async throws {
        try await withTestConnection { db in
            let error = await #expect(throws: PostgresError.self) { try await db.query("SELECT \("not a number")::int") }
            #expect(error?.sqlState == "22P02")
        }
    }
}

@Suite("Connections: authentication, loss and reconnection")
struct ConnectionLifecycleTests {
    @Test("a wrong password fails clearly and the password appears nowhere")
    func wrongPassword() async throws {
        let server = try TestDatabase.server()
        let url = "postgres://\(server.user ?? "couplet"):Wr0ngHorseBattery@\(server.host ?? "127.0.0.1"):\(server.port ?? "5432")/postgres?sslmode=disable"
        let error = await #expect(throws: PostgresError.self) { try await PostgresConnection.connect(url) }
        #expect(error?.code == .connectionFailed)
        #expect(error?.message.contains("password authentication failed") == true)
        #expect(error.map { !String(reflecting: $0).contains("Wr0ngHorseBattery") } == true)
        #expect(error.map { !"\($0)".contains("Wr0ngHorseBattery") } == true)
    }

    @Test("a server that goes away mid-session gives a clear error, and reconnect restores the connection")
    func serverGoesAway() async throws {
        try await TestDatabase.with { database in
            let session = try await database.connect()
            let admin = try await database.connect()
            let pid = session.backendPID
            try await session.query("SELECT 1")
            try await admin.query("SELECT pg_terminate_backend(\(pid))")
            let error = await #expect(throws: PostgresError.self) { try await session.query("SELECT 1", name: "after loss") }
            #expect(error?.isConnectionLoss == true)
            #expect(error?.statementName == "after loss")
            #expect(!session.isConnected)
            try await session.reconnect()
            #expect(session.isConnected)
            #expect(session.backendPID != pid)
            #expect(try await session.query("SELECT 41 + 1").single().decode(Int.self, at: 0) == 42)
        }
    }

    @Test("an unreachable server fails with connectionFailed")
    func unreachable() async throws {
        let error = await #expect(throws: PostgresError.self) {
            try await PostgresConnection.connect("postgres://nobody@127.0.0.1:1/none?connect_timeout=2")
        }
        #expect(error?.code == .connectionFailed)
    }

    @Test("a closed connection refuses further statements")
    func closed() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            connection.close()
            let error = await #expect(throws: PostgresError.self) { try await connection.query("SELECT 1") }
            #expect(error?.code == .connectionClosed)
        }
    }

    @Test("cancelling the task cancels the running statement on the server")
    func cancellation() async throws {
        try await withTestConnection { db in
            let started = ContinuousClock.now
            let sleeper = Task { try await db.query("SELECT pg_sleep(30)") }
            try await Task.sleep(for: .milliseconds(300))
            sleeper.cancel()
            let error = await #expect(throws: PostgresError.self) { try await sleeper.value }
            #expect(error?.sqlState == "57014" || error?.code == .cancelled, "cancelled on the server, or before it was sent")
            #expect(started.duration(to: .now) < .seconds(10))
            #expect(try await db.query("SELECT 1").single().decode(Int.self, at: 0) == 1)
        }
    }
}

@Suite("Transactions and savepoints")
struct TransactionTests {
    struct Planned: Error {}

    @Test("commit on success, rollback on throw, savepoints undo only the inner work")
    func transactions() async throws {
        try await withTestConnection { db in
            try await db.query("CREATE TABLE log (entry text)")
            try await db.withTransaction { tx in try await tx.query("INSERT INTO log VALUES ('committed')") }
            await #expect(throws: Planned.self) {
                try await db.withTransaction { tx in
                    try await tx.query("INSERT INTO log VALUES ('rolled back')")
                    throw Planned()
                }
            }
            try await db.withTransaction { outer in
                try await outer.query("INSERT INTO log VALUES ('outer')")
                try? await outer.withTransaction { inner in
                    try await inner.query("INSERT INTO log VALUES ('inner')")
                    try await inner.query("SELECT 1/0")
                }
                try await outer.withTransaction { inner in try await inner.query("INSERT INTO log VALUES ('inner kept')") }
            }
            let entries = try await db.query("SELECT entry FROM log ORDER BY entry").map { try $0.decode(String.self, at: 0) }
            #expect(entries == ["committed", "inner kept", "outer"])
        }
    }

    @Test("a serializable transaction really runs at that level")
    func isolationLevel() async throws {
        try await withTestConnection { db in
            let level = try await db.withTransaction(.serializable) { tx in
                try await tx.query("SHOW transaction_isolation").single().decode(String.self, at: 0)
            }
            #expect(level == "serializable")
        }
    }

    @Test("a transaction whose task is cancelled is rolled back, and the session leaves it")
    func cancelledTransaction() async throws {
        try await TestDatabase.with { database in
            let db = try await database.connect()
            let observer = try await database.connect()
            try await db.query("CREATE TABLE log (entry text)")
            let (inserted, signal) = AsyncStream.makeStream(of: Void.self)
            let task = Task {
                try await db.withTransaction { tx in
                    try await tx.query("INSERT INTO log VALUES ('cancelled')")
                    signal.yield()
                    try await tx.query("SELECT pg_sleep(30)")
                }
            }
            for await _ in inserted { break }
            task.cancel()
            _ = await task.result
            try await db.query("INSERT INTO log VALUES ('after')")
            let entries = try await observer.query("SELECT entry FROM log").map { try $0.decode(String.self, at: 0) }
            #expect(entries == ["after"], "the next statement ran outside any transaction")
        }
    }

    @Test("a task cancelled just before the commit rolls back instead of staying in the transaction")
    func cancelledBeforeCommit() async throws {
        try await TestDatabase.with { database in
            let db = try await database.connect()
            let observer = try await database.connect()
            try await db.query("CREATE TABLE log (entry text)")
            let task = Task {
                try await db.withTransaction { tx in
                    try await tx.query("INSERT INTO log VALUES ('cancelled')")
                    withUnsafeCurrentTask { $0?.cancel() }
                }
            }
            _ = await task.result
            try await db.query("INSERT INTO log VALUES ('after')")
            let entries = try await observer.query("SELECT entry FROM log").map { try $0.decode(String.self, at: 0) }
            #expect(entries == ["after"], "the next statement ran outside any transaction")
        }
    }

    @Test("a cleanup statement runs in a cancelled task, where an ordinary one is refused")
    func cleanupWhenCancelled() async throws {
        try await withTestConnection { db in
            try await db.query("CREATE TABLE run (state text)")
            let task = Task {
                withUnsafeCurrentTask { $0?.cancel() }
                await #expect(throws: PostgresError.self) { try await db.query("INSERT INTO run VALUES ('refused')") }
                try await db.queryEvenIfCancelled("INSERT INTO run VALUES (\("cancelled"))", name: "mark run cancelled")
            }
            try await task.value
            #expect(try await db.query("SELECT state FROM run").map { try $0.decode(String.self, at: 0) } == ["cancelled"])
        }
    }
}

@Suite("LISTEN/NOTIFY")
struct NotificationTests {
    @Test("a notification wakes the waiter with its payload")
    func delivery() async throws {
        try await TestDatabase.with { database in
            let listener = try await database.connect()
            let sender = try await database.connect()
            let channel = try PostgresIdentifier("jobs available")
            try await listener.listen(channel)
            async let received = listener.notifications(timeout: .seconds(10))
            try await Task.sleep(for: .milliseconds(100))
            try await sender.query("SELECT pg_notify(\("jobs available"), \("default"))")
            let notifications = try await received
            #expect(notifications.map(\.channel) == ["jobs available"])
            #expect(notifications.first?.payload == "default")
            #expect(notifications.first?.senderPID == sender.backendPID)
        }
    }

    @Test("a wait times out empty-handed, and cancellation ends it at once")
    func timeoutAndCancellation() async throws {
        try await withTestConnection { db in
            try await db.listen(PostgresIdentifier("quiet"))
            let start = ContinuousClock.now
            #expect(try await db.notifications(timeout: .milliseconds(300)).isEmpty)
            #expect(start.duration(to: .now) >= .milliseconds(300))
            let waiter = Task { try await db.notifications(timeout: .seconds(60)) }
            try await Task.sleep(for: .milliseconds(100))
            let cancelled = ContinuousClock.now
            waiter.cancel()
            let error = await #expect(throws: PostgresError.self) { try await waiter.value }
            #expect(error?.code == .cancelled)
            #expect(cancelled.duration(to: .now) < .seconds(10), "ended by the cancellation, long before the 60 s timeout")
            #expect(try await db.query("SELECT 2").single().decode(Int.self, at: 0) == 2)
        }
    }

    @Test("many waiting connections do not starve the cooperative thread pool")
    func waitsDoNotBlockThePool() async throws {
        try await TestDatabase.with { database in
            var listeners: [PostgresConnection] = []
            for _ in 0..<8 { listeners.append(try await database.connect()) }
            let busy = try await database.connect()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for listener in listeners {
                    group.addTask { _ = try await listener.notifications(timeout: .seconds(30)) }
                }
                try await Task.sleep(for: .milliseconds(200))
                let start = ContinuousClock.now
                for value in 0..<50 { #expect(try await busy.query("SELECT \(value)").single().decode(Int.self, at: 0) == value) }
                // Starved, the queries would wait for the 30 s waits to end.
                #expect(start.duration(to: .now) < .seconds(15), "queries stalled while 8 connections waited")
                group.cancelAll()
                while let result = await group.nextResult() {
                    if case .failure(let error as PostgresError) = result { #expect(error.code == .cancelled) }
                }
            }
        }
    }
}

@Suite("COPY FROM STDIN")
struct CopyTests {
    @Test("ten thousand rows with tabs, newlines, backslashes and NULLs arrive intact")
    func bulkCopy() async throws {
        try await withTestConnection { db in
            try await db.query("CREATE TABLE item (id int8 PRIMARY KEY, label text, price numeric, seen timestamptz)")
            let when = Date(timeIntervalSince1970: 1_764_000_000)
            let rows = (1...10_000).lazy.map { id -> [any PostgresEncodable] in
                [id, id % 100 == 0 ? String?.none : "item\t\(id)\nline \\ two", Decimal(id) / 4, when]
            }
            let written = try await db.copy(
                into: PostgresIdentifier("item"),
                columns: [PostgresIdentifier("id"), PostgresIdentifier("label"), PostgresIdentifier("price"), PostgresIdentifier("seen")],
                rows: rows)
            #expect(written == 10_000)
            let summary = try await db.query(
                "SELECT count(*), count(label), sum(price), min(seen) FROM item"
            ).single().decode((Int, Int, Decimal, Date).self)
            #expect(summary.0 == 10_000 && summary.1 == 9_900)
            #expect(summary.2 == Decimal(10_000 * 10_001 / 2) / 4)
            #expect(summary.3 == when)
            let label = try await db.query("SELECT label FROM item WHERE id = 7").single().decode(String.self, at: 0)
            #expect(label == "item\t7\nline \\ two")
        }
    }

    @Test("a bad row aborts the whole COPY and writes nothing")
    func failedCopyWritesNothing() async throws {
        try await withTestConnection { db in
            try await db.query("CREATE TABLE item (id int8 PRIMARY KEY, label text)")
            let columns = [try PostgresIdentifier("id"), try PostgresIdentifier("label")]
            let wrongWidth: [[any PostgresEncodable]] = [[1, "one"], [2]]
            let error = await #expect(throws: PostgresError.self) {
                try await db.copy(into: PostgresIdentifier("item"), columns: columns, rows: wrongWidth)
            }
            #expect(error?.message.contains("row 2 has 1 values for 2 columns") == true)
            let duplicate: [[any PostgresEncodable]] = [[1, "one"], [1, "again"]]
            let server = await #expect(throws: PostgresError.self) {
                try await db.copy(into: PostgresIdentifier("item"), columns: columns, rows: duplicate)
            }
            #expect(server?.sqlState == "23505")
            #expect(try await db.query("SELECT count(*) FROM item").single().decode(Int.self, at: 0) == 0)
        }
    }
}

@Suite("Prepared statements")
struct PreparedStatementTests {
    @Test("a reused statement follows a table whose columns changed")
    func changedTable() async throws {
        try await withTestConnection { db in
            try await db.query("CREATE TABLE account (id int8)")
            try await db.query("INSERT INTO account VALUES (\(1))")
            #expect(try await db.query("SELECT * FROM account").columns.names == ["id"])
            try await db.query("ALTER TABLE account ADD COLUMN name text DEFAULT 'x'")
            #expect(try await db.query("SELECT * FROM account").columns.names == ["id", "name"])
        }
    }

    @Test("without prepared statements (for poolers in transaction mode) queries work the same")
    func unprepared() async throws {
        try await TestDatabase.with { database in
            let db = try await PostgresConnection.connect(database.configuration, usesPreparedStatements: false)
            for value in 0..<3 {
                #expect(try await db.query("SELECT \(value) + 1").single().decode(Int.self, at: 0) == value + 1)
            }
            let prepared = try await db.query("SELECT count(*) FROM pg_prepared_statements").single().decode(Int.self, at: 0)
            #expect(prepared == 0)
        }
    }

    @Test("hundreds of distinct statements stay within the per-connection cache")
    func boundedCache() async throws {
        try await withTestConnection { db in
            for value in 0..<450 {
                let sql = PostgresQuery(unsafeSQL: "SELECT $1::int + \(value)", bindings: [PostgresBinding(1)])
                #expect(try await db.query(sql).single().decode(Int.self, at: 0) == value + 1)
            }
            let prepared = try await db.query("SELECT count(*) FROM pg_prepared_statements").single().decode(Int.self, at: 0)
            #expect(prepared <= 200)
        }
    }
}
