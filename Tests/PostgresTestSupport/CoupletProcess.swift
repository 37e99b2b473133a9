import Foundation

/// Runs the real `couplet` binary, as a user or a deployment would.
///
/// The binary is the one `deploy/test` built (`COUPLET_BINARY`), else `.build/debug/couplet`.
public struct CoupletProcess {
    /// The exit status and everything the process printed.
    public struct Outcome: Sendable {
        public var status: Int32
        public var standardOutput: String
        public var standardError: String
    }

    public static var binary: URL {
        if let path = ProcessInfo.processInfo.environment["COUPLET_BINARY"] { return URL(fileURLWithPath: path) }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appending(path: ".build/debug/couplet")
    }

    /// Runs `couplet ARGUMENTS` with `environment` added to a clean one (in `directory`, else the
    /// tests' own), and waits for it to exit.
    public static func run(_ arguments: [String], environment: [String: String] = [:], directory: URL? = nil) async throws -> Outcome {
        try await start(arguments, environment: environment, directory: directory).waitForExit()
    }

    /// Runs `couplet ARGUMENTS` like `run`, but kills it after `limit`: a command that would wait for
    /// ever ends (killed, status 9) instead of hanging the test.
    public static func run(
        _ arguments: [String], environment: [String: String] = [:], directory: URL? = nil, killedAfter limit: Duration
    ) async throws -> Outcome {
        let process = try start(arguments, environment: environment, directory: directory)
        let timer = Task {
            try await Task.sleep(for: limit)
            process.kill()
        }
        defer { timer.cancel() }
        return try await process.waitForExit()
    }

    /// Starts `couplet ARGUMENTS` in the background.
    public static func start(_ arguments: [String], environment: [String: String] = [:], directory: URL? = nil) throws -> Running {
        try Running(executable: binary, arguments, environment: environment, directory: directory)
    }

    /// Starts a command line as a reader pastes it into a shell: `bash -c LINE` in `directory`, with
    /// `environment` added to a clean one and this `couplet` first on `PATH`. bash runs a line that is
    /// one command in place of itself, so terminating it terminates that command.
    public static func startShell(_ line: String, environment: [String: String] = [:], directory: URL? = nil) throws -> Running {
        var environment = environment
        let path = environment["PATH"] ?? ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        environment["PATH"] = binary.deletingLastPathComponent().path + ":" + path
        return try Running(executable: URL(fileURLWithPath: "/bin/bash"), ["-c", line], environment: environment, directory: directory)
    }

    /// A `couplet` process that runs until it exits, is terminated or is killed.
    public final class Running: @unchecked Sendable {
        private let process = Process()
        private let output = FileManager.default.temporaryDirectory.appending(path: "couplet-\(UUID().uuidString).out")
        private let errors = FileManager.default.temporaryDirectory.appending(path: "couplet-\(UUID().uuidString).err")
        private let exit = AsyncStream<Int32>.makeStream()

        fileprivate init(executable: URL, _ arguments: [String], environment: [String: String], directory: URL?) throws {
            process.executableURL = executable
            process.arguments = arguments
            if let directory { process.currentDirectoryURL = directory }
            var base = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("COUPLET_") }
            base.merge(environment) { $1 }
            process.environment = base
            _ = FileManager.default.createFile(atPath: output.path, contents: nil)
            _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
            let outputHandle = try FileHandle(forWritingTo: output)
            let errorsHandle = try FileHandle(forWritingTo: errors)
            process.standardOutput = outputHandle
            process.standardError = errorsHandle
            let continuation = exit.continuation
            process.terminationHandler = { process in
                continuation.yield(process.terminationStatus)
                continuation.finish()
            }
            // The child has its own copies once started; the parent's would stay open as long as
            // Foundation keeps the Process (past this object), two descriptors per run.
            defer {
                try? outputHandle.close()
                try? errorsHandle.close()
            }
            try process.run()
        }

        deinit {
            if process.isRunning { process.terminate() }
            try? FileManager.default.removeItem(at: output)
            try? FileManager.default.removeItem(at: errors)
        }

        /// The process id.
        public var pid: Int32 { process.processIdentifier }

        /// Sends SIGTERM, as systemd or Kubernetes would to stop it.
        public func terminate() { Foundation.kill(process.processIdentifier, SIGTERM) }

        /// Sends SIGKILL: the process dies at once, without cleaning up.
        public func kill() { Foundation.kill(process.processIdentifier, SIGKILL) }

        /// What it printed to standard error so far.
        public var standardError: String { (try? String(contentsOf: errors, encoding: .utf8)) ?? "" }

        /// Waits for the process to exit and returns its status and output.
        public func waitForExit() async throws -> Outcome {
            var status: Int32 = -1
            for await code in exit.stream { status = code }
            return Outcome(
                status: status,
                standardOutput: try String(contentsOf: output, encoding: .utf8),
                standardError: try String(contentsOf: errors, encoding: .utf8))
        }
    }
}
