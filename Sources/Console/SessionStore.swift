import Foundation
import Logging
import Postgres
import Synchronization

/// The console's signed-in sessions, by id; each holds its person's database connection until they
/// sign out or it is idle for `idleTimeout`.
final class SessionStore: Sendable {
    /// The name of the session cookie: `__Host-` makes the browser insist on Secure, Path=/ and no Domain.
    static let cookieName = "__Host-couplet-session"
    /// The most sessions open at once (each holds a database connection).
    static let maximumSessions = 64

    /// How long a session may stay unused before it is closed.
    let idleTimeout: Duration
    private let sessions = Mutex<[String: ConsoleSession]>([:])

    init(idleTimeout: Duration) {
        self.idleTimeout = idleTimeout
    }

    /// Adds a session; false (and the caller closes it) when `maximumSessions` are open.
    func add(_ session: ConsoleSession) -> Bool {
        sessions.withLock { sessions in
            guard sessions.count < Self.maximumSessions else { return false }
            sessions[session.id] = session
            return true
        }
    }

    /// The live session with this id, or nil (unknown, signed out, or idle too long — then closed).
    func session(id: String?) -> ConsoleSession? {
        guard let id else { return nil }
        let found = sessions.withLock { $0[id] }
        guard let found else { return nil }
        guard !found.isIdle(for: idleTimeout) else {
            remove(found)
            return nil
        }
        return found
    }

    /// Ends a session and closes its connection.
    func remove(_ session: ConsoleSession) {
        let removed = sessions.withLock { $0.removeValue(forKey: session.id) }
        removed?.close()
    }

    /// Closes every session idle for `idleTimeout` or longer; returns their logins.
    @discardableResult
    func closeIdle() -> [String] {
        let idle = sessions.withLock { sessions in
            let idle = sessions.values.filter { $0.isIdle(for: idleTimeout) }
            for session in idle { sessions.removeValue(forKey: session.id) }
            return idle
        }
        for session in idle { session.close() }
        return idle.map(\.login)
    }

    /// Closes every session (the console is stopping).
    func closeAll() {
        let all = sessions.withLock { sessions in
            defer { sessions.removeAll() }
            return Array(sessions.values)
        }
        for session in all { session.close() }
    }
}
