import Foundation
import Postgres

/// One mapping in the full synchronization review, as `couplet review` and the console show it.
public struct SyncReviewLine: Sendable, Equatable {
    public var mapping: String
    /// `to_integration`, `from_integration` or `bidirectional`.
    public var direction: String
    /// The mappings whose full sync must finish first.
    public var dependsOn: [String]
    /// Coupled record pairs.
    public var couplings: Int
    /// Records passing the local side's filter, or nil when its endpoint was not counted or is out of reach.
    public var localRecords: Int?
    /// Records passing the integration side's filter, or nil when not counted or out of reach.
    public var integrationRecords: Int?
    public var recommendation: ReviewRecommendation
    /// The review state: none, waiting, enqueued, finished, failed or blocked.
    public var review: String?
    /// The state of the review's job for this mapping.
    public var jobState: String?
    public var message: String?
    /// The counts of the mapping's full sync in this review so far.
    public var counts: String?

    /// Whether the review still waits for or runs this mapping.
    public var isPending: Bool {
        review == "waiting" || (review == "enqueued" && ["available", "scheduled", "running", "retryable"].contains(jobState ?? ""))
    }

    /// The review state as a person reads it.
    public var stateText: String {
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

extension SyncReview {
    /// Every mapping's review line, in dependency order; `countingRecords` counts each side's records
    /// on its endpoint (one connection per endpoint reachable from this process).
    public static func lines(countingRecords: Bool, on db: PostgresConnection) async throws -> [SyncReviewLine] {
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
        var lines: [SyncReviewLine] = []
        for (name, direction, dependsOn, couplings, matches, review, jobState, message, counts) in rows {
            let sides = countingRecords ? try await endpoints.count(mapping: name, on: db) : (nil, nil)
            lines.append(SyncReviewLine(
                mapping: name, direction: direction, dependsOn: dependsOn, couplings: couplings, localRecords: sides.0,
                integrationRecords: sides.1,
                recommendation: ReviewRecommendation(couplings: couplings, local: sides.0, integration: sides.1, matches: matches),
                review: review, jobState: jobState, message: message, counts: counts))
        }
        let order = dependencyOrder(Dictionary(uniqueKeysWithValues: lines.map { ($0.mapping, $0.dependsOn) }))
        return order.compactMap { name in lines.first { $0.mapping == name } }
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
