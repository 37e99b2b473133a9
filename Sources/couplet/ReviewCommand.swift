import ArgumentParser
import CommandSupport
import Foundation
import Postgres
import Sync

/// `couplet review`: Business Central's full synchronization review — one line per mapping with
/// its recommendation and state; `couplet review run` runs every full sync in dependency order.
struct ReviewCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "review",
        abstract: "The full synchronization review: each mapping's recommendation and state, and a run in dependency order.",
        subcommands: [ReviewShowCommand.self, ReviewRunCommand.self],
        defaultSubcommand: ReviewShowCommand.self)
}

/// `couplet review [show]`: one line per mapping, in dependency order.
struct ReviewShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "One line per mapping: dependencies, records on each side, couplings, recommendation and review state.",
        discussion: """
            Records are counted on the endpoints (those passing each side's filter) when their \
            COUPLET_ENDPOINT_<NAME>_URL is set; otherwise they show as ?.
            """)

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let logger = try global.makeLogger("couplet.review")
        let db = try await global.connect(logger, applicationName: "couplet review")
        defer { db.close() }
        let lines = try await SyncReview.lines(countingRecords: true, on: db)
        guard !lines.isEmpty else {
            print("No mappings. Apply a mappings file with: couplet mappings apply FILE")
            return
        }
        ReviewLines.table(lines).lines().forEach { print($0) }
    }
}

/// `couplet review run`: starts the review and follows it until every full sync has ended.
struct ReviewRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run every enabled mapping's full sync, each once the mappings it depends on have finished.",
        discussion: """
            The workers run the full syncs; each one that ends enqueues the mappings that became \
            ready, so the review goes on if this command stops. It follows the review until every \
            mapping has finished, failed or is blocked by a failed dependency, and exits non-zero \
            unless all finished.
            """)

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Start the review and return at once.")
    var noWait = false

    @Flag(help: "Start over although a review still has mappings waiting or running.")
    var restart = false

    func run() async throws {
        let logger = try global.makeLogger("couplet.review")
        let db = try await global.connect(logger, applicationName: "couplet review run")
        defer { db.close() }
        let started: [String]
        do {
            started = try await SyncReview.start(restart: restart, on: db)
        } catch let failure as SyncFailure {
            throw CommandFailure(description: failure.message)
        }
        print("Review started: \(started.joined(separator: ", ")) first.")
        guard !noWait else { return }
        let lines = try await ReviewProgress().follow(on: db)
        guard lines.allSatisfy({ $0.review == "finished" }) else { throw ExitCode.failure }
    }
}

/// Redraws the review's lines while it runs (on a terminal), or prints each change (when piped).
struct ReviewProgress {
    /// Follows the review until nothing waits or runs; returns the final lines.
    func follow(on db: PostgresConnection) async throws -> [SyncReviewLine] {
        let terminal = isatty(STDOUT_FILENO) == 1
        var shownLines = 0
        var shownStates: [String: String] = [:]
        while true {
            let lines = try await SyncReview.lines(countingRecords: false, on: db)
            if terminal {
                let text = ReviewLines.table(lines).lines()
                if shownLines > 0 { print("\u{1B}[\(shownLines)A", terminator: "") }
                text.forEach { print("\u{1B}[K" + $0) }
                shownLines = text.count
            } else {
                for line in lines where shownStates[line.mapping] != line.stateText {
                    print("\(line.mapping): \(line.stateText)")
                    shownStates[line.mapping] = line.stateText
                }
            }
            if !lines.contains(where: \.isPending) { return lines }
            try await Task.sleep(for: .milliseconds(500))
        }
    }
}

/// The review's lines as a table.
enum ReviewLines {
    /// One row per mapping, in the lines' order.
    static func table(_ lines: [SyncReviewLine]) -> TextTable {
        var table = TextTable(header: ["MAPPING", "DIRECTION", "DEPENDS ON", "LOCAL", "INTEGRATION", "COUPLED", "RECOMMENDATION", "STATE"])
        table.rows = lines.map { line in
            [
                line.mapping, line.direction, line.dependsOn.isEmpty ? "-" : line.dependsOn.joined(separator: ","),
                line.localRecords.map(String.init) ?? "?", line.integrationRecords.map(String.init) ?? "?", String(line.couplings),
                line.recommendation.rawValue, line.stateText,
            ]
        }
        return table
    }
}
