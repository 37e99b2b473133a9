import Demo
import Foundation
import Logging
import Postgres
import PostgresTestSupport
import Sync
import Testing

/// Two fresh databases for the demo ERP and CRM, seeded or not, with their endpoint variables.
struct DemoFixture {
    let erp: PostgresConnection
    let crm: PostgresConnection
    /// `COUPLET_ENDPOINT_ERP_URL` and `COUPLET_ENDPOINT_CRM_URL` for these databases.
    let environment: [String: String]

    /// The demo's size in tests: small enough to seed in a moment.
    static let size = DemoSize(customers: 60, items: 40)

    /// Creates both databases, seeds them from `seed` (unless nil) with the ERP in `shape`, runs `body`, and drops them.
    static func with<T>(
        seed: UInt64? = 1, today: DemoDay = DemoDay(Date()), erp shape: DemoERPShape = .postgres,
        isolation: isolated (any Actor)? = #isolation, _ body: (DemoFixture) async throws -> T
    ) async throws -> T {
        try await SampleEndpoints.with(erpSchema: nil, crmSchema: nil) { endpoints in
            if let seed {
                _ = try await DemoSeeder(seed: seed, size: size, today: today).seed(
                    erp: endpoints.erp, crm: endpoints.crm, reset: false, shape: shape)
            }
            return try await body(DemoFixture(erp: endpoints.erp, crm: endpoints.crm, environment: endpoints.environment))
        }
    }

    /// An md5 of every row of every demo table (modified-on and created-on left out), by `endpoint.table`.
    func checksums() async throws -> [String: String] {
        var sums: [String: String] = [:]
        for (schema, connection) in [(DemoSchema.erp, erp), (DemoSchema.crm, crm)] {
            for table in schema.tables {
                let identifier = try PostgresIdentifier(table)
                sums["\(schema.endpoint).\(table)"] = try await connection.query(
                    """
                    SELECT md5(coalesce(string_agg(r, E'\\n' ORDER BY r), ''))
                    FROM (SELECT (to_jsonb(t) - 'modified_at' - 'modifiedon' - 'createdon')::text AS r FROM \(identifier) t) s
                    """
                ).single().decode(String.self, at: 0)
            }
        }
        return sums
    }

    /// The single integer `sql` returns.
    func count(_ connection: PostgresConnection, _ sql: PostgresQuery) async throws -> Int {
        try await connection.query(sql).single().decode(Int.self, at: 0)
    }
}

/// The repository's `deploy/business-central-sales/NAME`.
func deployFile(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appending(path: "deploy/business-central-sales/\(name)").path
}

/// The demo with the reference mappings file (`yaml` edited as a test needs), applied to a fresh
/// coordination database, and customers synchronized in full with everything they depend on.
func withReferenceCustomers(
    editing edit: (String) -> String = { $0 }, isolation: isolated (any Actor)? = #isolation,
    _ body: (DemoFixture, PostgresConnection, SyncEngine) async throws -> Void
) async throws {
    try await withMigratedDatabase { _, coordination in
        try await DemoFixture.with { f in
            let yaml = edit(try String(contentsOfFile: deployFile("mappings.yaml"), encoding: .utf8))
            try await MappingStore.apply(try MappingFile.parse(yaml, file: "mappings.yaml"), prune: false, on: coordination)
            let engine = SyncEngine(coordination: coordination, endpoints: EndpointDirectory(environment: f.environment), logger: Logger(label: "test"))
            for mapping in ["SALESPEOPLE", "CURRENCY", "PAYMENT-TERMS", "SHIPMENT-METHOD", "SHIPPING-AGENT", "CUSTOMER"] {
                _ = try await engine.run(mapping: mapping, kind: .full)
            }
            try await body(f, coordination, engine)
        }
    }
}

/// The rows `query` returns on `connection`, by their first column (the key), the other columns as text.
func keyedRows(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> [String: [String?]] {
    var rows: [String: [String?]] = [:]
    for row in try await connection.query(query) {
        guard let key = row.values.first ?? nil else { continue }
        rows[key] = Array(row.values.dropFirst())
    }
    return rows
}

/// The rows of the mappings table in section `section` of docs/business-central.md, each as its
/// cells without code quotes; throws when the section is not there.
func documentedMappingRows(section name: String) throws -> [[String]] {
    let section = try #require(DocumentationPage.named("docs/business-central.md").section(name), "the section \(name) exists")
    return section.text.split(separator: "\n").filter { $0.hasPrefix("| ") && !$0.hasPrefix("| Mapping") && !$0.hasPrefix("| ---") }.map { line in
        line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "`", with: "") }
    }
}
