import CLibPQ
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A NOTIFY delivered to a listening connection.
public struct PostgresNotification: Sendable, Hashable {
    /// The channel it was sent on.
    public var channel: String
    /// The payload text (empty when none was given).
    public var payload: String
    /// The server process id of the session that sent it.
    public var senderPID: Int32
}

extension PostgresConnection {
    /// Starts listening on `channel` (quoted, so any name from configuration is safe).
    public func listen(_ channel: PostgresIdentifier) async throws {
        try await runScript("LISTEN \(channel.quoted)", name: "listen")
    }

    /// Stops listening on `channel`.
    public func unlisten(_ channel: PostgresIdentifier) async throws {
        try await runScript("UNLISTEN \(channel.quoted)", name: "unlisten")
    }

    /// Waits up to `timeout` for notifications and returns those that arrived (empty on timeout).
    ///
    /// The wait runs on the connection's own thread, never on Swift's cooperative pool; cancelling
    /// the task ends it at once with a `cancelled` error. A broken connection throws `connectionClosed`.
    public func notifications(timeout: Duration) async throws -> [PostgresNotification] {
        let deadline = ContinuousClock.now + timeout
        return try await perform(onCancel: .wakeWaiter) { connection in
            if self.consumeWake() { throw PostgresError(.cancelled, message: "the notification wait was cancelled") }
            var received = Self.drainNotifications(connection)
            while received.isEmpty {
                let remaining = ContinuousClock.now.duration(to: deadline)
                guard remaining > .zero else { break }
                if try self.waitForInput(on: connection, upTo: remaining) {
                    throw PostgresError(.cancelled, message: "the notification wait was cancelled")
                }
                guard PQconsumeInput(connection) == 1 else {
                    throw Self.connectionError(connection, statementName: "wait for notifications", configuration: self.configuration)
                }
                received = Self.drainNotifications(connection)
            }
            return received
        }
    }

    /// Polls the socket and the wake descriptor; true when woken (cancelled), false when there is input or time ran out.
    private func waitForInput(on connection: OpaquePointer, upTo remaining: Duration) throws -> Bool {
        let socket = PQsocket(connection)
        guard socket >= 0 else {
            throw Self.connectionError(connection, statementName: "wait for notifications", configuration: configuration)
        }
        var descriptors = [
            pollfd(fd: socket, events: Int16(POLLIN), revents: 0),
            pollfd(fd: wakeFileDescriptor, events: Int16(POLLIN), revents: 0),
        ]
        let (seconds, attoseconds) = remaining.components
        let milliseconds = Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1)
        while poll(&descriptors, 2, milliseconds) < 0 {
            guard errno == EINTR else {
                throw PostgresError(.connectionClosed, message: "poll failed: \(String(cString: strerror(errno)))")
            }
        }
        return descriptors[1].revents != 0 && consumeWake()
    }

    private static func drainNotifications(_ connection: OpaquePointer) -> [PostgresNotification] {
        var received: [PostgresNotification] = []
        while let notification = PQnotifies(connection) {
            received.append(
                PostgresNotification(
                    channel: String(cString: notification.pointee.relname),
                    payload: String(cString: notification.pointee.extra),
                    senderPID: notification.pointee.be_pid))
            PQfreemem(notification)
        }
        return received
    }
}
