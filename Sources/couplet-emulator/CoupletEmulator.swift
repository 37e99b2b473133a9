import ArgumentParser
import DataverseEmulator
import Dispatch
import Foundation
import Logging
import Postgres

/// `couplet-emulator`: emulators of the services Couplet talks to, for testing without them.
@main
struct CoupletEmulator: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "couplet-emulator",
        abstract: "Emulators of the services Couplet connects to, for tests.",
        subcommands: [Dataverse.self])
}

/// `couplet-emulator dataverse`: the Dataverse Web API over a Postgres database (docs/emulator.md).
struct Dataverse: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the Dataverse Web API over a Postgres database on 127.0.0.1.",
        discussion: "The client secret comes from the environment variable COUPLET_EMULATOR_CLIENT_SECRET, never the command line.")

    @Option(help: "The Postgres URL of the database to serve.")
    var database: String
    @Option(help: "The port on 127.0.0.1 (0 picks a free one and prints it).")
    var port = 0
    @Option(help: "The schema whose tables are served.")
    var schema = "public"
    @Option(help: "The environment URL whose /.default scope tokens are asked for (default http://127.0.0.1:PORT); links still point at the emulator.")
    var environmentURL: String?
    @Option(help: "The client id (application id) the token endpoint accepts.")
    var clientID = "51f81489-12ee-4a9e-aaae-a2591f45987d"
    @Option(help: "Access token lifetime in seconds.")
    var tokenLifetime = 3599
    @Option(help: "Delta token lifetime in seconds (Dataverse: 7 days).")
    var deltaTokenLifetime = 7 * 24 * 3600
    @Option(help: "Records per page without odata.maxpagesize.")
    var pageSize = 5000
    @Option(help: "Requests per client within the window.")
    var requestLimit = 6000
    @Option(help: "Combined execution seconds per client within the window.")
    var executionTimeLimit = 1200.0
    @Option(help: "The service protection window in seconds.")
    var limitWindow = 300.0
    @Option(help: "Concurrent requests per client.")
    var concurrentRequestLimit = 52

    func run() async throws {
        guard let secret = ProcessInfo.processInfo.environment["COUPLET_EMULATOR_CLIENT_SECRET"], !secret.isEmpty else {
            throw ValidationError("set COUPLET_EMULATOR_CLIENT_SECRET to the client secret the token endpoint accepts")
        }
        var configuration = DataverseEmulator.Configuration(database: try PostgresConfiguration(database), clientSecret: secret)
        configuration.port = port
        configuration.schema = schema
        configuration.environmentURL = environmentURL
        configuration.clientID = clientID
        configuration.tokenLifetime = TimeInterval(tokenLifetime)
        configuration.deltaTokenLifetime = TimeInterval(deltaTokenLifetime)
        configuration.pageSize = pageSize
        configuration.requestLimit = requestLimit
        configuration.executionTimeLimit = executionTimeLimit
        configuration.limitWindow = limitWindow
        configuration.concurrentRequestLimit = concurrentRequestLimit
        let emulator = DataverseEmulator(configuration: configuration, logger: Logger(label: "couplet.emulator"))
        let bound = try await emulator.start()
        // Written unbuffered, so a parent process reading the pipe sees the port at once.
        FileHandle.standardOutput.write(Data("listening on http://127.0.0.1:\(bound)\n".utf8))
        await Self.waitForTermination()
        await emulator.stop()
    }

    /// Returns on SIGINT or SIGTERM.
    static func waitForTermination() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let once = Once(continuation)
            for signalNumber in [SIGINT, SIGTERM] {
                signal(signalNumber, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
                source.setEventHandler { once.resume() }
                source.resume()
                Once.keep(source)
            }
        }
    }
}

/// Resumes a continuation once, whichever signal comes first.
private final class Once: @unchecked Sendable {
    private var continuation: CheckedContinuation<Void, Never>?
    private let lock = NSLock()
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []

    init(_ continuation: CheckedContinuation<Void, Never>) { self.continuation = continuation }

    func resume() {
        lock.lock()
        let pending = continuation
        continuation = nil
        lock.unlock()
        pending?.resume()
    }

    static func keep(_ source: any DispatchSourceSignal) { sources.append(source) }
}
