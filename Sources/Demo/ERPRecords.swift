import Postgres

/// An ERP salesperson row.
struct SalespersonRecord: DemoRecord {
    static let table = "salesperson"
    static let columns = ["code", "name", "email", "phone", "job_title"]
    let person: DemoStaff.Salesperson
    let phone: String
    var values: [any PostgresEncodable] { [person.code, person.name, person.email, phone, person.jobTitle] }
}

/// A postal address with the phone prefix and web domain of its country.
struct PostalAddress: Sendable {
    var street: String
    var city: String
    var postCode: String
    var county: String
    var country: String
    var phonePrefix: String
    var domain: String
}

/// An ERP customer row.
struct CustomerRecord: DemoRecord {
    static let table = "customer"
    static let columns = [
        "no", "name", "address", "address_2", "city", "post_code", "county", "country_region_code", "phone_no", "fax_no",
        "e_mail", "home_page", "contact", "primary_contact_no", "credit_limit", "salesperson_code", "currency_code",
        "payment_terms_code", "shipment_method_code", "shipping_agent_code", "customer_price_group", "bill_to_customer_no",
        "vat_registration_no", "blocked",
    ]
    var no: String
    var name: String
    var address: PostalAddress
    var address2: String?
    var phone: String
    var fax: String?
    var email: String
    var homePage: String
    /// The primary contact: a person working there, by name and contact number.
    var contact: String?
    var primaryContactNo: String?
    var creditLimit: Money
    var salespersonCode: String
    var currencyCode: String?
    var paymentTermsCode: String
    var dueDays: Int
    var shipmentMethodCode: String?
    var shippingAgentCode: String?
    var priceGroup: String?
    var billToCustomerNo: String?
    var vatNo: String
    var blocked: String
    var values: [any PostgresEncodable] {
        [no, name, address.street, address2, address.city, address.postCode, address.county, address.country, phone, fax,
         email, homePage, contact, primaryContactNo, creditLimit, salespersonCode, currencyCode, paymentTermsCode,
         shipmentMethodCode, shippingAgentCode, priceGroup, billToCustomerNo, vatNo, blocked]
    }
}

/// An ERP vendor row.
struct VendorRecord: DemoRecord {
    static let table = "vendor"
    static let columns = [
        "no", "name", "address", "city", "post_code", "country_region_code", "phone_no", "e_mail", "home_page",
        "currency_code", "payment_terms_code", "purchaser_code", "blocked",
    ]
    var no: String
    var name: String
    var address: PostalAddress
    var phone: String
    var email: String
    var homePage: String
    var currencyCode: String?
    var paymentTermsCode: String
    var purchaserCode: String
    var blocked: String
    var values: [any PostgresEncodable] {
        [no, name, address.street, address.city, address.postCode, address.country, phone, email, homePage, currencyCode,
         paymentTermsCode, purchaserCode, blocked]
    }
}

/// An ERP contact row: a company (one per customer) or a person working for one.
struct ContactRecord: DemoRecord {
    static let table = "contact"
    static let columns = [
        "no", "type", "name", "first_name", "middle_name", "surname", "company_no", "company_name", "customer_no",
        "job_title", "address", "address_2", "city", "post_code", "county", "country_region_code", "phone_no",
        "mobile_phone_no", "fax_no", "pager", "e_mail", "home_page", "currency_code", "salesperson_code",
    ]
    var no: String
    var isPerson: Bool
    var name: String
    var firstName: String?
    var middleName: String?
    var surname: String?
    var companyNo: String
    var companyName: String
    var customerNo: String
    var jobTitle: String?
    var address: PostalAddress
    var address2: String?
    var phone: String
    var mobile: String?
    var fax: String?
    var pager: String?
    var email: String
    var homePage: String?
    var currencyCode: String?
    var salespersonCode: String
    var values: [any PostgresEncodable] {
        [no, isPerson ? "person" : "company", name, firstName, middleName, surname, companyNo, companyName, customerNo,
         jobTitle, address.street, address2, address.city, address.postCode, address.county, address.country, phone, mobile,
         fax, pager, email, homePage, currencyCode, salespersonCode]
    }
}

/// An ERP item row.
struct ItemRecord: DemoRecord {
    static let table = "item"
    static let columns = [
        "no", "description", "base_unit_of_measure", "unit_price", "unit_cost", "type", "item_category_code", "gtin",
        "unit_volume", "gross_weight", "vendor_no", "vendor_item_no", "blocked",
    ]
    var no: String
    var description: String
    var unit: String
    var unitPrice: Money
    var unitCost: Money
    var isService: Bool
    var category: String
    var gtin: String
    /// Volume in m³ and gross weight in kg (zero for a service).
    var unitVolume: Measure
    var grossWeight: Measure
    var vendorNo: String
    /// The vendor's own number for the item (none for a service).
    var vendorItemNo: String?
    var blocked: Bool
    /// Whether the item is an inventory item that may be sold (not blocked).
    var isSellableInventory: Bool { !isService && !blocked }
    var values: [any PostgresEncodable] {
        [no, description, unit, unitPrice, unitCost, isService ? "service" : "inventory", category, gtin, unitVolume,
         grossWeight, vendorNo, vendorItemNo, blocked]
    }
}

/// An ERP resource row (people and machines sold by the hour or day).
struct ResourceRecord: DemoRecord {
    static let table = "resource"
    static let columns = ["no", "name", "type", "base_unit_of_measure", "unit_price", "unit_cost"]
    var no: String
    var name: String
    var isMachine: Bool
    var unit: String
    var unitPrice: Money
    var unitCost: Money
    var values: [any PostgresEncodable] { [no, name, isMachine ? "machine" : "person", unit, unitPrice, unitCost] }
}

/// An ERP sales price of an item for a customer price group.
struct SalesPriceRecord: DemoRecord {
    static let table = "sales_price"
    static let columns = [
        "price_no", "item_no", "sales_type", "sales_code", "starting_date", "unit_of_measure_code", "minimum_quantity",
        "unit_price",
    ]
    var priceNo: String
    var itemNo: String
    var priceGroup: String
    var startingDate: DemoDay
    var unit: String
    var minimumQuantity: Int
    var unitPrice: Money
    var values: [any PostgresEncodable] {
        [priceNo, itemNo, "customer_price_group", priceGroup, startingDate, unit, minimumQuantity, unitPrice]
    }
}

/// An ERP opportunity row.
struct OpportunityRecord: DemoRecord {
    static let table = "opportunity"
    static let columns = [
        "no", "description", "contact_no", "contact_company_no", "customer_no", "salesperson_code", "status",
        "estimated_value", "probability_percent", "creation_date", "estimated_closing_date", "closed",
    ]
    var no: String
    var description: String
    var contactNo: String
    var companyNo: String
    var customerNo: String
    var salespersonCode: String
    var status: String
    var estimatedValue: Money
    var probability: Int
    var creationDate: DemoDay
    var closingDate: DemoDay
    var values: [any PostgresEncodable] {
        [no, description, contactNo, companyNo, customerNo, salespersonCode, status, estimatedValue, probability,
         creationDate, closingDate, status == "won" || status == "lost"]
    }
}

/// An ERP sales document header (quote, order or unposted invoice).
struct SalesHeaderRecord: DemoRecord {
    static let table = "sales_header"
    static let columns = [
        "document_type", "no", "sell_to_customer_no", "bill_to_customer_no", "sell_to_customer_name", "status",
        "order_date", "document_date", "requested_delivery_date", "currency_code", "salesperson_code",
        "payment_terms_code", "shipment_method_code", "shipping_agent_code", "external_document_no", "opportunity_no",
        "ship_to_address", "ship_to_city", "ship_to_post_code", "ship_to_country_region_code", "amount",
    ]
    var documentType: String
    var no: String
    var customer: CustomerRecord
    var released: Bool
    var orderDate: DemoDay
    var requestedDelivery: DemoDay
    var externalDocumentNo: String?
    var opportunityNo: String?
    var amount: Money
    var values: [any PostgresEncodable] {
        [documentType, no, customer.no, customer.billToCustomerNo ?? customer.no, customer.name, released ? "released" : "open",
         orderDate, orderDate, requestedDelivery, customer.currencyCode, customer.salespersonCode, customer.paymentTermsCode,
         customer.shipmentMethodCode, customer.shippingAgentCode, externalDocumentNo, opportunityNo, customer.address.street,
         customer.address.city, customer.address.postCode, customer.address.country, amount]
    }
}

/// What a document line sells: an item or a resource, with its number, description, unit and price.
struct LineProduct: Sendable {
    var isResource: Bool
    var no: String
    var description: String
    var unit: String
    var unitPrice: Money
}

/// An ERP sales document line; quantities shipped and outstanding make the statistics and availability.
/// Its system_id (Business Central's SystemId) follows from its key, so it repeats with the seed.
struct SalesLineRecord: DemoRecord {
    static let table = "sales_line"
    static let columns = [
        "document_type", "document_no", "line_no", "type", "no", "description", "unit_of_measure_code", "quantity",
        "outstanding_quantity", "qty_shipped_not_invoiced", "unit_price", "line_amount", "outstanding_amount",
        "shipped_not_invoiced_amount", "system_id",
    ]
    var documentType: String
    var documentNo: String
    var lineNo: Int
    var product: LineProduct
    var quantity: Int
    var shipped: Int
    var lineAmount: Money { product.unitPrice.times(quantity) }
    var values: [any PostgresEncodable] {
        [documentType, documentNo, lineNo, product.isResource ? "resource" : "item", product.no, product.description,
         product.unit, quantity, quantity - shipped, shipped, product.unitPrice, lineAmount,
         product.unitPrice.times(quantity - shipped), product.unitPrice.times(shipped),
         SplitMix64.uuid(named: "\(Self.table)/\(documentType)/\(documentNo)/\(lineNo)")]
    }
}

/// A posted sales invoice header.
struct PostedInvoiceRecord: DemoRecord {
    static let table = "sales_invoice_header"
    static let columns = [
        "no", "sell_to_customer_no", "bill_to_customer_no", "sell_to_customer_name", "order_no", "posting_date",
        "document_date", "due_date", "currency_code", "salesperson_code", "payment_terms_code", "amount",
        "amount_including_vat",
    ]
    var no: String
    var customer: CustomerRecord
    var orderNo: String?
    var postingDate: DemoDay
    var dueDate: DemoDay
    var amount: Money
    var values: [any PostgresEncodable] {
        [no, customer.no, customer.billToCustomerNo ?? customer.no, customer.name, orderNo, postingDate, postingDate,
         dueDate, customer.currencyCode, customer.salespersonCode, customer.paymentTermsCode, amount, amount.percent(125)]
    }
}

/// A posted sales invoice line, with a system_id that follows from its key.
struct PostedInvoiceLineRecord: DemoRecord {
    static let table = "sales_invoice_line"
    static let columns = [
        "document_no", "line_no", "type", "no", "description", "unit_of_measure_code", "quantity", "unit_price", "line_amount",
        "system_id",
    ]
    var documentNo: String
    var lineNo: Int
    var product: LineProduct
    var quantity: Int
    var values: [any PostgresEncodable] {
        [documentNo, lineNo, product.isResource ? "resource" : "item", product.no, product.description, product.unit,
         quantity, product.unitPrice, product.unitPrice.times(quantity), SplitMix64.uuid(named: "\(Self.table)/\(documentNo)/\(lineNo)")]
    }
}

/// An item ledger entry: a purchase, sale or adjustment of an item (signed quantity).
struct ItemLedgerRecord: DemoRecord {
    static let table = "item_ledger_entry"
    static let columns = ["item_no", "posting_date", "entry_type", "document_no", "quantity", "location_code"]
    var itemNo: String
    var postingDate: DemoDay
    var entryType: String
    var documentNo: String
    var quantity: Int
    var values: [any PostgresEncodable] { [itemNo, postingDate, entryType, documentNo, quantity, "MAIN"] }
}

/// A customer ledger entry: an invoice (+) or payment (−) with what remains open of it.
struct CustLedgerRecord: DemoRecord {
    static let table = "cust_ledger_entry"
    static let columns = [
        "customer_no", "posting_date", "due_date", "document_type", "document_no", "description", "amount",
        "remaining_amount", "open",
    ]
    var customerNo: String
    var postingDate: DemoDay
    var dueDate: DemoDay
    var documentType: String
    var documentNo: String
    var description: String
    var amount: Money
    var remaining: Money
    var values: [any PostgresEncodable] {
        [customerNo, postingDate, dueDate, documentType, documentNo, description, amount, remaining, remaining != .zero]
    }
}
