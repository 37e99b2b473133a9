import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// The request context of the emulators: Hummingbird's, plus the channel (to drop a connection, to see the peer).
public struct EmulatorContext: RequestContext {
    /// Hummingbird's storage.
    public var coreContext: CoreRequestContextStorage
    /// The connection's channel.
    public let channel: any Channel

    /// The context of a request arriving on `source`'s channel.
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// An HTTP server on 127.0.0.1 only, run by a service group until stopped.
public final class EmulatorServer: Sendable {
    private struct RunState {
        var task: Task<Void, any Error>?
        var group: ServiceGroup?
        var port = 0
    }

    private let state = Mutex(RunState())

    /// A server not yet started.
    public init() {}

    /// True between `start` and `stop`.
    public var isRunning: Bool { state.withLock { $0.task != nil } }

    /// The port it listens on, once started.
    public var port: Int { state.withLock { $0.port } }

    /// Starts serving `responder` on 127.0.0.1:`port` (0 picks a free one); returns the port once it listens.
    public func start<Responder: HTTPResponder>(port: Int, responder: Responder, logger: Logger) async throws -> Int
    where Responder.Context == EmulatorContext {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            responder: responder,
            configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: nil),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) },
            logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let task = Task {
            defer { continuation.finish() }
            try await group.run()
        }
        state.withLock {
            $0.task = task
            $0.group = group
        }
        for await bound in ports {
            state.withLock { $0.port = bound }
            return bound
        }
        try await task.value
        throw EmulatorServerError(description: "the emulator's server stopped before it was listening")
    }

    /// Stops serving and waits for the server to end.
    public func stop() async {
        let (task, group) = state.withLock { state in
            defer {
                state.task = nil
                state.group = nil
            }
            return (state.task, state.group)
        }
        await group?.triggerGracefulShutdown()
        _ = try? await task?.value
    }
}

/// Why an emulator's server did not start.
public struct EmulatorServerError: Error, CustomStringConvertible {
    /// What happened.
    public let description: String
}
