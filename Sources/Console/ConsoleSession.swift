import Foundation
import Postgres
import Synchronization

/// A person signed in to the console: their own database connection, on which every page and
/// action runs, so their database role decides what they may see and do.
///
/// Requests of one session take turns on the connection (a transaction belongs to the connection,
/// so two requests must not interleave their statements).
final class ConsoleSession: Sendable {
    /// The random id in the session cookie (256 bits, hex).
    let id: String
    /// The database login, as the person typed it (the server's `session_user`).
    let login: String
    /// The token every POST form of this session carries (256 bits, hex).
    let csrfToken: String
    private let connection: PostgresConnection
    private let turn = ConnectionTurn()
    private let state: Mutex<State>

    private struct State {
        var lastUsed: ContinuousClock.Instant
        var flash: String?
    }

    init(login: String, connection: PostgresConnection) {
        self.id = SecretToken.make()
        self.csrfToken = SecretToken.make()
        self.login = login
        self.connection = connection
        self.state = Mutex(State(lastUsed: .now, flash: nil))
    }

    /// Runs `body` on the session's connection once no other request of the session uses it;
    /// `isActivity` (a person's request, not a page's own refresh) starts the idle time again.
    func withConnection<Result: Sendable>(
        isActivity: Bool = true, _ body: @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        await turn.take()
        if isActivity { touch() }
        do {
            let result = try await body(connection)
            await turn.give()
            return result
        } catch {
            await turn.give()
            throw error
        }
    }

    /// Whether the connection broke (a server restart, an administrator's `pg_terminate_backend`): the
    /// session cannot go on, since the console keeps no password to connect again.
    var isBroken: Bool { !connection.isConnected }

    /// Marks the session as used now (its idle time starts again).
    func touch() { state.withLock { $0.lastUsed = .now } }

    /// Whether the session has been idle for `timeout` or longer.
    func isIdle(for timeout: Duration) -> Bool { state.withLock { .now - $0.lastUsed >= timeout } }

    /// A message for the next page this session shows (what an action did).
    func setFlash(_ message: String) { state.withLock { $0.flash = message } }

    /// The message for this page, once.
    func takeFlash() -> String? { state.withLock { state in defer { state.flash = nil }; return state.flash } }

    /// Closes the connection; the session is over.
    func close() { connection.close() }
}

/// Turns on one connection: one holder at a time, the others wait in order.
actor ConnectionTurn {
    private var isTaken = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    /// Waits until the connection is free, then holds it.
    func take() async {
        guard isTaken else {
            isTaken = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    /// Hands the connection to the next waiter, or frees it.
    func give() {
        if waiters.isEmpty { isTaken = false } else { waiters.removeFirst().resume() }
    }
}

/// Random tokens for session ids and CSRF tokens, and comparing them without leaking through timing.
enum SecretToken {
    /// 256 random bits from the system's generator, as 64 hex digits.
    static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<4).map { _ in String(format: "%016llx", generator.next() as UInt64) }.joined()
    }

    /// Whether `a` equals `b`, looking at every byte whatever the first difference (lengths may differ).
    static func equal(_ a: String, _ b: String) -> Bool {
        let left = Array(a.utf8)
        let right = Array(b.utf8)
        var difference = UInt8(truncatingIfNeeded: left.count ^ right.count)
        for index in 0..<max(left.count, right.count) {
            let x = index < left.count ? left[index] : 0
            let y = index < right.count ? right[index] : 0
            difference |= x ^ y
        }
        return difference == 0 && left.count == right.count
    }
}
