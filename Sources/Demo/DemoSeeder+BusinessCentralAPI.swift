import Postgres

/// The shapes the demo ERP comes in.
public enum DemoERPShape: String, CaseIterable, Sendable {
    /// The demo ERP's Business Central-shaped tables (`ERPSchema`), for a PostgreSQL endpoint.
    case postgres
    /// Business Central's API v2.0 entity sets (`BusinessCentralAPISchema`), for `couplet-emulator business-central`.
    case businessCentral = "business-central"
}

/// Seeding the demo with its ERP shaped like Business Central's API v2.0.
extension DemoSeeder {
    /// The schema of the ERP database the Postgres demo ERP is made in, converted, then dropped.
    static let businessCentralSourceSchema = "demo_erp_source"

    /// Seeds both databases with the ERP in `shape`; returns the rows per table.
    public func seed(erp: PostgresConnection, crm: PostgresConnection, reset: Bool, shape: DemoERPShape) async throws -> [DemoTableCount] {
        switch shape {
        case .postgres: try await seed(erp: erp, crm: crm, reset: reset)
        case .businessCentral: try await seedBusinessCentralAPI(erp: erp, crm: crm, reset: reset)
        }
    }

    /// As `seed(erp:crm:reset:)`, with the ERP shaped like Business Central's API v2.0
    /// (`BusinessCentralAPISchema`, for `couplet-emulator business-central`) and the same rows. The API's
    /// currency has no exchange rate, so the CRM also gets, as its administrator would add them, a
    /// transaction currency for each ERP currency it lacks, with the rate Business Central would give it
    /// (`currency_for_crm`'s); the reference couples currencies rather than creating them.
    public func seedBusinessCentralAPI(erp: PostgresConnection, crm: PostgresConnection, reset: Bool) async throws -> [DemoTableCount] {
        if !reset { try await Self.refuseTablesInUse([(DemoSchema.businessCentralAPI, erp), (DemoSchema.crm, crm)]) }
        var (erpData, crmData) = generate()
        let crmBaseCurrency = crmData.baseCurrencyCode
        let (erpCounts, currencies) = try await erp.withTransaction { connection in
            let currencies = try await Self.writeSource(erpData, crmBaseCurrency: crmBaseCurrency, on: connection)
            return (try await Self.writeBusinessCentralAPI(on: connection), currencies)
        }
        let known = Set(crmData.currencies.map(\.code))
        crmData.currencies += currencies.filter { !known.contains($0.code) }
        let crmCounts = try await crm.withTransaction { connection in
            try await DemoSchema.crm.recreate(on: connection)
            return try await Self.write(crmData, on: connection)
        }
        return Self.tableCounts(erp: erpCounts, crm: crmCounts)
    }

    /// Writes the Postgres demo ERP into its own schema; returns its currencies as the CRM would hold them.
    private static func writeSource(
        _ data: ERPData, crmBaseCurrency: String, on connection: PostgresConnection
    ) async throws -> [TransactionCurrencyRecord] {
        let schema = try PostgresIdentifier(businessCentralSourceSchema).quoted
        try await connection.runScript(
            """
            SET LOCAL client_min_messages = warning;
            DROP SCHEMA IF EXISTS \(schema) CASCADE;
            CREATE SCHEMA \(schema);
            SET LOCAL search_path = \(schema);
            """, name: "demo erp source schema")
        try await DemoSchema.erp.recreate(on: connection)
        _ = try await write(data, crmBaseCurrency: crmBaseCurrency, on: connection)
        let rows = try await connection.query(
            "SELECT code, description, coalesce(symbol, ''), exchange_rate::numeric(23,10)::text FROM currency_for_crm ORDER BY code",
            name: "demo currencies for the crm")
        return try rows.map { row in
            let (code, name, symbol, rate) = try row.decode((String, String, String, String).self)
            return TransactionCurrencyRecord(id: SplitMix64.uuid(named: "transactioncurrency \(code)"), code: code, name: name, symbol: symbol, rate: rate)
        }
    }

    /// Creates the API-shaped entity sets in `public`, fills them from the source schema and drops it;
    /// returns the rows per entity set.
    private static func writeBusinessCentralAPI(on connection: PostgresConnection) async throws -> [(table: String, rows: Int)] {
        let schema = try PostgresIdentifier(businessCentralSourceSchema).quoted
        try await connection.runScript("SET LOCAL search_path = public;", name: "demo erp public schema")
        try await DemoSchema.businessCentralAPI.recreate(on: connection)
        try await connection.runScript(
            BusinessCentralAPISchema.script(from: schema) + "\nDROP SCHEMA \(schema) CASCADE;", name: "demo business central entity sets")
        var counts: [(table: String, rows: Int)] = []
        for table in BusinessCentralAPISchema.tables {
            let rows = try await connection.query("SELECT count(*) FROM \(try PostgresIdentifier(table))", name: "demo entity set rows")
                .single().decode(Int.self, at: 0)
            counts.append((table, rows))
        }
        return counts
    }
}
