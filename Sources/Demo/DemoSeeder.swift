import Foundation
import Postgres

/// How many rows one demo table holds.
public struct DemoTableCount: Sendable, Equatable {
    /// `erp` or `crm`.
    public let endpoint: String
    /// The table.
    public let table: String
    /// Its rows.
    public let rows: Int
}

/// Refusal to seed over demo tables that hold data (without a reset).
public struct DemoTablesInUse: Error, CustomStringConvertible {
    /// The endpoint whose tables hold data.
    public let endpoint: String
    /// The tables that hold rows.
    public let tables: [String]

    public var description: String {
        "the \(endpoint) database already holds demo data (\(tables.joined(separator: ", "))); pass --reset to drop and recreate its demo tables"
    }
}

/// Creates the demo ERP and CRM tables and fills them with deterministic data: the same seed, size
/// and day always give the same rows. Each database is written in one transaction with one COPY
/// per table.
public struct DemoSeeder: Sendable {
    /// What drives every random choice.
    public let seed: UInt64
    /// How much to make.
    public let size: DemoSize
    /// The day the data is made for: posting and due dates are relative to it.
    public let today: DemoDay

    /// A seeder for `size` rows from `seed`, dated relative to `today`.
    public init(seed: UInt64, size: DemoSize, today: DemoDay) {
        self.seed = seed
        self.size = size
        self.today = today
    }

    /// Checks both databases first (tables with rows refuse the seed unless `reset`), then
    /// recreates and fills the ERP's and the CRM's tables; returns the rows per table.
    public func seed(erp: PostgresConnection, crm: PostgresConnection, reset: Bool) async throws -> [DemoTableCount] {
        if !reset { try await Self.refuseTablesInUse([(DemoSchema.erp, erp), (DemoSchema.crm, crm)]) }
        let (erpData, crmData) = generate()
        let erpCounts = try await erp.withTransaction { connection in
            try await DemoSchema.erp.recreate(on: connection)
            return try await Self.write(erpData, crmBaseCurrency: crmData.baseCurrencyCode, on: connection)
        }
        let crmCounts = try await crm.withTransaction { connection in
            try await DemoSchema.crm.recreate(on: connection)
            return try await Self.write(crmData, on: connection)
        }
        return Self.tableCounts(erp: erpCounts, crm: crmCounts)
    }

    /// Throws `DemoTablesInUse` for the first of `schemas` whose tables hold rows.
    static func refuseTablesInUse(_ schemas: [(DemoSchema, PostgresConnection)]) async throws {
        for (schema, connection) in schemas {
            let inUse = try await schema.existingTables(on: connection).filter(\.hasRows).map(\.table)
            if !inUse.isEmpty { throw DemoTablesInUse(endpoint: schema.endpoint, tables: inUse) }
        }
    }

    /// The demo's ERP and CRM data, made from the seed.
    func generate() -> (erp: ERPData, crm: CRMData) {
        var erpGenerator = ERPGenerator(random: SplitMix64(seed: seed), size: size, today: today)
        let erpData = erpGenerator.generate()
        var crmGenerator = CRMGenerator(random: SplitMix64(seed: seed ^ 0x5EED_C0DE_CAFE_F00D), erp: erpData)
        return (erpData, crmGenerator.generate())
    }

    /// Both databases' row counts per table, as `seed` returns them.
    static func tableCounts(erp: [(table: String, rows: Int)], crm: [(table: String, rows: Int)]) -> [DemoTableCount] {
        erp.map { DemoTableCount(endpoint: "erp", table: $0.table, rows: $0.rows) }
            + crm.map { DemoTableCount(endpoint: "crm", table: $0.table, rows: $0.rows) }
    }

    /// Copies every ERP table, dependencies first; the CRM connection setup keeps the CRM's base
    /// currency, as Business Central's does once the connection is set up.
    static func write(
        _ data: ERPData, crmBaseCurrency: String, on connection: PostgresConnection
    ) async throws -> [(table: String, rows: Int)] {
        var counts = Counts(connection: connection)
        try await counts.copy(data.salespeople)
        try await counts.copy(GeneralLedgerSetupTable.records)
        try await counts.copy([CRMConnectionSetupRecord(baseCurrencyCode: crmBaseCurrency)])
        try await counts.copy(CurrencyTable.records)
        try await counts.copy(CurrencyExchangeRateTable.records)
        try await counts.copy(PaymentTermsTable.records)
        try await counts.copy(ShipmentMethodTable.records)
        try await counts.copy(ShippingAgentTable.records)
        try await counts.copy(UnitOfMeasureTable.records)
        try await counts.copy(CustomerPriceGroupTable.records)
        try await counts.copy(data.customers)
        try await counts.copy(data.vendors)
        try await counts.copy(data.contacts)
        try await counts.copy(data.items)
        try await counts.copy(data.resources)
        try await counts.copy(data.salesPrices)
        try await counts.copy(data.opportunities)
        try await counts.copy(data.salesHeaders)
        try await counts.copy(data.salesLines)
        try await counts.copy(data.postedInvoices)
        try await counts.copy(data.postedInvoiceLines)
        try await counts.copy(data.itemLedger)
        try await counts.copy(data.custLedger)
        return counts.rows
    }

    /// Copies every CRM table, dependencies first.
    static func write(_ data: CRMData, on connection: PostgresConnection) async throws -> [(table: String, rows: Int)] {
        var counts = Counts(connection: connection)
        try await counts.copy(data.users)
        try await counts.copy(data.teams)
        try await counts.copy(data.currencies)
        try await counts.copy(data.organization)
        try await counts.copy(data.unitGroups)
        try await counts.copy(data.units)
        try await counts.copy(data.accounts)
        try await counts.copy(data.contacts)
        return counts.rows
    }

    /// Copies tables and keeps their row counts.
    private struct Counts {
        let connection: PostgresConnection
        var rows: [(table: String, rows: Int)] = []

        /// Copies `records` and notes their table's count.
        mutating func copy<Record: DemoRecord>(_ records: [Record]) async throws {
            rows.append((Record.table, try await connection.copy(records)))
        }
    }
}
