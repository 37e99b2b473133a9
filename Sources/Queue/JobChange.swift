import Foundation
import Postgres

/// A change a person makes to jobs: one of the `couplet.*_job` functions a DBA would call from psql.
///
/// The SQL function decides and locks, so a change from here behaves exactly as the same call from
/// psql; it runs with the caller's own privileges, so the caller's database role decides who may.
public enum JobChange: String, Sendable, CaseIterable {
    /// Run a failed, cancelled, completed or pending job again now.
    case retry
    /// Cancel a pending or held job, or ask a running job's worker to stop it.
    case cancel
    /// Keep a pending job from running until it is resumed.
    case hold
    /// Release a held job.
    case resume

    /// The SQLSTATEs with which the functions refuse a change: no such job, wrong state, unique key taken.
    public static let refusalStates: Set<String> = ["P0002", "55000", "23505"]

    /// Jobs a bulk change hands to `couplet.change_jobs` per statement: one round trip per batch, and
    /// outside a transaction each batch commits (and releases its row locks) on its own.
    public static let batchSize = 500

    /// Applies the change to job `id` and returns its new state; a refusal throws `JobChangeRefused`
    /// with the server's message and hint.
    public func apply(to id: Int64, on connection: PostgresConnection) async throws -> String {
        let function = try PostgresIdentifier("\(rawValue)_job", schema: "couplet")
        do {
            return try await connection.query("SELECT \(function)(\(id))", name: "\(rawValue)_job").single().decode(String.self, at: 0)
        } catch let error as PostgresError where Self.refusalStates.contains(error.sqlState ?? "") {
            throw JobChangeRefused(message: error.message, hint: error.hint)
        }
    }

    /// Applies the change to every job matching `filter` (not only a list's limit), in batches of
    /// `batchSize` in id order through `couplet.change_jobs`, which refuses a job the way the single
    /// function would and goes on with the next. Returns how many changed and why the others were refused.
    public func applyToMatching(_ filter: JobFilter, on connection: PostgresConnection) async throws -> BulkChangeReport {
        var report = BulkChangeReport()
        var after: Int64 = 0
        while true {
            let rows = try await connection.query(
                """
                WITH batch AS (
                    SELECT id FROM couplet.job_status WHERE \(filter.condition) AND id > \(after) ORDER BY id LIMIT \(Self.batchSize)
                )
                SELECT c.job_id, c.state, c.reason FROM couplet.change_jobs(\(rawValue), ARRAY(SELECT id FROM batch)) c
                """, name: "change jobs"
            ).map { try $0.decode((Int64, String?, String?).self) }
            guard let last = rows.last else { return report }
            after = last.0
            for (_, state, reason) in rows {
                if state != nil { report.changed += 1 } else { report.refused[reason ?? "refused", default: 0] += 1 }
            }
        }
    }
}

/// What a bulk change did: how many jobs changed, and how many were refused, by reason.
public struct BulkChangeReport: Sendable, Equatable {
    /// Jobs the change was applied to.
    public var changed = 0
    /// Refused jobs by reason (e.g. `it is running`), with their numbers.
    public var refused: [String: Int] = [:]

    /// Refused jobs in all.
    public var refusedCount: Int { refused.values.reduce(0, +) }

    /// A report of nothing yet.
    public init() {}
}

/// A change the job's function refused: no such job, a state that does not allow it, or a unique key
/// another pending job holds.
public struct JobChangeRefused: Error, Sendable, CustomStringConvertible {
    /// The server's message, e.g. `cannot hold job 7: it is running`.
    public var message: String
    /// The server's hint, if it gave one.
    public var hint: String?

    /// The message, then the hint on a line of its own.
    public var description: String { message + (hint.map { "\nHint: \($0)" } ?? "") }
}
