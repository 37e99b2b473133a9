import CLibPQ
import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One connection to PostgreSQL, safe to share between tasks but used by one task at a time.
///
/// Every libpq call blocks, so each connection runs its calls on its own serial dispatch queue
/// and the awaiting task is resumed through a continuation: Swift's cooperative thread pool is
/// never blocked, even while a connection waits for notifications. Cancelling the awaiting task
/// sends the server a cancel request for the running statement (or ends a notification wait).
///
/// Statements from several tasks are serialised, but a transaction belongs to the connection, so
/// give each concurrent unit of work its own connection.
public final class PostgresConnection: Sendable {
    /// Where this connection points; printing it never shows the password.
    public let configuration: PostgresConfiguration
    private let handle: Mutex<OpaquePointer?>
    private let canceller: Mutex<OpaquePointer?>
    private let transactionDepth = Mutex(0)
    /// Whether statements are prepared once and reused (see `connect`).
    public let usesPreparedStatements: Bool
    /// SQL text and parameter types → name of its prepared statement on this session.
    private let preparedStatements = Mutex<[StatementKey: String]>([:])
    /// Numbers prepared statement names; never reused within a process, so names never collide.
    private let statementNumber = Atomic<Int>(0)
    /// A pipe whose read end a notification wait polls beside the socket; writing wakes it.
    private let wakePipe: (read: Int32, write: Int32)
    private let queue: DispatchQueue
    /// The thread of `withBoundExecutor`, started on first use.
    private let boundThread = Mutex<ConnectionThread?>(nil)

    /// Connects; `applicationName` shows in `pg_stat_activity` unless the string sets its own.
    ///
    /// Statements are prepared once per connection and reused, which saves the server parsing and
    /// planning them again; pass `usesPreparedStatements: false` behind a pooler that cannot keep
    /// them (PgBouncer in transaction mode before 1.21, or without `max_prepared_statements`).
    public static func connect(
        _ configuration: PostgresConfiguration, applicationName: String = "couplet", usesPreparedStatements: Bool = true
    ) async throws -> PostgresConnection {
        try await open(configuration, secret: nil, applicationName: applicationName, usesPreparedStatements: usesPreparedStatements)
    }

    /// Connects as a person's own login: the server, port and database of `configuration`, the user
    /// name and password given. The password goes to libpq for this one connection attempt and is
    /// kept nowhere else: the connection's `configuration` names the user without it, errors are
    /// scrubbed of it, and `reconnect` cannot sign in again (sign in anew instead).
    public static func connect(
        _ configuration: PostgresConfiguration, user: String, password: String, applicationName: String = "couplet"
    ) async throws -> PostgresConnection {
        try await open(
            configuration.replacingCredentials(user: user), secret: ConnectionSetting(keyword: "password", value: password),
            applicationName: applicationName, usesPreparedStatements: true)
    }

    /// Connects on a queue of the connection's own, where its blocking libpq calls run.
    private static func open(
        _ configuration: PostgresConfiguration, secret: ConnectionSetting?, applicationName: String, usesPreparedStatements: Bool
    ) async throws -> PostgresConnection {
        let queue = DispatchQueue(label: "couplet.postgres.connection")
        return try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result {
                    try PostgresConnection(
                        configuration, secret: secret, applicationName: applicationName, usesPreparedStatements: usesPreparedStatements,
                        queue: queue)
                })
            }
        }
    }

    /// Connects from a URL or keyword string.
    public static func connect(_ connectionString: String, applicationName: String = "couplet") async throws
        -> PostgresConnection
    {
        try await connect(PostgresConfiguration(connectionString), applicationName: applicationName)
    }

    /// Blocks the calling thread (the connection's queue) until connected.
    private init(
        _ configuration: PostgresConfiguration, secret: ConnectionSetting? = nil, applicationName: String, usesPreparedStatements: Bool,
        queue: DispatchQueue
    ) throws {
        // The defaults come first so that the connection string may override them; both arrays end in
        // NULL. The settings are already parsed, so libpq must not expand dbname as a string again.
        let settings = configuration.settings + (secret.map { [$0] } ?? [])
        let keywords = ["connect_timeout", "fallback_application_name"] + settings.map(\.keyword) + [nil]
        let values = ["10", applicationName] + settings.map(\.value) + [nil]
        let connection = Self.withCStrings(keywords) { keywordPointers in
            Self.withCStrings(values) { valuePointers in PQconnectdbParams(keywordPointers, valuePointers, 0) }
        }
        guard let connection, PQstatus(connection) == CONNECTION_OK else {
            let reason = connection.map { String(cString: PQerrorMessage($0)) } ?? "out of memory"
            PQfinish(connection)
            throw PostgresError(
                .connectionFailed,
                message: "cannot connect to \(configuration): \(configuration.scrub(Self.trimmed(reason), alsoHiding: secret))")
        }
        var descriptors: [Int32] = [-1, -1]
        guard pipe(&descriptors) == 0 else {
            PQfinish(connection)
            throw PostgresError(.connectionFailed, message: "cannot create a pipe: \(String(cString: strerror(errno)))")
        }
        for descriptor in descriptors {
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
            _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
        }
        self.wakePipe = (descriptors[0], descriptors[1])
        self.configuration = configuration
        self.usesPreparedStatements = usesPreparedStatements
        self.queue = queue
        self.canceller = Mutex(Self.makeCanceller(connection))
        self.handle = Mutex(connection)
        Self.open.add(1, ordering: .relaxed)
    }

    /// How many connections this process holds open right now (each one counts from connecting
    /// until `close()` or its release), for the processes' `/metrics`.
    public static var openCount: Int { open.load(ordering: .relaxed) }
    private static let open = Atomic<Int>(0)

    /// Finishes the libpq connection once, counting it closed.
    private static func finish(_ connection: inout OpaquePointer?) {
        guard let open = connection else { return }
        PQfinish(open)
        connection = nil
        Self.open.subtract(1, ordering: .relaxed)
    }

    /// A `PGcancel` for the connection. libpq documents it as independent of the connection once
    /// made and safe to use from any thread, which is why it may leave the connection's region.
    private static func makeCanceller(_ connection: OpaquePointer) -> sending OpaquePointer? {
        nonisolated(unsafe) let canceller = PQgetCancel(connection)
        return canceller
    }

    deinit {
        boundThread.withLock { $0?.stop() }
        handle.withLock { Self.finish(&$0) }
        canceller.withLock { PQfreeCancel($0) }
        Glibc.close(wakePipe.read)
        Glibc.close(wakePipe.write)
    }

    /// Closes the connection now; later calls fail with `connectionClosed`.
    public func close() {
        handle.withLock { Self.finish(&$0) }
    }

    /// Runs one statement with its bound parameters and returns its rows; `name` identifies the
    /// statement in errors (its values never appear there).
    @discardableResult
    public func query(_ query: PostgresQuery, name: String? = nil) async throws -> PostgresRows {
        try await run(query, name: name, onCancel: .cancelStatement)
    }

    /// Runs a cleanup statement even when the task is cancelled, where `query` would refuse to start:
    /// recording that a run was cancelled, releasing what the cancelled work held.
    ///
    /// Cancellation does not interrupt it either, so keep it short. It fails only as any statement
    /// fails (a broken connection, a server error).
    @discardableResult
    public func queryEvenIfCancelled(_ query: PostgresQuery, name: String? = nil) async throws -> PostgresRows {
        try await run(query, name: name, onCancel: .runEvenIfCancelled)
    }

    private func run(_ query: PostgresQuery, name: String?, onCancel action: CancelAction) async throws -> PostgresRows {
        let (sql, bindings) = query.rendered()
        return try await perform(onCancel: action) { connection in
            try self.execute(sql, bindings, on: connection, statementName: name)
        }
    }

    /// Runs a statement, prepared once per connection and reused when `usesPreparedStatements`.
    private func execute(
        _ sql: String, _ bindings: [PostgresBinding], on connection: OpaquePointer, statementName: String?
    ) throws -> PostgresRows {
        try Self.refuseNULCharacters(in: bindings, statementName: statementName)
        let types = bindings.map { Oid($0.type.oid) }
        let count = Int32(bindings.count)
        return try Self.withCStrings(bindings.map(\.text)) { values in
            guard usesPreparedStatements else {
                let result = PQexecParams(connection, sql, count, types, values, nil, nil, 0)
                return try Self.rows(of: result, on: connection, statementName: statementName, configuration: configuration)
            }
            func run() throws -> PostgresRows {
                let prepared = try prepare(sql, types: types, on: connection, statementName: statementName)
                let result = PQexecPrepared(connection, prepared, count, values, nil, nil, 0)
                return try Self.rows(of: result, on: connection, statementName: statementName, configuration: configuration)
            }
            do {
                return try run()
            } catch let error as PostgresError where error.sqlState == "0A000" || error.sqlState == "26000" {
                // A table changed its columns under the cached plan, or the session was reset (DISCARD ALL):
                // prepare afresh. Outside a transaction nothing was done yet, so run it again at once.
                preparedStatements.withLock { $0[StatementKey(sql: sql, types: types)] = nil }
                guard transactionDepth.withLock({ $0 }) == 0 else { throw error }
                return try run()
            }
        }
    }

    /// Refuses a value holding a NUL character before anything is sent: libpq takes parameters as C
    /// strings, which end at the first NUL, so the value would arrive silently cut (and PostgreSQL
    /// text cannot hold a NUL anyway). The error names the parameter, never its value.
    private static func refuseNULCharacters(in bindings: [PostgresBinding], statementName: String?) throws(PostgresError) {
        for (index, binding) in bindings.enumerated() where binding.text?.utf8.contains(0) == true {
            throw PostgresError(
                .invalidParameter,
                message: "parameter $\(index + 1) contains a NUL character (U+0000), which PostgreSQL text cannot hold",
                statementName: statementName)
        }
    }

    /// The name of the prepared statement for `sql` with these parameter types, preparing it the first time.
    private func prepare(_ sql: String, types: [Oid], on connection: OpaquePointer, statementName: String?) throws -> String {
        let key = StatementKey(sql: sql, types: types)
        if let name = preparedStatements.withLock({ $0[key] }) { return name }
        if preparedStatements.withLock({ $0.count }) >= Self.preparedStatementLimit {
            _ = try Self.rows(of: PQexec(connection, "DEALLOCATE ALL"), on: connection, statementName: "deallocate", configuration: configuration)
            preparedStatements.withLock { $0.removeAll() }
        }
        let name = "couplet_\(statementNumber.add(1, ordering: .relaxed).newValue)"
        let result = PQprepare(connection, name, sql, Int32(types.count), types)
        _ = try Self.rows(of: result, on: connection, statementName: statementName, configuration: configuration)
        preparedStatements.withLock { $0[key] = name }
        return name
    }

    /// What identifies a prepared statement: its text and its parameters' types.
    private struct StatementKey: Hashable {
        let sql: String
        let types: [Oid]
    }

    /// Statements kept prepared per connection; past this the cache starts afresh.
    private static let preparedStatementLimit = 200

    /// Runs trusted SQL text that may hold several statements (a migration file) in one round trip.
    ///
    /// Outside a transaction the server runs the statements as one implicit transaction.
    public func runScript(_ script: String, name: String) async throws {
        try await runScript(script, name: name, onCancel: .cancelStatement)
    }

    private func runScript(_ script: String, name: String, onCancel action: CancelAction) async throws {
        try await perform(onCancel: action) { connection in
            // PQexec stops at the first failing statement and returns its result, else the last one.
            _ = try Self.rows(
                of: PQexec(connection, script), on: connection, statementName: name, configuration: self.configuration)
        }
    }

    /// True while libpq considers the connection usable.
    public var isConnected: Bool {
        handle.withLock { connection in connection.map { PQstatus($0) == CONNECTION_OK } ?? false }
    }

    /// True when the connection can be lent to the next user: connected, outside any transaction,
    /// and silent since it was last used.
    ///
    /// Costs no round trip. A server sends nothing unprompted to a session that is not listening for
    /// notifications (pool connections never are) except when it is about to close it: an
    /// administrator's `pg_terminate_backend`, a shutdown or restart, `idle_session_timeout`. It sends
    /// the error first and closes the socket a moment later, so waiting for libpq to see the closed
    /// socket would lend a connection that dies on its first statement; any input at all retires it.
    var isIdle: Bool {
        handle.withLock { connection in
            guard let connection, !Self.hasPendingInput(connection) else { return false }
            return PQstatus(connection) == CONNECTION_OK && PQtransactionStatus(connection) == PQTRANS_IDLE
        }
    }

    /// True when the socket has input waiting, was closed, or cannot be polled; never waits.
    private static func hasPendingInput(_ connection: OpaquePointer) -> Bool {
        var socket = pollfd(fd: PQsocket(connection), events: Int16(POLLIN), revents: 0)
        return poll(&socket, 1, 0) != 0
    }

    /// The server's process id for this session (`pg_stat_activity.pid`).
    public var backendPID: Int32 {
        handle.withLock { connection in connection.map { PQbackendPID($0) } ?? 0 }
    }

    /// Re-establishes a broken connection with the same settings.
    ///
    /// Session state is gone afterwards: an open transaction was rolled back by the server, and
    /// channels must be listened to again.
    public func reconnect() async throws {
        try await perform(onCancel: .none) { connection in
            PQreset(connection)
            guard PQstatus(connection) == CONNECTION_OK else {
                throw PostgresError(
                    .connectionFailed,
                    message: "cannot reconnect to \(self.configuration): "
                        + self.configuration.scrub(Self.trimmed(String(cString: PQerrorMessage(connection)))))
            }
            self.canceller.withLock { canceller in
                PQfreeCancel(canceller)
                canceller = Self.makeCanceller(connection)
            }
        }
        transactionDepth.withLock { $0 = 0 }
        preparedStatements.withLock { $0.removeAll() }
    }

    // MARK: - Transactions

    /// The isolation level of a transaction.
    public enum IsolationLevel: String, Sendable {
        case readCommitted = "READ COMMITTED"
        case repeatableRead = "REPEATABLE READ"
        case serializable = "SERIALIZABLE"
    }

    /// Runs `body` in a transaction: commits when it returns, rolls back when it throws.
    ///
    /// Called inside another transaction it becomes a savepoint, so an inner failure undoes only
    /// the inner work and the outer transaction goes on. The rollback runs even when the task was
    /// cancelled (a job's timeout, a shutdown), so the connection never stays inside the transaction;
    /// a task cancelled before the commit is sent rolls back too.
    @discardableResult
    public func withTransaction<Result>(
        _ level: IsolationLevel = .readCommitted,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let depth = transactionDepth.withLock { depth in
            depth += 1
            return depth
        }
        defer { transactionDepth.withLock { $0 -= 1 } }
        let savepoint = "couplet_savepoint_\(depth)"
        try await runScript(depth == 1 ? "BEGIN ISOLATION LEVEL \(level.rawValue)" : "SAVEPOINT \(savepoint)", name: "begin")
        do {
            let result = try await body(self)
            try await runScript(depth == 1 ? "COMMIT" : "RELEASE SAVEPOINT \(savepoint)", name: "commit")
            return result
        } catch {
            let rollback = depth == 1 ? "ROLLBACK" : "ROLLBACK TO SAVEPOINT \(savepoint); RELEASE SAVEPOINT \(savepoint)"
            try? await runScript(rollback, name: "rollback", onCancel: .runEvenIfCancelled)
            throw error
        }
    }

    // MARK: - Running on the connection's queue

    enum CancelAction {
        case none
        case cancelStatement
        case wakeWaiter
        /// Not stopped by cancellation, and run even in a cancelled task: cleanup that returns the
        /// connection to a usable state (ending a COPY, rolling back a transaction).
        case runEvenIfCancelled
    }

    /// Runs `body` with this connection's own thread as the task's preferred executor: the task's code
    /// runs on that thread, and its calls on this connection run there directly rather than on the
    /// connection's queue, saving two thread hops a call. For a loop that talks to one connection
    /// (a worker's finisher, a benchmark); child tasks inherit the preference unless they ask otherwise.
    public func withBoundExecutor<T>(
        isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> T
    ) async rethrows -> T {
        let thread = boundThread.withLock { thread in
            if let thread { return thread }
            let started = ConnectionThread(name: "couplet.pq")
            thread = started
            return started
        }
        return try await withTaskExecutorPreference(thread, isolation: isolation, operation: body)
    }

    /// Runs `body` with the libpq handle, on the connection's own thread when the task runs there
    /// (`withBoundExecutor`), else on the connection's queue, resuming the caller with its result.
    func perform<T: Sendable>(
        onCancel action: CancelAction, _ body: @escaping @Sendable (OpaquePointer) throws -> T
    ) async throws -> T {
        if action != .runEvenIfCancelled, Task.isCancelled {
            throw PostgresError(.cancelled, message: "the task was cancelled before the statement was sent")
        }
        let operation = Operation()
        let call: @Sendable () throws -> T = {
            try self.handle.withLock { connection throws -> T in
                guard let connection else {
                    throw PostgresError(.connectionClosed, message: "the connection was closed")
                }
                guard operation.start() else {
                    throw PostgresError(.cancelled, message: "the task was cancelled before the statement was sent")
                }
                defer { operation.finish() }
                return try body(connection)
            }
        }
        let onOwnThread = boundThread.withLock { $0?.isCurrent ?? false }
        return try await withTaskCancellationHandler {
            if onOwnThread { return try call() }
            return try await withCheckedThrowingContinuation { continuation in
                queue.async { continuation.resume(with: Result { try call() }) }
            }
        } onCancel: {
            switch action {
            case .none, .runEvenIfCancelled: break
            case .cancelStatement: self.cancel(operation)
            case .wakeWaiter: self.wake()
            }
        }
    }

    /// One call's progress on the connection's queue, so a cancellation knows what to stop.
    private final class Operation: Sendable {
        private static let queued = 0, running = 1, done = 2, cancelledBeforeStart = 3
        private let state = Atomic(Operation.queued)

        /// Marks the call running; false when it was cancelled while queued (it must not run).
        func start() -> Bool {
            state.compareExchange(expected: Self.queued, desired: Self.running, ordering: .acquiringAndReleasing).exchanged
        }

        func finish() { state.store(Self.done, ordering: .releasing) }

        /// Cancels a queued call; true when the call is running and the server must be asked.
        func cancel() -> Bool {
            let (exchanged, current) = state.compareExchange(
                expected: Self.queued, desired: Self.cancelledBeforeStart, ordering: .acquiringAndReleasing)
            return !exchanged && current == Self.running
        }

        var isRunning: Bool { state.load(ordering: .acquiring) == Self.running }
    }

    /// Stops `operation`: a queued one never runs; for a running one the server is asked to cancel
    /// it, again every 100 ms while it runs (a request that overtakes the statement is lost), for up to 10 s.
    private func cancel(_ operation: Operation) {
        guard operation.cancel() else { return }
        DispatchQueue.global().async {
            for _ in 0..<100 where operation.isRunning {
                self.canceller.withLock { canceller in
                    guard let canceller, operation.isRunning else { return }
                    var buffer = [CChar](repeating: 0, count: 256)
                    _ = PQcancel(canceller, &buffer, Int32(buffer.count))
                }
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
    }

    /// Ends a notification wait early.
    func wake() {
        var byte: UInt8 = 1
        _ = Glibc.write(wakePipe.write, &byte, 1)
    }

    /// Clears wake-ups, including one left over from an earlier cancellation; true if there was one.
    func consumeWake() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 64)
        var woken = false
        while Glibc.read(wakePipe.read, &buffer, buffer.count) > 0 { woken = true }
        return woken
    }

    /// The descriptor that `wake()` makes readable.
    var wakeFileDescriptor: Int32 { wakePipe.read }

    // MARK: - Results and errors

    /// Turns a `PGresult` into rows or a `PostgresError`, and clears it.
    static func rows(
        of result: OpaquePointer?, on connection: OpaquePointer, statementName: String?,
        configuration: PostgresConfiguration
    ) throws -> PostgresRows {
        guard let result else {
            throw connectionError(connection, statementName: statementName, configuration: configuration)
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY, PGRES_COPY_IN:
            return PostgresRows(copying: result)
        default:
            throw serverError(result, on: connection, statementName: statementName, configuration: configuration)
        }
    }

    /// The error a failed `PGresult` describes, as a connection loss when the connection broke.
    static func serverError(
        _ result: OpaquePointer, on connection: OpaquePointer, statementName: String?,
        configuration: PostgresConfiguration
    ) -> PostgresError {
        func field(_ code: Int32) -> String? { PQresultErrorField(result, code).map { String(cString: $0) } }
        guard let message = field(CLIBPQ_DIAG_MESSAGE_PRIMARY) else {
            return connectionError(connection, statementName: statementName, configuration: configuration)
        }
        let broken = PQstatus(connection) != CONNECTION_OK
        var error = PostgresError(
            broken ? .connectionClosed : .server, message: configuration.scrubPassword(message),
            sqlState: field(CLIBPQ_DIAG_SQLSTATE), detail: field(CLIBPQ_DIAG_MESSAGE_DETAIL),
            hint: field(CLIBPQ_DIAG_MESSAGE_HINT), statementName: statementName)
        error.constraintName = field(CLIBPQ_DIAG_CONSTRAINT_NAME)
        error.tableName = field(CLIBPQ_DIAG_TABLE_NAME)
        error.schemaName = field(CLIBPQ_DIAG_SCHEMA_NAME)
        error.columnName = field(CLIBPQ_DIAG_COLUMN_NAME)
        error.dataTypeName = field(CLIBPQ_DIAG_DATATYPE_NAME)
        return error
    }

    /// The error libpq reports for the connection itself.
    static func connectionError(
        _ connection: OpaquePointer, statementName: String?, configuration: PostgresConfiguration
    ) -> PostgresError {
        let message = configuration.scrub(trimmed(String(cString: PQerrorMessage(connection))))
        let broken = PQstatus(connection) != CONNECTION_OK
        return PostgresError(
            broken ? .connectionClosed : .server,
            message: message.isEmpty ? "the server closed the connection" : message,
            statementName: statementName)
    }

    static func trimmed(_ message: String) -> String {
        message.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Calls `body` with a C array of NUL-terminated copies of `strings` (nil stays NULL), all in
    /// one buffer that lives for the call.
    static func withCStrings<R>(_ strings: [String?], _ body: ([UnsafePointer<CChar>?]) throws -> R) rethrows -> R {
        var buffer: [CChar] = []
        var offsets: [Int?] = []
        for string in strings {
            offsets.append(string.map { _ in buffer.count })
            if let string { buffer += string.utf8CString }
        }
        return try buffer.withUnsafeBufferPointer { storage in
            try body(offsets.map { offset in offset.flatMap { storage.baseAddress?.advanced(by: $0) } })
        }
    }
}
