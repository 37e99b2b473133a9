import Demo
import Foundation
import Logging
import Postgres
import PostgresTestSupport
import Sync
import Testing

/// The exchange rate the CRM gets for a currency, computed as Business Central's
/// `CRMSynchHelper.GetCRMLCYToFCYExchangeRate` computes it (`CRMExchangeRate`), on the values of
/// Business Central's own tests (`CRM Synch. Helper Test`, codeunit 139173), and carried by a sync.
@Suite("A CRM currency's exchange rate is Business Central's, against the CRM's base currency")
struct BusinessCentralCurrencyTests {
    /// One of Business Central's test scenarios: the CRM's base currency, a currency, and its rate.
    struct Scenario: CustomTestStringConvertible, Sendable {
        var name: String
        var base: String
        var currency: String
        var rate: String
        var testDescription: String { "\(name): \(currency) against \(base) is \(rate)" }
    }

    /// The local currency is LCY; FCY1 and FCY2 have rates 12:1 and 3:1 from today, as
    /// `CreateCurrencyWithExchangeRate(12)` and `(3)` make them (exchange rate amount 12 or 3 to 1 LCY).
    static let scenarios = [
        Scenario(name: "TestGetCRMLCYToFCYExchangeRate: the base currency itself", base: "LCY", currency: "LCY", rate: "1"),
        Scenario(name: "TestGetLCYtoLCYExchangeRate: a currency against itself", base: "FCY1", currency: "FCY1", rate: "1"),
        Scenario(name: "GetCurrentCurrencyFactor: base currency = local currency", base: "LCY", currency: "FCY1", rate: "12"),
        // Business Central answers 4 and 12 here: one unit of the currency in the base currency, the
        // reciprocal of a Dataverse rate (docs/business-central.md, Currencies and exchange rates).
        Scenario(name: "TestGetFCYtoFCYExchangeRate: another base currency", base: "FCY1", currency: "FCY2", rate: "0.25"),
        Scenario(name: "TestGetFCYtoLCYExchangeRate: the local currency against another base", base: "FCY1", currency: "LCY",
                 rate: "0.0833333333"),
    ]

    @Test("Business Central's scenarios", arguments: scenarios)
    func businessCentralScenarios(_ scenario: Scenario) async throws {
        try await withERP(base: scenario.base) { erp in
            try await erp.query(
                """
                INSERT INTO currency_exchange_rate (currency_code, starting_date, exchange_rate_amount, relational_exch_rate_amount)
                VALUES ('FCY1', current_date, 12, 1), ('FCY2', current_date, 3, 1)
                """)
            #expect(try await rate(of: scenario.currency, on: erp) == scenario.rate)
        }
    }

    @Test("TestGetCRMLCYToFCYExchangeRateOnNullBaseCurrency: without a base currency, or without a rate, there is none")
    func noBaseCurrencyNoRate() async throws {
        try await withERP(base: nil) { erp in
            try await erp.query("INSERT INTO currency_exchange_rate VALUES ('FCY1', current_date, 12, 1)")
            #expect(try await rate(of: "FCY1", on: erp) == nil)
        }
        try await withERP(base: "LCY") { erp in
            let rate = try await rate(of: "FCY2", on: erp)
            #expect(rate == nil, "FCY2 has no rate row")
        }
    }

    @Test("against the local currency the latest rate counts, whatever its starting date; against another base, today's")
    func whichRateCounts() async throws {
        try await withERP(base: "LCY") { erp in
            try await erp.query(
                """
                INSERT INTO currency_exchange_rate VALUES ('FCY1', current_date - 10, 12, 1), ('FCY1', current_date + 10, 10, 1),
                    ('FCY2', current_date - 10, 3, 1)
                """)
            #expect(try await rate(of: "FCY1", on: erp) == "10", "GetCurrentCurrencyFactor takes the last row")
            try await erp.query("UPDATE crm_connection_setup SET base_currency_code = 'FCY2'")
            #expect(try await rate(of: "FCY1", on: erp) == "4", "12 FCY1 per LCY over 3 FCY2 per LCY, in effect today")
        }
    }

    @Test("exact quotients rounded once to 10 decimals, halves away from zero")
    func rounding() async throws {
        try await withERP(base: "LCY") { erp in
            try await erp.query(
                """
                INSERT INTO currency_exchange_rate VALUES ('FCY1', current_date, 100, 92.38), ('FCY2', current_date, 0.000001, 20000)
                """)
            #expect(try await rate(of: "FCY1", on: erp) == "1.0824853864")
            #expect(try await rate(of: "FCY2", on: erp) == "0.0000000001", "5E-11 rounds up")
        }
    }

    @Test("end to end: CURRENCY carries the computed rates, a new rate with the next delta; a currency without one fails alone")
    func syncCarriesRates() async throws {
        try await withMigratedDatabase { _, coordination in
            try await DemoFixture.with { f in
                let file = try MappingFile.parse(String(contentsOfFile: deployFile("mappings.yaml"), encoding: .utf8), file: "mappings.yaml")
                try await MappingStore.apply(file, prune: false, on: coordination)
                let engine = SyncEngine(coordination: coordination, endpoints: EndpointDirectory(environment: f.environment),
                                        logger: Logger(label: "test"))
                let full = try await engine.run(mapping: "CURRENCY", kind: .full)
                #expect(full[.toIntegration]?.failed == 0 && full[.toIntegration]?.inserted == 5, "USD coupled by its code, five created: \(full)")
                #expect(try await crmRates(f) == erpRates(f))
                #expect(try await crmRates(f)["USD"] == "1.0824853864", "100 USD = 92.38 EUR")

                try await f.erp.query("INSERT INTO currency_exchange_rate VALUES ('USD', current_date, 100, 90)")
                let delta = try await engine.run(mapping: "CURRENCY", kind: .delta)
                #expect(delta[.toIntegration]?.modified == 1 && delta[.toIntegration]?.failed == 0, "\(delta)")
                #expect(try await crmRates(f)["USD"] == "1.1111111111")

                try await f.erp.query("INSERT INTO currency (code, description) VALUES ('JPY', 'Yen')")
                let again = try await engine.run(mapping: "CURRENCY", kind: .full)
                #expect(again[.toIntegration]?.failed == 1 && again[.toIntegration]?.inserted == 0, "\(again)")
                #expect(try await crmRates(f)["JPY"] == nil, "no rate, no CRM currency")
            }
        }
    }

    /// A fresh demo ERP with the local currency LCY, currencies FCY1 and FCY2, and `base` as the CRM's base currency.
    private func withERP(base: String?, _ body: (PostgresConnection) async throws -> Void) async throws {
        try await DemoFixture.with(seed: nil) { f in
            try await DemoSchema.erp.recreate(on: f.erp)
            try await f.erp.query("INSERT INTO general_ledger_setup (lcy_code) VALUES ('LCY')")
            if let base { try await f.erp.query("INSERT INTO crm_connection_setup (base_currency_code) VALUES (\(base))") }
            try await f.erp.query("INSERT INTO currency (code, description) VALUES ('LCY', 'Local'), ('FCY1', 'One'), ('FCY2', 'Two')")
            try await body(f.erp)
        }
    }

    private func rate(of currency: String, on erp: PostgresConnection) async throws -> String? {
        try await erp.query("SELECT trim_scale(crm_exchange_rate(\(currency)))::text").single().decode(String?.self, at: 0)
    }

    /// Each ERP currency's rate in the view, by code.
    private func erpRates(_ f: DemoFixture) async throws -> [String: String] {
        try await rates(f.erp, "SELECT code, exchange_rate::numeric(23,10)::text FROM currency_for_crm")
    }

    /// Each CRM currency's rate, by ISO code (the CRM's base currency, EUR, left out).
    private func crmRates(_ f: DemoFixture) async throws -> [String: String] {
        try await rates(f.crm, "SELECT isocurrencycode, exchangerate::text FROM transactioncurrency WHERE isocurrencycode <> 'EUR'")
    }

    private func rates(_ connection: PostgresConnection, _ sql: PostgresQuery) async throws -> [String: String] {
        Dictionary(uniqueKeysWithValues: try await connection.query(sql).map { try $0.decode((String, String).self) })
    }
}
