import Synchronization

/// A bounded set of connections to one database, lent to one task at a time.
///
/// Connections are opened lazily up to `maximumConnections`; a task that finds none free waits
/// its turn. Only an idle connection is lent: one that broke (while lent, or while it waited —
/// a server restart) or that came back inside a transaction is closed, and a fresh one opened.
public final class PostgresConnectionPool: Sendable {
    /// The database the pool connects to.
    public let configuration: PostgresConfiguration
    /// The most connections the pool keeps open at once.
    public let maximumConnections: Int
    private let applicationName: String
    private let usesPreparedStatements: Bool
    private let state = Mutex(State())

    private struct State {
        var idle: [PostgresConnection] = []
        var open = 0
        var waiters: [CheckedContinuation<Void, Never>] = []
        var closed = false
    }

    /// Describes a pool; no connection opens until one is needed.
    public init(
        _ configuration: PostgresConfiguration, maximumConnections: Int, applicationName: String = "couplet",
        usesPreparedStatements: Bool = true
    ) {
        precondition(maximumConnections > 0, "a pool needs room for at least one connection")
        self.configuration = configuration
        self.maximumConnections = maximumConnections
        self.applicationName = applicationName
        self.usesPreparedStatements = usesPreparedStatements
    }

    /// Lends a connection to `body` and takes it back afterwards.
    @discardableResult
    public func withConnection<Result>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let connection = try await borrow()
        do {
            let result = try await body(connection)
            giveBack(connection)
            return result
        } catch {
            giveBack(connection)
            throw error
        }
    }

    /// Closes the idle connections; borrowed ones close when they come back.
    public func close() {
        let (idle, waiters) = state.withLock { state in
            state.closed = true
            defer {
                state.idle.removeAll()
                state.waiters.removeAll()
            }
            return (state.idle, state.waiters)
        }
        for connection in idle { connection.close() }
        for waiter in waiters { waiter.resume() }
    }

    private enum Next {
        case use(PostgresConnection)
        case open
    }

    private func borrow() async throws -> PostgresConnection {
        while true {
            let next: Next? = try state.withLock { state in
                if state.closed { throw PostgresError(.connectionClosed, message: "the connection pool is closed") }
                if let connection = state.idle.popLast() { return .use(connection) }
                guard state.open < maximumConnections else { return nil }
                state.open += 1
                return .open
            }
            switch next {
            case .use(let connection):
                if connection.isIdle { return connection }
                discard(connection)
            case .open:
                do {
                    return try await PostgresConnection.connect(
                        configuration, applicationName: applicationName, usesPreparedStatements: usesPreparedStatements)
                } catch {
                    releaseSlot()
                    throw error
                }
            case nil:
                await waitForTurn()
            }
        }
    }

    /// Waits until a connection comes back or a slot frees; registers under the same lock that
    /// `giveBack` takes, so no wake-up is missed.
    private func waitForTurn() async {
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { state in
                if state.closed || !state.idle.isEmpty || state.open < maximumConnections { return true }
                state.waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    private func giveBack(_ connection: PostgresConnection) {
        guard connection.isIdle, !state.withLock({ $0.closed }) else { return discard(connection) }
        let waiter = state.withLock { state in
            state.idle.append(connection)
            return state.waiters.isEmpty ? nil : state.waiters.removeFirst()
        }
        waiter?.resume()
    }

    /// Closes a connection that must not be lent again and frees its slot.
    private func discard(_ connection: PostgresConnection) {
        connection.close()
        releaseSlot()
    }

    /// Frees a slot for a connection that closed or never opened, waking one waiter.
    private func releaseSlot() {
        let waiter = state.withLock { state in
            state.open -= 1
            return state.waiters.isEmpty ? nil : state.waiters.removeFirst()
        }
        waiter?.resume()
    }
}
