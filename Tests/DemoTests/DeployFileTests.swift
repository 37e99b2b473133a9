import Foundation
import PostgresTestSupport
import Testing

@Suite("The Business Central ↔ Sales deploy files")
struct DeployFileTests {
    /// The mappings in deploy/business-central-sales/mappings.yaml, in dependency order.
    static let mappings = [
        "SALESPEOPLE", "CURRENCY", "PAYMENT-TERMS", "SHIPMENT-METHOD", "SHIPPING-AGENT", "UNIT-OF-MEASURE", "CUSTOMER", "VENDOR",
        "CONTACT", "ITEM-PRODUCT", "RESOURCE-PRODUCT", "CUSTPRCGRP-PRICE", "SALESPRC-PRODPRICE", "OPPORTUNITY", "SALESORDER-ORDER",
        "POSTEDSALESINV-INV",
    ]

    @Test("the mappings file passes couplet mappings validate against freshly seeded databases")
    func mappingsValidate() async throws {
        try await DemoFixture.with { f in
            let outcome = try await CoupletProcess.run(["mappings", "validate", deployFile("mappings.yaml")], environment: f.environment)
            #expect(outcome.status == 0, "\(outcome.standardError)")
            #expect(outcome.standardOutput.contains("2 endpoint(s) and 16 mapping(s) valid"), "\(outcome.standardOutput)")
            #expect(!outcome.standardError.contains("error:"), "\(outcome.standardError)")
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
        }
    }
}
