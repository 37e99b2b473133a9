import Foundation
import Postgres

/// An ERP record coupled to a CRM record: the pair a refresh computes and writes figures for.
struct CoupledRecord: Sendable {
    /// The ERP key (`couplet.couplings.local_id`).
    let localID: String
    /// The CRM key (`couplet.couplings.integration_id`).
    let integrationID: String

    /// The pair in a row that starts with `local_id, integration_id`.
    init(_ row: PostgresRow) throws {
        localID = try row.decode(String.self, at: 0)
        integrationID = try row.decode(String.self, at: 1)
    }
}

/// What writing one batch did on the CRM.
struct BatchWrite: Sendable {
    /// Coupled records whose ERP record was found and figures computed.
    var computed = 0
    /// Records whose CRM figures differed and were written.
    var written = 0
    /// Coupled records whose CRM counterpart no longer exists.
    var missing = 0
}

/// One kind of coupled-record refresh: which ERP records changed, and how a batch of coupled ones
/// is computed on the ERP and written to the CRM.
protocol CoupledRefresh: Sendable {
    /// The job kind that runs this refresh, e.g. `statistics.customers`.
    static var jobKind: String { get }

    /// A query of the ERP keys (column `no`) to refresh: every record when `since` is nil, else
    /// those whose figures may have changed after `since`.
    func candidates(since: Date?) -> PostgresQuery

    /// Computes the figures of `coupled` on the ERP in one query and writes those that differ to the CRM in one statement.
    func refresh(_ coupled: [CoupledRecord], endpoints: RefreshEndpoints) async throws -> BatchWrite
}

/// The three databases a refresh works with.
struct RefreshEndpoints: Sendable {
    /// The ERP (the mapping's local endpoint).
    let erp: PostgresConnection
    /// The CRM (the mapping's integration endpoint).
    let crm: PostgresConnection
    /// The coordination database.
    let coordination: PostgresConnection
}
