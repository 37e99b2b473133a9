import Foundation
import Logging
import Postgres

/// `couplet verify`: compares every coupled pair of one mapping field by field through the
/// mapping, and with `repair` brings the pairs that differ in step through the engine.
///
/// Full and delta syncs compare modified-on stamps only, so a pair whose values drifted apart
/// while both stamps stayed put (an earlier bad write, a change made while a trigger was off) looks
/// unchanged to them for ever. The verifier walks the couplings in local-key order, a page at a
/// time (keyset pagination: memory follows the page, not the mapping), reads the page's records of
/// both sides in one statement each — whatever the filter, so that a deleted record and a
/// filtered-out one are told apart — and compares each pair with `PairComparison`.
///
/// It writes nothing unless repairing, and then only through the engine: see `PairRepair`.
public struct MappingVerifier: Sendable {
    /// How a verify runs.
    public struct Options: Sendable {
        /// Findings kept in the report for printing (all are counted).
        public var limit: Int
        /// Bring differing pairs and orphaned couplings in step by the mapping's policies.
        public var repair: Bool
        /// Couplings per page; nil for `MappingVerifier.defaultPageSize` (or the mapping's batch size, if larger).
        public var pageSize: Int?

        /// Options; by default the first 100 findings are kept and nothing is repaired.
        public init(limit: Int = 100, repair: Bool = false, pageSize: Int? = nil) {
            self.limit = limit
            self.repair = repair
            self.pageSize = pageSize
        }
    }

    /// Couplings per page unless the options or the mapping's batch size say more.
    public static let defaultPageSize = 5_000

    private let coordination: PostgresConnection
    private let endpoints: EndpointDirectory
    private let logger: Logger

    /// A verifier reading couplings from the coordination database and records from the mapping's endpoints.
    public init(coordination: PostgresConnection, endpoints: EndpointDirectory = EndpointDirectory(), logger: Logger) {
        self.coordination = coordination
        self.endpoints = endpoints
        self.logger = logger
    }

    /// Verifies (and with `options.repair`, repairs) every coupling of `mapping`.
    public func verify(mapping name: String, options: Options = Options()) async throws -> VerifyReport {
        let mapping = try await MappingStore.load(name, on: coordination)
        let pageSize = max(1, options.pageSize ?? max(mapping.batchSize, Self.defaultPageSize))
        let local = try await endpoints.connect(mapping.local.endpoint)
        defer { local.close() }
        let integration = try await endpoints.connect(mapping.integration.endpoint)
        defer { integration.close() }
        let reader = try PairReader(mapping: mapping, coordination: coordination, local: local, integration: integration)
        let repair = options.repair
            ? PairRepair(mapping: mapping, coordination: coordination, engine: SyncEngine(coordination: coordination, endpoints: endpoints, logger: logger))
            : nil
        var report = VerifyReport(mapping: name)
        if repair != nil { report.repair = RepairSummary() }
        var cursor: String?
        while case let page = try await CouplingStore.page(mapping: name, after: cursor, limit: pageSize, on: coordination),
            let last = page.last
        {
            var findings = try await reader.findings(of: page)
            if let repair, var summary = report.repair {
                findings = try await repair.repair(findings, reader: reader, summary: &summary)
                report.repair = summary
            }
            for finding in findings { report.count(finding, limit: options.limit) }
            cursor = last.localID
        }
        logger.info("verified", metadata: ["mapping": "\(name)", "checked": "\(report.checked)", "differing": "\(report.differing)"])
        return report
    }
}

/// Reads a page of coupled pairs from both sides and tells each pair's state.
struct PairReader: Sendable {
    let mapping: MappingDefinition
    let comparison: PairComparison
    let coordination: PostgresConnection
    let local: PostgresTableEndpoint
    let integration: PostgresTableEndpoint

    init(mapping: MappingDefinition, coordination: PostgresConnection, local: PostgresConnection, integration: PostgresConnection) throws {
        self.mapping = mapping
        self.comparison = PairComparison(mapping: mapping.settings, fields: mapping.fields)
        self.coordination = coordination
        self.local = try PostgresTableEndpoint(connection: local, side: mapping.local, columns: mapping.columns(on: .local))
        self.integration = try PostgresTableEndpoint(
            connection: integration, side: mapping.integration, columns: mapping.columns(on: .integration))
    }

    /// One finding per coupling, in the couplings' order: nil for a pair in step.
    func findings(of couplings: [Coupling]) async throws -> [VerifyFinding?] {
        async let localRead = local.recordsWithFilterState(ids: couplings.map(\.localID))
        async let integrationRead = integration.recordsWithFilterState(ids: couplings.map(\.integrationID))
        let locals = Self.byID(try await localRead)
        let integrations = Self.byID(try await integrationRead)
        let lookups = try await resolvers(locals: locals, integrations: integrations)
        return couplings.map { coupling in
            let state = comparison.state(
                of: coupling, local: locals[coupling.localID], integration: integrations[coupling.integrationID], lookups: lookups)
            return state.map { VerifyFinding(localID: coupling.localID, integrationID: coupling.integrationID, state: $0) }
        }
    }

    private static func byID(_ read: [(record: SyncRecord, passesFilter: Bool)]) -> [String: (record: SyncRecord, passesFilter: Bool)] {
        Dictionary(read.map { ($0.record.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The page's `lookup(...)` rules resolved through the referenced mappings' couplings, as the engine's pass would.
    private func resolvers(
        locals: [String: (record: SyncRecord, passesFilter: Bool)], integrations: [String: (record: SyncRecord, passesFilter: Bool)]
    ) async throws -> [SyncDirection: LookupResolver] {
        var resolvers: [SyncDirection: LookupResolver] = [:]
        for (diff, records) in [(comparison.toIntegration, locals), (comparison.fromIntegration, integrations)]
        where !diff.referencedMappings.isEmpty {
            let table = try await LookupTable.load(
                for: diff, direction: diff.direction, records: records.values.map(\.record), on: coordination)
            resolvers[diff.direction] = table.resolve
        }
        return resolvers
    }
}

extension PairComparison {
    /// The state of a coupled pair from what was read of each side (nil: the record does not
    /// exist), or nil when in step: orphaned before outside the filter before compared.
    func state(
        of coupling: Coupling, local: (record: SyncRecord, passesFilter: Bool)?,
        integration: (record: SyncRecord, passesFilter: Bool)?, lookups: [SyncDirection: LookupResolver]
    ) -> PairState? {
        guard let local, let integration else {
            return .orphaned(deleted: [local == nil ? SyncSide.local : nil, integration == nil ? .integration : nil].compactMap { $0 })
        }
        let outside = [local.passesFilter ? nil : SyncSide.local, integration.passesFilter ? nil : .integration].compactMap { $0 }
        guard outside.isEmpty else { return .outsideFilter(outside) }
        return state(of: coupling, local: local.record, integration: integration.record, lookups: lookups)
    }
}
