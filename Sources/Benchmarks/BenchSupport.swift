import ArgumentParser
import CommandSupport
import Foundation
import Postgres
import Synchronization

/// What the benchmarks share: a throwaway database on the chosen server, child worker processes,
/// and memory readings from /proc.
enum BenchSupport {
    /// The server to measure on: --database-url, COUPLET_DATABASE_URL or COUPLET_DATABASE_URL_FILE, else the repository's
    /// local cluster (`deploy/local-postgres start`, run from the current folder).
    static func server(_ global: GlobalOptions) throws -> PostgresConfiguration {
        if global.isDatabaseConfigured {
            return try global.databaseConfiguration(global.makeLogger("couplet.bench"))
        }
        let script = URL(fileURLWithPath: "deploy/local-postgres")
        guard FileManager.default.isExecutableFile(atPath: script.path) else {
            throw PostgresError(
                .invalidConfiguration,
                message: "no database: pass --database-url, set COUPLET_DATABASE_URL, or run from the repository so deploy/local-postgres can start one")
        }
        let process = Process()
        process.executableURL = script
        process.arguments = ["start"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let url = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return try PostgresConfiguration(url.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Creates a fresh database on `server`, runs `body` with it and drops it afterwards.
    static func withScratchDatabase<T>(
        on server: PostgresConfiguration, isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConfiguration) async throws -> T
    ) async throws -> T {
        let name = "couplet_bench_\(UInt32.random(in: 0...UInt32.max))"
        let admin = try await PostgresConnection.connect(server, applicationName: "couplet bench")
        try await admin.runScript("CREATE DATABASE \(name)", name: "create bench database")
        defer { admin.close() }
        do {
            let result = try await body(server.replacingDatabase(with: name))
            try await admin.runScript("DROP DATABASE \(name) WITH (FORCE)", name: "drop bench database")
            return result
        } catch {
            try? await admin.runScript("DROP DATABASE \(name) WITH (FORCE)", name: "drop bench database")
            throw error
        }
    }

    /// Starts this binary as `couplet ARGUMENTS` against `database` (passed in the environment,
    /// never on the command line, like the `extra` variables: endpoints' connection strings), its
    /// output discarded.
    static func startChild(
        _ arguments: [String], database: PostgresConfiguration, environment extra: [String: String] = [:]
    ) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment.merge(extra) { $1 }
        environment["COUPLET_DATABASE_URL"] = database.connectionString
        environment["COUPLET_LOG_LEVEL"] = "warning"
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Runs another program (found on PATH unless `executable` is a path) with `environment` added to
    /// this process's, and returns what it printed on standard output and its wall-clock seconds; a
    /// non-zero exit is an error carrying the end of what it printed on standard error.
    static func runTool(
        _ executable: String, _ arguments: [String], environment extra: [String: String]
    ) async throws -> (output: String, seconds: Double) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        let start = ContinuousClock.now
        try process.run()
        let (standardOutput, standardError) = await readToEnd(output, errors, of: process)
        let seconds = Self.seconds(since: start)
        guard process.terminationStatus == 0 else {
            throw ValidationError(
                "\(executable) exited with status \(process.terminationStatus): \(String(decoding: standardError.suffix(2000), as: UTF8.self))")
        }
        return (String(decoding: standardOutput, as: UTF8.self), seconds)
    }

    /// What a child process prints on its two pipes, read to their ends once it exited. The reads
    /// block, so they run on dispatch threads, never on Swift's cooperative pool; both pipes are read
    /// at once, so that a child filling one never waits on the other.
    private static func readToEnd(_ output: Pipe, _ errors: Pipe, of process: Process) async -> (Data, Data) {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                let complained = Mutex(Data())
                let reading = DispatchGroup()
                DispatchQueue.global().async(group: reading) {
                    let data = errors.fileHandleForReading.readDataToEndOfFile()
                    complained.withLock { $0 = data }
                }
                let printed = output.fileHandleForReading.readDataToEndOfFile()
                reading.wait()
                process.waitUntilExit()
                continuation.resume(returning: (printed, complained.withLock { $0 }))
            }
        }
    }

    /// Runs `script` with pgbench on `clients` connections to `database`: prepared statements, no
    /// vacuum of pgbench's own tables, and a count of transactions per client rather than `-T` (our
    /// children may inherit a mask that blocks the SIGALRM its timer needs). Returns what pgbench
    /// printed and its wall-clock seconds.
    static func pgbench(
        _ executable: String, script: String, clients: Int, transactionsPerClient: Int, database: PostgresConfiguration
    ) async throws -> (output: String, seconds: Double) {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("couplet-bench-\(UUID()).pgbench")
        try script.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        return try await runTool(
            executable,
            ["-n", "-M", "prepared", "-c", "\(clients)", "-j", "\(clients)", "-t", "\(max(1, transactionsPerClient))", "-f", file.path],
            environment: try database.libpqEnvironment())
    }

    /// Resident and peak resident memory of a process, in MB, from /proc/PID/status.
    static func memory(of pid: Int32) -> (resident: Double, peak: Double) {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return (0, 0) }
        func kilobytes(_ field: String) -> Double {
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field) }) else { return 0 }
            return Double(line.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? 0
        }
        return (kilobytes("VmRSS:") / 1024, kilobytes("VmHWM:") / 1024)
    }

    /// CPU time a process has used so far (user and system), in seconds, from /proc/PID/stat.
    static func cpuSeconds(of pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let end = stat.lastIndex(of: ")")
        else { return 0 }
        // After the command name in parentheses: state is field 3, utime and stime are 14 and 15.
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// The machine's 1-minute load average, from /proc/loadavg (0 where there is none).
    static func loadAverage() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return 0 }
        return text.split(separator: " ").first.flatMap { Double($0) } ?? 0
    }

    /// The value at `fraction` (0 the least, 0.5 the median, 1 the greatest) of `values`, by nearest
    /// rank; 0 when there are none.
    static func quantile(_ values: [Double], _ fraction: Double) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, max(0, Int((Double(sorted.count - 1) * fraction).rounded())))]
    }

    /// Seconds elapsed since `start`.
    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = start.duration(to: .now)
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    /// A `timeval` (CPU time from `getrusage`) in seconds.
    static func seconds(_ time: timeval) -> Double {
        Double(time.tv_sec) + Double(time.tv_usec) / 1e6
    }
}
