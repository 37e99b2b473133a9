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
        // Duplicates are grouped beside the pairs, on connections of their own, so that each
        // side's server works while the other waits. `--repair` couples nothing.
        async let duplicates = checkUncoupled(mapping) { check, found in try await check.duplicates(limit: options.limit, into: &found) }
        var coupledInFilter: [SyncSide: Int] = [:]
        if let repair {
            try await repairPages(reader: reader, repair: repair, pageSize: pageSize, options: options, into: &report, &coupledInFilter)
        } else {
            try await comparePages(reader: reader, pageSize: pageSize, options: options, into: &report, &coupledInFilter)
        }
        report.take(uncoupled: try await duplicates)
        // Uncoupled records are looked for only on a side that has more records in its filter than coupled ones.
        let fullyCoupled = try await reader.fullyCoupled(coupledInFilter)
        report.take(uncoupled: try await checkUncoupled(mapping) { check, found in
            try await check.matches(pageSize: pageSize, limit: options.limit, skipping: fullyCoupled, into: &found)
        })
        do {
            try await report.save(on: coordination)
        } catch {
            // The verify itself stands; only its record for the alerts is missing (a login without couplet_admin).
            logger.warning("cannot keep the verify's result for /metrics", metadata: ["mapping": "\(name)", "error": "\(error)"])
        }
        logger.info("verified", metadata: [
            "mapping": "\(name)", "checked": "\(report.checked)", "differing": "\(report.differing)",
            "would_match": "\(report.wouldMatch)", "duplicate_groups": "\(report.duplicateGroups)",
        ])
        return report
    }
}

extension MappingVerifier {
    /// Compares every page of pairs. Three steps overlap: while a page is compared, the next
    /// page's records are read from both sides and the couplings of the page after it from the
    /// coordination database, so no server waits for another's answer.
    private func comparePages(
        reader: PairReader, pageSize: Int, options: Options, into report: inout VerifyReport, _ coupledInFilter: inout [SyncSide: Int]
    ) async throws {
        let first = try await reader.pairs(after: nil, limit: pageSize)
        var reading = first.isEmpty ? nil : try await reader.read(first)
        var ahead = first.isEmpty ? [] : try await reader.pairs(after: first.last?.localID, limit: pageSize)
        while let page = reading {
            for side in SyncSide.allCases { coupledInFilter[side, default: 0] += page.inFilter(on: side) }
            let following = ahead
            async let next = following.isEmpty ? nil : reader.read(following)
            async let afterNext = following.isEmpty ? [] : reader.pairs(after: following.last?.localID, limit: pageSize)
            for finding in try await reader.findings(in: page) { report.count(finding, limit: options.limit) }
            reading = try await next
            ahead = try await afterNext
        }
    }

    /// Compares and repairs every page of pairs, one after the other: a repair writes, so the
    /// next page is read after it.
    private func repairPages(
        reader: PairReader, repair: PairRepair, pageSize: Int, options: Options,
        into report: inout VerifyReport, _ coupledInFilter: inout [SyncSide: Int]
    ) async throws {
        var summary = RepairSummary()
        var pairs = try await reader.pairs(after: nil, limit: pageSize)
        while !pairs.isEmpty {
            let page = try await reader.read(pairs)
            for side in SyncSide.allCases { coupledInFilter[side, default: 0] += page.inFilter(on: side) }
            for finding in try await repair.repair(try await reader.findings(in: page), reader: reader, summary: &summary) {
                report.count(finding, limit: options.limit)
            }
            pairs = try await reader.pairs(after: page.last, limit: pageSize)
        }
        report.repair = summary
    }

    /// What `check` finds among the records of `mapping` that no coupling covers (nothing when it
    /// has no match fields), on connections of its own.
    private func checkUncoupled(
        _ mapping: MappingDefinition, _ check: (UncoupledMatches, inout VerifyReport) async throws -> Void
    ) async throws -> VerifyReport {
        var found = VerifyReport(mapping: mapping.settings.name)
        guard !mapping.matchFields.isEmpty else { return found }
        let local = try await endpoints.connect(mapping.local.endpoint)
        defer { local.close() }
        let integration = try await endpoints.connect(mapping.integration.endpoint)
        defer { integration.close() }
        let uncoupled = UncoupledMatches(
            mapping: mapping, coordination: coordination,
            local: try PostgresTableEndpoint(connection: local, side: mapping.local, columns: mapping.columns(on: .local)),
            integration: try PostgresTableEndpoint(
                connection: integration, side: mapping.integration, columns: mapping.columns(on: .integration)))
        try await check(uncoupled, &found)
        return found
    }
}

/// A page of coupled pairs with what was read of both sides and the lookups their rules need.
struct PairPage: Sendable {
    let pairs: [CoupledPair]
    let locals: [String: ReadRow]
    let integrations: [String: ReadRow]
    let lookups: [SyncDirection: LookupTable]

    /// The last local id of the page: where the next one starts.
    var last: String? { pairs.last?.localID }

    /// How many of the page's records on `side` exist and pass the filter.
    func inFilter(on side: SyncSide) -> Int {
        (side == .local ? locals : integrations).values.count(where: \.passesFilter)
    }
}

/// Reads a page of coupled pairs from both sides and tells each pair's state.
struct PairReader: Sendable {
    let mapping: MappingDefinition
    let comparison: PairComparison
    let coordination: PostgresConnection
    let local: PostgresTableEndpoint
    let integration: PostgresTableEndpoint
    /// The compared fields by position when all travel unchanged (see `PairComparison.plainFields`).
    let plainFields: [PairComparison.PositionedField]?

    init(mapping: MappingDefinition, coordination: PostgresConnection, local: PostgresConnection, integration: PostgresConnection) throws {
        self.mapping = mapping
        self.comparison = PairComparison(mapping: mapping.settings, fields: mapping.fields)
        self.coordination = coordination
        self.local = try PostgresTableEndpoint(connection: local, side: mapping.local, columns: mapping.columns(on: .local))
        self.integration = try PostgresTableEndpoint(
            connection: integration, side: mapping.integration, columns: mapping.columns(on: .integration))
        self.plainFields = comparison.plainFields(localColumns: self.local.columnNames, integrationColumns: self.integration.columnNames)
    }

    /// The sides whose records passing the filter are all coupled: as many as `coupledInFilter` counted.
    func fullyCoupled(_ coupledInFilter: [SyncSide: Int]) async throws -> Set<SyncSide> {
        var sides: Set<SyncSide> = []
        if try await local.count() == coupledInFilter[.local, default: 0] { sides.insert(.local) }
        if try await integration.count() == coupledInFilter[.integration, default: 0] { sides.insert(.integration) }
        return sides
    }

    /// Up to `limit` coupled pairs after local id `after` (from the first when nil), in local-id order.
    func pairs(after: String?, limit: Int) async throws -> [CoupledPair] {
        try await CouplingStore.page(mapping: mapping.settings.name, after: after, limit: limit, on: coordination)
    }

    /// Both sides' records of these pairs, in one statement per side, and the lookups their rules need.
    func read(_ pairs: [CoupledPair]) async throws -> PairPage {
        async let localRead = local.rowsWithFilterState(ids: pairs.map(\.localID))
        async let integrationRead = integration.rowsWithFilterState(ids: pairs.map(\.integrationID))
        let locals = Self.byID(try await localRead)
        let integrations = Self.byID(try await integrationRead)
        var lookups: [SyncDirection: LookupTable] = [:]
        for (diff, rows, endpoint) in [(comparison.toIntegration, locals, local), (comparison.fromIntegration, integrations, integration)]
        where !diff.referencedMappings.isEmpty {
            lookups[diff.direction] = try await LookupTable.load(
                for: diff, direction: diff.direction, records: try rows.values.map(endpoint.record(from:)), on: coordination)
        }
        return PairPage(pairs: pairs, locals: locals, integrations: integrations, lookups: lookups)
    }

    /// One finding per pair of the page, in its order: nil for a pair in step. The couplings' stamps
    /// (pending or drift) are loaded only for the pairs whose fields differ.
    func findings(in page: PairPage) async throws -> [VerifyFinding?] {
        // Each resolver is made as a `LookupResolver`: a dictionary of the method references
        // (`@Sendable` functions) converted to one of `LookupResolver`s is a runtime cast that traps.
        let resolvers = page.lookups.mapValues { table -> LookupResolver in { mapping, value in table.resolve(mapping, value) } }
        var differing: [Int: [FieldDifference]] = [:]
        var findings: [VerifyFinding?] = try page.pairs.enumerated().map { index, pair in
            let state: PairState?
            switch try compare(page.locals[pair.localID], page.integrations[pair.integrationID], lookups: resolvers) {
            case .differ(let fields):
                differing[index] = fields
                state = nil
            case .other(let other):
                state = other
            }
            return state.map { VerifyFinding(localID: pair.localID, integrationID: pair.integrationID, state: $0) }
        }
        guard !differing.isEmpty else { return findings }
        let couplings = try await CouplingStore.load(
            mapping: mapping.settings.name, side: .local, ids: differing.keys.map { page.pairs[$0].localID }, on: coordination)
        for (index, fields) in differing {
            let pair = page.pairs[index]
            guard let coupling = couplings[pair.localID], let localRow = page.locals[pair.localID],
                let integrationRow = page.integrations[pair.integrationID]
            else { continue }  // uncoupled meanwhile
            findings[index] = VerifyFinding(
                localID: pair.localID, integrationID: pair.integrationID,
                state: comparison.state(
                    of: fields, coupling: coupling, local: try local.record(from: localRow),
                    integration: try integration.record(from: integrationRow)))
        }
        return findings
    }


    private static func byID(_ rows: [ReadRow]) -> [String: ReadRow] {
        Dictionary(rows.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// What the values of a coupled pair say, from what was read of each side (nil: the record
    /// does not exist): orphaned before outside the filter before compared. A pair whose fields
    /// all travel unchanged is compared by position; any other, as `SyncRecord`s by the engine's rules.
    func compare(_ local: ReadRow?, _ integration: ReadRow?, lookups: [SyncDirection: LookupResolver]) throws -> ValueComparison {
        guard let local, let integration else {
            return .other(.orphaned(deleted: [local == nil ? SyncSide.local : nil, integration == nil ? .integration : nil].compactMap { $0 }))
        }
        let outside = [local.passesFilter ? nil : SyncSide.local, integration.passesFilter ? nil : .integration].compactMap { $0 }
        guard outside.isEmpty else { return .other(.outsideFilter(outside)) }
        if let plainFields, PairComparison.inStep(local, integration, fields: plainFields) { return .other(nil) }
        let records = (local: try self.local.record(from: local), integration: try self.integration.record(from: integration))
        do {
            let fields = try comparison.differences(local: records.local, integration: records.integration, lookups: lookups)
            return fields.isEmpty ? .other(nil) : .differ(fields)
        } catch {
            return .other(.notComparable(error.message))
        }
    }
}

/// What comparing a pair's values found, before its coupling's stamps are looked at.
enum ValueComparison {
    /// These fields differ: pending or drift, as the coupling says.
    case differ([FieldDifference])
    /// In step (nil), or a state the values alone decide.
    case other(PairState?)
}
