import Foundation

/// Runs the real `couplet` binary, as a user or a deployment would.
///
/// The binary is the one `deploy/test` built (`COUPLET_BINARY`), else `.build/debug/couplet`.
struct CoupletProcess {
    /// The exit status and everything the process printed.
    struct Outcome {
        var status: Int32
        var standardOutput: String
        var standardError: String
    }

    static var binary: URL {
        if let path = ProcessInfo.processInfo.environment["COUPLET_BINARY"] { return URL(fileURLWithPath: path) }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appending(path: ".build/debug/couplet")
    }

    /// Runs `couplet ARGUMENTS` with `environment` added to a clean one, and waits for it to exit.
    static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> Outcome {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        var base = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("COUPLET_") }
        base.merge(environment) { $1 }
        process.environment = base
        let output = FileManager.default.temporaryDirectory.appending(path: "couplet-\(UUID().uuidString).out")
        let errors = FileManager.default.temporaryDirectory.appending(path: "couplet-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: output)
            try? FileManager.default.removeItem(at: errors)
        }
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = try FileHandle(forWritingTo: errors)
        let status = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int32, Error>) in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        return Outcome(
            status: status,
            standardOutput: try String(contentsOf: output, encoding: .utf8),
            standardError: try String(contentsOf: errors, encoding: .utf8))
    }
}
