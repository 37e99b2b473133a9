import Foundation
import Postgres

#if canImport(Glibc)
import Glibc
#endif

/// A PostgreSQL 15 cluster of the test's own, in a temporary folder on a free port, that the test
/// may stop and restart (the shared test server must never be restarted).
///
/// It is created with `initdb` and run with `pg_ctl` from `/usr/lib/postgresql/15/bin`, as
/// `deploy/local-postgres` does: as user `postgres` (through `runuser -u postgres --`) when the
/// test runs as root; listening on 127.0.0.1 only, with no Unix socket, `trust` authentication
/// (nothing but the local machine reaches it, and it lives only as long as the test).
/// `fsync` is off: a crash of the machine loses nothing the test needs.
///
/// ```swift
/// try await PrivateCluster.with { cluster in
///     let url = try await cluster.createDatabase("couplet")
///     // ... start processes with COUPLET_DATABASE_URL=url ...
///     try cluster.restart()  // pg_ctl restart -m fast: every connection is closed
/// }
/// ```
public final class PrivateCluster: Sendable {
    /// The folder holding the data directory and the logs; removed by `destroy()`.
    public let directory: URL
    /// The port the server listens on (127.0.0.1).
    public let port: Int

    /// Where the server binaries live.
    public static let binaries = URL(fileURLWithPath: "/usr/lib/postgresql/15/bin")

    private var data: URL { directory.appending(path: "data") }
    /// The server's log (`pg_ctl -l`; in the data directory, which the server's user owns), for failure messages.
    public var serverLog: URL { data.appending(path: "server.log") }

    private init(directory: URL, port: Int) {
        self.directory = directory
        self.port = port
    }

    /// Creates and starts a cluster, runs `body` with it, then stops and deletes it, whether
    /// `body` succeeds or throws.
    public static func with<T>(
        isolation: isolated (any Actor)? = #isolation, _ body: (PrivateCluster) async throws -> T
    ) async throws -> T {
        let cluster = try create()
        do {
            try cluster.start()
            let result = try await body(cluster)
            cluster.destroy()
            return result
        } catch {
            cluster.destroy()
            throw error
        }
    }

    /// Runs `initdb` into a fresh temporary folder (not started yet). Prefer `with`.
    public static func create() throws -> PrivateCluster {
        guard FileManager.default.isExecutableFile(atPath: binaries.appending(path: "initdb").path) else {
            throw PrivateClusterError("PostgreSQL 15 is not installed in \(binaries.path) (deploy/local-postgres installs it)")
        }
        let directory = URL(fileURLWithPath: "/tmp").appending(path: "couplet-cluster-\(UUID().uuidString.prefix(8).lowercased())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let cluster = PrivateCluster(directory: directory, port: try freePort())
        do {
            try FileManager.default.createDirectory(at: cluster.data, withIntermediateDirectories: true)
            if isRoot {
                // The server runs as postgres: it owns the data directory and may traverse the folder above it.
                try FileManager.default.setAttributes([.posixPermissions: 0o711], ofItemAtPath: directory.path)
                try run(["/bin/chown", "postgres:", cluster.data.path])
            }
            try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: cluster.data.path)
            try cluster.server(
                "initdb", "-D", cluster.data.path, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8",
                log: "initdb.log")
            let settings = """

                listen_addresses = '127.0.0.1'
                port = \(cluster.port)
                unix_socket_directories = ''
                max_connections = 200
                fsync = off
                synchronous_commit = off
                full_page_writes = off
                log_min_messages = warning

                """
            let conf = try FileHandle(forWritingTo: cluster.data.appending(path: "postgresql.conf"))
            defer { try? conf.close() }
            try conf.seekToEnd()
            try conf.write(contentsOf: Data(settings.utf8))
            return cluster
        } catch {
            cluster.destroy()
            throw error
        }
    }

    /// `pg_ctl start`, waiting until the server accepts connections.
    public func start() throws {
        try server("pg_ctl", "-D", data.path, "-l", serverLog.path, "-w", "-t", "60", "start", log: "pg_ctl.log")
    }

    /// `pg_ctl restart -m fast`: closes every connection (the clients see them dropped), rolls back
    /// open transactions, and waits until the server accepts connections again.
    public func restart() throws {
        try server("pg_ctl", "-D", data.path, "-l", serverLog.path, "-m", "fast", "-w", "-t", "60", "restart", log: "pg_ctl.log")
    }

    /// `pg_ctl stop -m immediate` (quiet when it is not running).
    public func stop() {
        try? server("pg_ctl", "-D", data.path, "-m", "immediate", "-w", "-t", "60", "stop", log: "pg_ctl.log")
    }

    /// Stops the server and deletes its folder.
    public func destroy() {
        if FileManager.default.fileExists(atPath: data.appending(path: "postmaster.pid").path) { stop() }
        try? FileManager.default.removeItem(at: directory)
    }

    /// The URL of `database` on this cluster, as user `postgres`.
    public func url(database: String = "postgres") -> String {
        "postgres://postgres@127.0.0.1:\(port)/\(database)?sslmode=disable"
    }

    /// Creates `name` and returns its URL.
    public func createDatabase(_ name: String) async throws -> String {
        let admin = try await PostgresConnection.connect(try PostgresConfiguration(url()), applicationName: "couplet tests")
        defer { admin.close() }
        try await admin.runScript("CREATE DATABASE \(name)", name: "create database")
        return url(database: name)
    }

    /// The last lines of the server's log.
    public func logTail(lines: Int = 20) -> String {
        let text = (try? String(contentsOf: serverLog, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

    // MARK: running the binaries

    private static var isRoot: Bool { getuid() == 0 }

    /// Runs a server binary as the data directory's owner, its output into `log` in the folder.
    private func server(_ binary: String, _ arguments: String..., log: String) throws {
        let path = Self.binaries.appending(path: binary).path
        let command = Self.isRoot ? ["/usr/sbin/runuser", "-u", "postgres", "--", path] + arguments : [path] + arguments
        try Self.run(command, log: directory.appending(path: log))
    }

    /// Runs a command and waits for it, its output appended to `log`.
    ///
    /// Not with Foundation's `Process`: on Linux it learns that a child ended when a socket the child
    /// inherited closes, and `pg_ctl start` leaves a server running that holds it open for ever. So
    /// `posix_spawn` and `waitpid`, with every descriptor above standard error closed in the child
    /// (the server must not keep the test's pipes and sockets open either).
    private static func run(_ command: [String], log: URL? = nil) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log?.path ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd"))?.compactMap { Int32($0) } ?? []
        for descriptor in open where descriptor > 2 { posix_spawn_file_actions_addclose(&actions, descriptor) }
        let arguments: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
        defer { for argument in arguments { free(argument) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, command[0], &actions, nil, arguments, environ)
        guard spawned == 0 else { throw PrivateClusterError("\(command[0]) could not be started: error \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exited = status & 0x7f == 0, code = (status >> 8) & 0xff
        guard exited && code == 0 else {
            let text = log.flatMap { try? String(contentsOf: $0, encoding: .utf8) } ?? ""
            throw PrivateClusterError("\(command.joined(separator: " ")) \(exited ? "exited \(code)" : "died of signal \(status & 0x7f)"):\n\(text.suffix(2000))")
        }
    }

    /// A port nobody listens on: bind 127.0.0.1:0, read the port the kernel chose, close it.
    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw PrivateClusterError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw PrivateClusterError("bind() failed") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw PrivateClusterError("getsockname() failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// Why a private cluster could not be created, started or restarted.
public struct PrivateClusterError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
