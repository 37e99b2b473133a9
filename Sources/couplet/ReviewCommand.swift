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
        let lines = try await ReviewLines.load(on: db, counting: true)
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
    func follow(on db: PostgresConnection) async throws -> [ReviewLine] {
        let terminal = isatty(STDOUT_FILENO) == 1
        var shownLines = 0
        var shownStates: [String: String] = [:]
        while true {
            let lines = try await ReviewLines.load(on: db, counting: false)
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

/// One mapping in the review.
struct ReviewLine {
    var mapping: String
    var direction: String
    var dependsOn: [String]
    var couplings: Int
    var localRecords: Int?
    var integrationRecords: Int?
    var recommendation: ReviewRecommendation
    /// The review state: none, waiting, enqueued, finished, failed or blocked.
    var review: String?
    /// The state of the review's job for this mapping.
    var jobState: String?
    var message: String?
    /// The counts of the mapping's full sync in this review so far.
    var counts: String?

    /// Whether the review still waits for or runs this mapping.
    var isPending: Bool {
        review == "waiting" || (review == "enqueued" && ["available", "scheduled", "running", "retryable"].contains(jobState ?? ""))
    }

    /// The review state as a person reads it.
    var stateText: String {
        switch review {
        case nil: return "not in a review"
        case "waiting": return "waiting for " + dependsOn.joined(separator: ", ")
        case "enqueued": return (jobState == "running" ? "running" : jobState == "available" ? "queued" : jobState ?? "enqueued")
            + (counts.map { ": " + $0 } ?? "")
        case "finished": return "finished" + (counts.map { ": " + $0 } ?? "")
        case let state?: return state + (message.map { ": " + $0 } ?? "")
        }
    }
}

/// Reads the review's lines from the coordination database (and counts records on the endpoints).
enum ReviewLines {
    /// Every mapping in dependency order; `counting` counts each side's records on its endpoint.
    static func load(on db: PostgresConnection, counting: Bool) async throws -> [ReviewLine] {
        let rows = try await db.query(
            """
            SELECT m.name, m.direction, m.depends_on,
                   (SELECT count(*) FROM couplet.couplings c WHERE c.mapping = m.name),
                   EXISTS (SELECT FROM couplet.field_mappings f WHERE f.mapping = m.name AND f.match_priority IS NOT NULL),
                   r.state, j.state, r.message,
                   (SELECT sum(s.inserted) || ' inserted, ' || sum(s.modified) || ' modified, ' || sum(s.unchanged) || ' unchanged, '
                           || sum(s.failed) || ' failed'
                    FROM couplet.sync_runs s WHERE s.job_id = r.job_id AND coalesce(s.message, '') NOT LIKE 'interrupted:%')
            FROM couplet.table_mappings m
            LEFT JOIN couplet.sync_review r ON r.mapping = m.name
            LEFT JOIN couplet.jobs j ON j.id = r.job_id
            ORDER BY m.name
            """, name: "review lines"
        ).map { try $0.decode((String, String, [String], Int, Bool, String?, String?, String?, String?).self) }
        var endpoints = EndpointCounter()
        defer { endpoints.close() }
        var lines: [ReviewLine] = []
        for (name, direction, dependsOn, couplings, matches, review, jobState, message, counts) in rows {
            let sides = counting ? try await endpoints.count(mapping: name, on: db) : (nil, nil)
            lines.append(ReviewLine(
                mapping: name, direction: direction, dependsOn: dependsOn, couplings: couplings, localRecords: sides.0,
                integrationRecords: sides.1,
                recommendation: ReviewRecommendation(couplings: couplings, local: sides.0, integration: sides.1, matches: matches),
                review: review, jobState: jobState, message: message, counts: counts))
        }
        let order = SyncReview.dependencyOrder(Dictionary(uniqueKeysWithValues: lines.map { ($0.mapping, $0.dependsOn) }))
        return order.compactMap { name in lines.first { $0.mapping == name } }
    }

    /// The lines as a table.
    static func table(_ lines: [ReviewLine]) -> TextTable {
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

/// Counts mappings' records on their endpoints, one connection per endpoint; an endpoint it
/// cannot reach (no URL here) counts as unknown.
struct EndpointCounter {
    private let directory = EndpointDirectory()
    private var connections: [String: PostgresConnection?] = [:]

    /// The records passing each side's filter, or nil for a side whose endpoint is out of reach.
    mutating func count(mapping name: String, on db: PostgresConnection) async throws -> (Int?, Int?) {
        let mapping = try await MappingStore.load(name, on: db)
        return (try await count(mapping.local), try await count(mapping.integration))
    }

    private mutating func count(_ side: MappingSide) async throws -> Int? {
        if connections[side.endpoint] == nil { connections[side.endpoint] = .some(try? await directory.connect(side.endpoint)) }
        guard let connection = connections[side.endpoint] ?? nil else { return nil }
        return try? await PostgresTableEndpoint(connection: connection, side: side, columns: []).count()
    }

    /// Closes the connections.
    func close() {
        for case let connection? in connections.values { connection.close() }
    }
}
