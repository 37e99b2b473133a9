import ArgumentParser
import BusinessCentralEmulator
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
        subcommands: [Dataverse.self, BusinessCentral.self])
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
        announce(try await emulator.start())
        await waitForTermination()
        await emulator.stop()
    }
}

/// `couplet-emulator business-central`: the Business Central API v2.0 over a Postgres database (docs/emulator.md).
struct BusinessCentral: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "business-central",
        abstract: "Serve the Business Central API v2.0 over a Postgres database on 127.0.0.1.",
        discussion: "The client secret comes from the environment variable COUPLET_EMULATOR_CLIENT_SECRET, never the command line.")

    @Option(help: "The Postgres URL of the database to serve.")
    var database: String
    @Option(help: "The port on 127.0.0.1 (0 picks a free one and prints it).")
    var port = 0
    @Option(help: "A company as NAME=SCHEMA (repeatable); default 'CRONUS USA, Inc.=public'.")
    var company: [String] = []
    @Option(help: "The environment name in the URL.")
    var environment = "production"
    @Option(help: "The resource whose /.default scope tokens are asked for (default: the emulator's own address, http://127.0.0.1:PORT).")
    var resource: String?
    @Option(help: "The client id (application id) the token endpoint accepts.")
    var clientID = "6a3b8f5e-2c1d-4e7a-9b0f-3d5c7e9a1b2c"
    @Option(help: "Access token lifetime in seconds.")
    var tokenLifetime = 3599
    @Option(help: "Records per page without odata.maxpagesize (at most 20000).")
    var pageSize = 20_000
    @Option(help: "Requests per client within the window.")
    var requestLimit = 6000
    @Option(help: "The service protection window in seconds.")
    var limitWindow = 300.0
    @Option(help: "Concurrent requests per client.")
    var concurrentRequestLimit = 5

    func run() async throws {
        guard let secret = ProcessInfo.processInfo.environment["COUPLET_EMULATOR_CLIENT_SECRET"], !secret.isEmpty else {
            throw ValidationError("set COUPLET_EMULATOR_CLIENT_SECRET to the client secret the token endpoint accepts")
        }
        var configuration = BusinessCentralEmulator.Configuration(database: try PostgresConfiguration(database), clientSecret: secret)
        if !company.isEmpty { configuration.companies = try company.map(Self.company) }
        configuration.port = port
        configuration.environment = environment
        configuration.resource = resource
        configuration.clientID = clientID
        configuration.tokenLifetime = TimeInterval(tokenLifetime)
        configuration.pageSize = min(pageSize, configuration.maximumPageSize)
        configuration.requestLimit = requestLimit
        configuration.limitWindow = limitWindow
        configuration.concurrentRequestLimit = concurrentRequestLimit
        let emulator = BusinessCentralEmulator(configuration: configuration, logger: Logger(label: "couplet.emulator"))
        announce(try await emulator.start())
        await waitForTermination()
        await emulator.stop()
    }

    /// `NAME=SCHEMA`, split at the last `=` (company names may hold one).
    static func company(_ text: String) throws -> BusinessCentralEmulator.Company {
        guard let equals = text.lastIndex(of: "="), equals != text.startIndex, text.index(after: equals) != text.endIndex else {
            throw ValidationError("a company is NAME=SCHEMA, not '\(text)'")
        }
        return .init(name: String(text[..<equals]), schema: String(text[text.index(after: equals)...]))
    }
}

/// Prints the address, unbuffered, so a parent process reading the pipe sees the port at once.
private func announce(_ port: Int) {
    FileHandle.standardOutput.write(Data("listening on http://127.0.0.1:\(port)\n".utf8))
}

/// Returns on SIGINT or SIGTERM.
private func waitForTermination() async {
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
