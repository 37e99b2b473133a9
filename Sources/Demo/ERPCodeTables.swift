import Postgres

/// The ERP's currencies besides the local one (EUR, which Business Central leaves blank).
enum CurrencyTable: CodeTable {
    static let table = "currency"
    static let columns = ["code", "description", "symbol"]
    static let rows: [[any PostgresEncodable]] = [
        ["USD", "US dollar", "$"], ["GBP", "Pound sterling", "£"], ["SEK", "Swedish krona", "kr"],
        ["NOK", "Norwegian krone", "kr"], ["DKK", "Danish krone", "kr."], ["CHF", "Swiss franc", "CHF"],
    ]
    /// The codes, for customers that trade in a foreign currency.
    static let codes = rows.map { $0[0] as! String }
}

/// Business Central's currency exchange rates: from the starting date, `exchange_rate_amount` of the
/// currency are worth `relational_exch_rate_amount` euros. The US dollar has an older rate too.
enum CurrencyExchangeRateTable: CodeTable {
    static let table = "currency_exchange_rate"
    static let columns = ["currency_code", "starting_date", "exchange_rate_amount", "relational_exch_rate_amount"]
    static let rows: [[any PostgresEncodable]] = [
        ["USD", "2025-01-01", "100", "96.15"], ["USD", "2026-01-01", "100", "92.38"], ["GBP", "2026-01-01", "100", "117.22"],
        ["SEK", "2026-01-01", "100", "8.6866"], ["NOK", "2026-01-01", "100", "8.5448"], ["DKK", "2026-01-01", "100", "13.4064"],
        ["CHF", "2026-01-01", "100", "106.12"],
    ]
}

/// Business Central's general ledger setup: the local currency, euros.
enum GeneralLedgerSetupTable: CodeTable {
    static let table = "general_ledger_setup"
    static let columns = ["lcy_code"]
    static let rows: [[any PostgresEncodable]] = [["EUR"]]
}

/// Business Central's CRM connection setup: the ISO code of the CRM's base currency.
struct CRMConnectionSetupRecord: DemoRecord {
    static let table = "crm_connection_setup"
    static let columns = ["base_currency_code"]
    var baseCurrencyCode: String
    var values: [any PostgresEncodable] { [baseCurrencyCode] }
}

/// Payment terms: code, description, due date formula, cash discount.
enum PaymentTermsTable: CodeTable {
    static let table = "payment_terms"
    static let columns = ["code", "description", "due_date_calculation", "discount_percent"]
    static let rows: [[any PostgresEncodable]] = [
        ["14 DAYS", "Net 14 days", "14D", "0"], ["30 DAYS", "Net 30 days", "30D", "0"],
        ["60 DAYS", "Net 60 days", "60D", "0"], ["1M(8D)", "1 month, 2% discount within 8 days", "1M", "2"],
        ["CM", "Current month", "CM", "0"], ["COD", "Cash on delivery", "0D", "0"],
    ]
    /// Each code with its days until due.
    static let dueDays: [(code: String, days: Int)] = [
        ("14 DAYS", 14), ("30 DAYS", 30), ("60 DAYS", 60), ("1M(8D)", 30), ("CM", 20), ("COD", 0),
    ]
}

/// Shipment methods (Incoterms and pick-up).
enum ShipmentMethodTable: CodeTable {
    static let table = "shipment_method"
    static let columns = ["code", "description"]
    static let rows: [[any PostgresEncodable]] = [
        ["CFR", "Cost and freight"], ["CIF", "Cost, insurance and freight"], ["DAP", "Delivered at place"],
        ["EXW", "Ex works"], ["FOB", "Free on board"], ["PICKUP", "Pick-up at warehouse"],
    ]
    static let codes = rows.map { $0[0] as! String }
}

/// Shipping agents.
enum ShippingAgentTable: CodeTable {
    static let table = "shipping_agent"
    static let columns = ["code", "name", "internet_address"]
    static let rows: [[any PostgresEncodable]] = [
        ["DHL", "DHL Express", "www.dhl.com"], ["FEDEX", "FedEx", "www.fedex.com"], ["UPS", "UPS", "www.ups.com"],
        ["POSTNORD", "PostNord", "www.postnord.com"], ["OWN LOG.", "Own logistics", nil as String?],
    ]
    static let codes = rows.map { $0[0] as! String }
}

/// Units of measure.
enum UnitOfMeasureTable: CodeTable {
    static let table = "unit_of_measure"
    static let columns = ["code", "description", "international_standard_code"]
    static let rows: [[any PostgresEncodable]] = [
        ["PCS", "Piece", "EA"], ["BOX", "Box", "BX"], ["SET", "Set", "SET"], ["PACK", "Pack", "PK"],
        ["KG", "Kilogram", "KGM"], ["M", "Metre", "MTR"], ["HOUR", "Hour", "HUR"], ["DAY", "Day", "DAY"],
    ]
    /// The units an inventory item is counted in.
    static let itemUnits = ["PCS", "PCS", "PCS", "BOX", "SET", "PACK", "KG", "M"]
}

/// Customer price groups.
enum CustomerPriceGroupTable: CodeTable {
    static let table = "customer_price_group"
    static let columns = ["code", "description"]
    static let rows: [[any PostgresEncodable]] = [
        ["RETAIL", "Retail customers"], ["WHOLESALE", "Wholesale and resellers"], ["EXPORT", "Export customers"],
        ["KEY ACCOUNT", "Key accounts"],
    ]
    /// Each group's discount in percent off the item's unit price.
    static let discounts: [(code: String, percent: Int)] = [("RETAIL", 0), ("WHOLESALE", 12), ("EXPORT", 8), ("KEY ACCOUNT", 15)]
}
