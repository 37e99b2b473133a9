import ArgumentParser
import CommandSupport
import Console
import Logging
import Monitoring
import ServiceLifecycle

/// `couplet web`: the web console, until SIGTERM or Ctrl-C.
struct WebCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "web",
        abstract: "Serve the web console: queues, jobs, schedules, mappings, the review and availability, with their actions.",
        discussion: """
            People sign in with their own database user name and password; the console opens a connection \
            to the coordination database as that login and runs every page and action on it, so the \
            login's role decides: couplet_reader reads, couplet_admin acts. --database-url names the \
            server, port and database only (a user in it is ignored, a password refused). Every action \
            is recorded in couplet.console_actions with the login that took it. Sessions end after 30 \
            idle minutes or on sign-out; the session cookie is Secure, so serve it on 127.0.0.1 or \
            localhost, or behind a TLS-terminating proxy.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: "Listen on this host:port; port 0 takes a free one and logs it.")
    var httpAddress = MonitoringAddress(host: "127.0.0.1", port: 8080)

    @Flag(help: "Show everything, take no action: no action forms, every POST but sign-in and sign-out refused.")
    var readOnly = false

    @Option(help: "Seconds between a visible page's refreshes of its content.")
    var refreshSeconds = 5

    func validate() throws {
        guard (1...3600).contains(refreshSeconds) else { throw ValidationError("--refresh-seconds must be from 1 to 3600") }
    }

    func run() async throws {
        let logger = try global.makeLogger("couplet.web")
        let database = try global.databaseConfiguration(logger)
        guard !database.containsPassword else {
            throw ValidationError("couplet web signs people in with their own login: give --database-url without a password")
        }
        let configuration = ConsoleConfiguration(
            host: httpAddress.host, port: httpAddress.port, database: database, isReadOnly: readOnly, refreshInterval: .seconds(refreshSeconds))
        let services = ConsoleServer.services(configuration, logger: logger).map {
            ServiceGroupConfiguration.ServiceConfiguration(service: $0, successTerminationBehavior: .gracefullyShutdownGroup)
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
