import Foundation
import PostgresTestSupport
import Testing

@Suite("The Business Central ↔ Sales deploy files")
struct DeployFileTests {
    /// The mappings in deploy/business-central-sales/mappings.yaml, in dependency order.
    static let mappings = [
        "SALESPEOPLE", "CURRENCY", "PAYMENT-TERMS", "SHIPMENT-METHOD", "SHIPPING-AGENT", "UNIT-OF-MEASURE", "CUSTOMER", "VENDOR",
        "CONTACT", "ITEM-PRODUCT", "RESOURCE-PRODUCT", "CUSTPRCGRP-PRICE", "SALESPRC-PRODPRICE", "OPPORTUNITY", "SALESORDER-ORDER",
        "SOLINE-ORDERDETAIL", "POSTEDSALESINV-INV", "POSTEDSALESLINE-INV",
    ]

    @Test("both mappings files (Business Central's defaults and the opinionated profile) pass couplet mappings validate against freshly seeded databases")
    func mappingsValidate() async throws {
        try await DemoFixture.with { f in
            for file in ["mappings.yaml", "mappings-opinionated.yaml"] {
                let outcome = try await CoupletProcess.run(["mappings", "validate", deployFile(file)], environment: f.environment)
                #expect(outcome.status == 0, "\(file): \(outcome.standardError)")
                #expect(outcome.standardOutput.contains("2 endpoint(s) and \(Self.mappings.count) mapping(s) valid"), "\(file): \(outcome.standardOutput)")
                #expect(!outcome.standardError.contains("error:"), "\(file): \(outcome.standardError)")
            }
        }
    }

    @Test("the mappings file fails validation against databases without the demo tables")
    func mappingsNeedTheDemoTables() async throws {
        try await DemoFixture.with(seed: nil) { f in
            let outcome = try await CoupletProcess.run(["mappings", "validate", deployFile("mappings.yaml")], environment: f.environment)
            #expect(outcome.status != 0)
        }
    }

    @Test("both schedules files validate, with a delta and a full sync for every mapping")
    func schedulesValidate() async throws {
        for file in ["schedules.yaml", "schedules-demo.yaml"] {
            let outcome = try await CoupletProcess.run(["schedules", "validate", deployFile(file)])
            #expect(outcome.status == 0, "\(file): \(outcome.standardError)")
            let text = try String(contentsOfFile: deployFile(file), encoding: .utf8)
            for mapping in Self.mappings {
                #expect(text.contains("name: \(mapping.lowercased())-delta\n"), "\(file): \(mapping) delta")
                #expect(text.contains("name: \(mapping.lowercased())-full\n"), "\(file): \(mapping) full")
            }
            #expect(text.contains("job: statistics.customers\n    args: {mapping: CUSTOMER}"), "\(file)")
            #expect(text.contains("job: availability.items\n    args: {mapping: ITEM-PRODUCT}"), "\(file)")
            #expect(text.contains("job: orders.status\n    args: {mapping: SALESORDER-ORDER}"), "\(file)")
            #expect(text.contains("job: statistics.customers\n    args: {mapping: CUSTOMER, full: true}"), "\(file): a full refresh")
            #expect(text.contains("job: availability.items\n    args: {mapping: ITEM-PRODUCT, full: true}"), "\(file): a full refresh")
        }
    }

    @Test("both schedules files apply; each sync has its mapping's key, CUSTOMER, VENDOR and CONTACT share one")
    func schedulesCarryConcurrencyKeys() async throws {
        for file in ["schedules.yaml", "schedules-demo.yaml"] {
            try await withMigratedDatabase { database, db in
                let environment = ["COUPLET_DATABASE_URL": database.configuration.connectionString]
                let applied = try await CoupletProcess.run(["schedules", "apply", deployFile(file)], environment: environment)
                #expect(applied.status == 0, "\(file): \(applied.standardError)")
                let schedules = try await db.query("SELECT job_kind, args->>'mapping', concurrency_key FROM couplet.schedules")
                    .map { try $0.decode((String, String, String?).self) }
                #expect(schedules.count == 2 * Self.mappings.count + 5, "\(file)")
                for (kind, mapping, key) in schedules {
                    #expect(key == Self.concurrencyKey(kind: kind, mapping: mapping), "\(file): \(kind) \(mapping)")
                }
            }
        }
    }

    /// The key of a scheduled job: its mapping's sync key for syncs (one shared by CUSTOMER, VENDOR
    /// and CONTACT, Business Central's job queue category), none for statistics and availability.
    static func concurrencyKey(kind: String, mapping: String) -> String? {
        guard kind.hasPrefix("sync.") else { return nil }
        return ["CUSTOMER", "VENDOR", "CONTACT"].contains(mapping) ? "sync:CUSTOMER-VENDOR-CONTACT" : "sync:\(mapping)"
    }
}
