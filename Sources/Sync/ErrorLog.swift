import Foundation
import Postgres

/// The open errors of the sync error log (`couplet.sync_errors`), grouped by failure class: one
/// group per kind of failure, with how many records fail that way and a few of them.
public enum ErrorLog {
    /// The records of one mapping and direction that fail the same way.
    public struct Group: Sendable, Equatable {
        /// The mapping.
        public var mapping: String
        /// `to_integration` or `from_integration`.
        public var direction: String
        /// The failure class, e.g. `uncoupled_reference:salesperson_code`.
        public var failureClass: String
        /// What is wrong and what to do, without record ids (the newest wording of the group).
        public var message: String
        /// How many records fail this way now.
        public var records: Int
        /// How many runs failed them, summed over the records.
        public var occurrences: Int
        /// When the oldest of them was first seen.
        public var firstSeenAt: Date
        /// When one of them was last seen.
        public var lastSeenAt: Date
        /// A few of the records, those failing longest first.
        public var examples: [Example]
    }

    /// One record of a group.
    public struct Example: Sendable, Equatable {
        /// The local record's id, if known.
        public var localID: String?
        /// The integration record's id, if known.
        public var integrationID: String?
        /// The failure told about this record, with its ids and values.
        public var recordMessage: String?
        /// How many runs failed it this way.
        public var occurrences: Int
    }

    /// Which open errors to read: all, or those of one mapping, failure class (or class prefix,
    /// e.g. `key_collision`) or record id (local or integration).
    public struct Filter: Sendable, Equatable {
        /// The mapping, if only one.
        public var mapping: String?
        /// The failure class, exact or the part before a colon.
        public var failureClass: String?
        /// A record id on either side.
        public var record: String?

        /// A filter by any of mapping, failure class and record.
        public init(mapping: String? = nil, failureClass: String? = nil, record: String? = nil) {
            self.mapping = mapping
            self.failureClass = failureClass
            self.record = record
        }
    }

    /// The open errors matching `filter`, one group per mapping, direction and failure class, the
    /// groups with most records first, each with up to `examples` records.
    public static func openGroups(_ filter: Filter = Filter(), examples: Int = 3, on connection: PostgresConnection) async throws -> [Group] {
        try await connection.query(
            """
            WITH open AS (
                SELECT e.*, row_number() OVER (PARTITION BY e.mapping, e.direction, e.error_class
                                               ORDER BY e.first_seen_at, e.id) AS place
                FROM couplet.sync_errors e
                WHERE e.closed_at IS NULL
                  AND (\(filter.mapping)::text IS NULL OR e.mapping = \(filter.mapping))
                  AND (\(filter.failureClass)::text IS NULL OR e.error_class = \(filter.failureClass)
                       OR e.error_class LIKE \(filter.failureClass) || ':%')
                  AND (\(filter.record)::text IS NULL OR \(filter.record) IN (e.local_id, e.integration_id)))
            SELECT mapping, direction, error_class, (array_agg(message ORDER BY last_seen_at DESC))[1] AS message,
                   count(*)::int AS records, sum(occurrences)::int AS occurrences,
                   min(first_seen_at) AS first_seen_at, max(last_seen_at) AS last_seen_at,
                   array_agg(local_id ORDER BY place) FILTER (WHERE place <= \(examples)) AS local_ids,
                   array_agg(integration_id ORDER BY place) FILTER (WHERE place <= \(examples)) AS integration_ids,
                   array_agg(record_message ORDER BY place) FILTER (WHERE place <= \(examples)) AS record_messages,
                   array_agg(occurrences ORDER BY place) FILTER (WHERE place <= \(examples)) AS example_occurrences
            FROM open
            GROUP BY mapping, direction, error_class
            ORDER BY records DESC, mapping, direction, error_class
            """, name: "open errors by class"
        ).map(Group.init(row:))
    }
}

extension ErrorLog.Group {
    /// Reads a row of `ErrorLog.openGroups`' statement.
    init(row: PostgresRow) throws {
        let localIDs = try row.decode([String?].self, column: "local_ids")
        let integrationIDs = try row.decode([String?].self, column: "integration_ids")
        let messages = try row.decode([String?].self, column: "record_messages")
        let counts = try row.decode([Int].self, column: "example_occurrences")
        self.init(
            mapping: try row.decode(column: "mapping"), direction: try row.decode(column: "direction"),
            failureClass: try row.decode(column: "error_class"), message: try row.decode(column: "message"),
            records: try row.decode(column: "records"), occurrences: try row.decode(column: "occurrences"),
            firstSeenAt: try row.decode(column: "first_seen_at"), lastSeenAt: try row.decode(column: "last_seen_at"),
            examples: localIDs.indices.map { index in
                ErrorLog.Example(localID: localIDs[index], integrationID: integrationIDs[index],
                                 recordMessage: messages[index], occurrences: counts[index])
            })
    }
}
