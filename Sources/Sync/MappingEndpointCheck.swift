import Postgres
import YAMLFile

/// Checks a mappings file against the endpoints it names, as `couplet mappings validate` and
/// `apply` do: each endpoint connects; each side's table exists and the sync role may read (and,
/// where the mapping writes, write) it; the key, modified-on and field columns exist; modified-on
/// is a timestamp; paired columns take each other's values (see `ColumnCompatibility`); and each
/// filter plans as a predicate on its table.
///
/// Nothing is written: catalog reads only, and filters are planned (`EXPLAIN`, never run) in a
/// read-only transaction. Connection strings come from `EndpointDirectory` and never appear in a
/// problem.
public struct MappingEndpointCheck: Sendable {
    private let endpoints: EndpointDirectory

    /// A check that connects through `endpoints`.
    public init(endpoints: EndpointDirectory = EndpointDirectory()) {
        self.endpoints = endpoints
    }

    /// Every problem found, errors and warnings, in file order; each names the mapping, the side
    /// and the column, at the line and column of the file it concerns.
    public func problems(in file: MappingFileDefinition) async -> [FileProblem] {
        var problems = ProblemCollector(file: file.file)
        var connections: [String: any EndpointSession] = [:]
        for endpoint in file.endpoints {
            connections[endpoint.name] = await connect(endpoint, in: file, problems: &problems)
        }
        for mapping in file.mappings {
            for finding in await findings(for: mapping, connections: connections) {
                problems.report(at: mapping.place(of: finding.part), finding.message, severity: finding.severity)
            }
            for finding in RoundTripCheck.findings(for: mapping) {
                problems.report(at: mapping.place(of: finding.part), finding.message, severity: finding.severity)
            }
            if mapping.mapping.settings.deletionConflictPolicy == .restore {
                problems.report(at: mapping.place(of: .mapping), Self.restoreWarning(mapping.mapping.settings.name), severity: .warning)
            }
        }
        for session in connections.values { await session.close() }
        return FileProblems.inFileOrder(problems.problems)
    }

    /// The one policy that can undo a person's deletion: restore re-creates the deleted record.
    static func restoreWarning(_ mapping: String) -> String {
        "mapping \(mapping): deletion_conflict restore re-creates a record that a person deleted, whenever a run finds the deletion; remove_coupling (remembered, never re-created unless asked) and propagate never undo a deletion"
    }

    /// A session on `endpoint`, or nil with the reason reported at its declaration.
    private func connect(
        _ endpoint: EndpointDefinition, in file: MappingFileDefinition, problems: inout ProblemCollector
    ) async -> (any EndpointSession)? {
        do {
            return try await endpoints.open(endpoint)
        } catch {
            problems.report(at: endpoint.place, (error as? SyncFailure)?.message ?? "endpoint \(endpoint.name): \(error)")
            return nil
        }
    }

    /// The findings for one mapping: each side's table and filter, then the catalog checks.
    private func findings(
        for definition: TableMappingDefinition, connections: [String: any EndpointSession]
    ) async -> [MappingFinding] {
        var findings: [MappingFinding] = []
        var tables: [SyncSide: CatalogTable] = [:]
        for side in SyncSide.allCases {
            let configured = definition.mapping.side(side)
            // An endpoint that did not connect is reported once, at its declaration.
            guard let connection = connections[configured.endpoint] else { continue }
            do {
                guard let table = try await connection.describe(configured.table) else {
                    findings.append(MappingFinding(
                        part: .table(side), severity: .error,
                        message: "\(definition.subject(side)): table \(configured.table) does not exist (or is not on the search_path)"))
                    continue
                }
                tables[side] = table
                if let filter = configured.filter, let finding = await filterFinding(filter, side, definition, connection) {
                    findings.append(finding)
                }
            } catch {
                findings.append(MappingFinding(part: .side(side), severity: .error, message: "\(definition.subject(side)): \(error)"))
            }
        }
        return findings + MappingCatalogCheck(definition: definition, tables: tables).findings()
    }

    /// A finding when `filter` does not fit the side's table.
    private func filterFinding(
        _ filter: RecordFilter, _ side: SyncSide, _ definition: TableMappingDefinition, _ connection: any EndpointSession
    ) async -> MappingFinding? {
        do {
            try await connection.checkFilter(filter, on: definition.mapping.side(side).table)
            return nil
        } catch {
            return MappingFinding(part: .filter(side), severity: .error, message: "\(definition.subject(side)): \(Self.explain(error))")
        }
    }

    /// Why a filter was refused, in words: the server's message (a column that does not exist, a
    /// value that does not fit its column's type, a column that is not boolean where it stands alone).
    static func explain(_ error: any Error) -> String {
        guard let error = error as? PostgresError, error.code == .server else { return "the filter could not be checked: \(error)" }
        return "the filter does not fit the table: \(error.message)"
    }
}
