import Foundation
import Hummingbird
import Logging
import NIOCore
import Postgres
import ServiceLifecycle

/// The web console (`couplet web`): server-rendered pages over the coordination database, each
/// person signed in with their own database login, so their database role is what they may do.
public enum ConsoleServer {
    /// The HTTP server and the idle-session sweeper, as services for the process's service group.
    /// `onListening` is told the port once the server listens (useful with port 0).
    public static func services(
        _ configuration: ConsoleConfiguration, logger: Logger, onListening: @escaping @Sendable (Int) -> Void = { _ in }
    ) -> [any Service] {
        let console = Console(configuration: configuration, logger: logger)
        let application = Application(
            router: console.router(),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                logger.notice("web console listening", metadata: ["address": "\(configuration.host):\(port)"])
                onListening(port)
            },
            logger: logger)
        return [application, SessionSweeper(sessions: console.sessions, logger: logger)]
    }
}

extension ConsoleServer {
    /// The overview's `<main>` content as the console renders it, on `connection`: for measuring the
    /// overview's statements (`couplet bench console`) on a connection of one's own.
    public static func overview(on connection: PostgresConnection) async throws -> String {
        let session = ConsoleSession(login: "", connection: connection)
        let context = PageContext(query: FormFields([:]), session: session, isReadOnly: true)
        return Layout.fragment(try await OverviewPage.load(context, connection)).markup
    }
}

/// Closes idle sessions every minute, and every session when the console stops.
struct SessionSweeper: Service {
    let sessions: SessionStore
    let logger: Logger

    func run() async throws {
        defer { sessions.closeAll() }
        try? await cancelWhenGracefulShutdown {
            while true {
                try await Task.sleep(for: .seconds(60))
                for login in sessions.closeIdle() { logger.info("console session closed after idling", metadata: ["login": "\(login)"]) }
            }
        }
    }
}

/// What went wrong with a request, as the person sees it: an HTTP status and a sentence.
struct ConsoleFailure: Error {
    var status: HTTPResponse.Status
    var message: String

    /// 403: the request may not do this.
    static func forbidden(_ message: String) -> ConsoleFailure { ConsoleFailure(status: .forbidden, message: message) }
    /// 400: the request is malformed.
    static func badRequest(_ message: String) -> ConsoleFailure { ConsoleFailure(status: .badRequest, message: message) }
    /// 404: nothing here.
    static func notFound(_ message: String) -> ConsoleFailure { ConsoleFailure(status: .notFound, message: message) }
}
