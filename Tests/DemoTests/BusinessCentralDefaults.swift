import Sync

/// Business Central's default integration setup with Dynamics 365 Sales, as data: the table
/// mappings, field mappings and job queue entries that "Use Default Synchronization Setup"
/// creates, translated to the demo ERP's and CRM's tables and columns (`Sources/Demo`).
///
/// Read from the base application in the public repository StefanMaron/MSDyn365BC.Code.History,
/// folder `BaseApp/Source/Base Application/Integration/`:
/// - `Dataverse/CDSSetupDefaults.Codeunit.al` at fe52c90fa518195bb959b90ca4da343fc6d91dea
///   (SALESPEOPLE, CUSTOMER, VENDOR, CONTACT, CURRENCY and the option mappings);
/// - `D365Sales/CRMSetupDefaults.Codeunit.al` at 13379bf79ca9ab3e2ca7ea1e28b263c60b9b6428
///   (units of measure, products, prices, opportunities, orders, invoices, statistics);
/// - table 5335 "Integration Table Mapping": "Synch. Only Coupled Records" starts true
///   (InitValue), CreateRecord leaves both conflict resolutions blank (Couplet's `fail`).
///
/// Each row names the procedure it comes from. The setup is the person ownership model, without
/// unit groups (UNIT OF MEASURE, not UNIT GROUP) and without extended prices (CUSTPRCGRP-PRICE and
/// SALESPRC-PRODPRICE, not PLHEADER-PRICE and PLLINE-PRODPRICE), with sales order integration
/// (one-way). A Dataverse company's `CompanyId` filter is left out: the demo CRM has no companies.
/// SOLINE-ORDERDETAIL is the one mapping of the bidirectional sales order integration read
/// (ResetBidirectionalSalesOrderLineMapping): the one-way integration has no line mapping.
enum BusinessCentralDefaults {
    /// A recurring job queue entry as Business Central creates it.
    struct JobQueueEntry: Equatable {
        /// "No. of Minutes between Runs".
        var minutes: Int
        /// "Maximum No. of Attempts to Run".
        var maxAttempts: Int
        /// "Rerun Delay (sec.)".
        var rerunDelaySeconds: Int
        /// "Inactivity Timeout Period", in minutes.
        var inactivityTimeoutMinutes: Int
        /// "Job Queue Category Code", if any.
        var category: String?

        /// RecreateJobQueueEntryFromIntTableMapping (CDSSetupDefaults): every 30 minutes, 10 attempts 30 s apart.
        static func synchronization(timeout: Int, category: String? = nil) -> JobQueueEntry {
            JobQueueEntry(minutes: 30, maxAttempts: 10, rerunDelaySeconds: 30, inactivityTimeoutMinutes: timeout, category: category)
        }
    }

    /// One integration table mapping.
    struct TableMapping {
        /// Business Central's name.
        var name: String
        /// The mapping's name in deploy/business-central-sales/mappings.yaml.
        var couplet: String
        /// Business Central's tables, for people.
        var tables: String
        /// The demo's tables they stand for: local (ERP) and integration (CRM).
        var local: String, integration: String
        /// "Direction" (GetDefaultDirection, unless the procedure sets it).
        var direction: MappingDirection
        /// "Table Filter" and "Integration Table Filter" in Couplet's filter grammar, on demo columns.
        var localFilter: String? = nil, integrationFilter: String? = nil
        /// "Synch. Only Coupled Records": InsertIntegrationTableMapping's last argument.
        var syncOnlyCoupled = true
        /// "Resolve Update Conflicts" and "Resolve Deletion Conflicts": blank (`fail`) unless set.
        var updateConflict = UpdateConflictPolicy.fail
        var deletionConflict = DeletionConflictPolicy.fail
        /// "Dependency Filter", as Couplet mapping names.
        var dependencies: [String] = []
        /// The recurring synchronization job, if the setup creates one.
        var job: JobQueueEntry?
        /// The codeunit and procedure that set it up.
        var source: String
    }

    /// One integration field mapping.
    struct FieldMapping {
        /// Business Central's fields, for people: `"Salesperson Code" → OwnerId`.
        var fields: String
        /// The demo columns; nil on the side of a constant (field number 0).
        var local: String?, integration: String?
        /// "Direction" of the field.
        var direction: MappingDirection
        /// "Constant Value", in the demo's spelling.
        var constant: String? = nil
        /// "Not Null" (SetIntegrationFieldMappingNotNull).
        var notNull = false
        /// "Clear Value on Failed Sync".
        var clearOnFailure = false
        /// "Validate Field" (the integration side's flag is false for every row here).
        var validate = true
        /// Why the demo cannot carry it: a column it lacks. Nil when it can.
        var missing: String? = nil
        /// Where Business Central sets the field in code instead of through a field mapping, if it does.
        var setInCode: String? = nil
    }

    /// The codeunits the procedures belong to.
    static let cds = "CDSSetupDefaults"
    static let crm = "CRMSetupDefaults"

    /// Every table mapping of the reference integration, in its file's order.
    static let tableMappings: [TableMapping] = [
        TableMapping(
            name: "SALESPEOPLE", couplet: "SALESPEOPLE", tables: "Salesperson/Purchaser ↔ CRM Systemuser",
            local: "salesperson", integration: "systemuser", direction: .fromIntegration,
            integrationFilter: "NOT isdisabled AND islicensed AND NOT isintegrationuser",
            job: .synchronization(timeout: 1440), source: "\(cds).ResetSalesPeopleSystemUserMapping"),
        TableMapping(
            name: "CURRENCY", couplet: "CURRENCY", tables: "Currency ↔ CRM Transactioncurrency",
            local: "currency", integration: "transactioncurrency", direction: .toIntegration,
            job: .synchronization(timeout: 720), source: "\(cds).ResetCurrencyTransactionCurrencyMapping"),
        option("PAYMENT TERMS", couplet: "PAYMENT-TERMS", "Payment Terms ↔ CRM Account.PaymentTermsCode",
               local: "payment_terms", integration: "paymenttermsoption", source: "ResetPaymentTermsMapping"),
        option("SHIPMENT METHOD", couplet: "SHIPMENT-METHOD", "Shipment Method ↔ CRM Account.Address1_FreightTermsCode",
               local: "shipment_method", integration: "shipmentmethodoption", source: "ResetShipmentMethodMapping"),
        option("SHIPPING AGENT", couplet: "SHIPPING-AGENT", "Shipping Agent ↔ CRM Account.Address1_ShippingMethodCode",
               local: "shipping_agent", integration: "shippingagentoption", source: "ResetShippingAgentMapping"),
        TableMapping(
            name: "UNIT OF MEASURE", couplet: "UNIT-OF-MEASURE", tables: "Unit of Measure ↔ CRM Uomschedule",
            local: "unit_of_measure", integration: "uomschedule", direction: .toIntegration,
            job: .synchronization(timeout: 720), source: "\(crm).ResetUnitOfMeasureUoMScheduleMapping"),
        TableMapping(
            name: "CUSTOMER", couplet: "CUSTOMER", tables: "Customer ↔ CRM Account", local: "customer", integration: "account",
            direction: .bidirectional, localFilter: "blocked = ''", integrationFilter: "statecode = 0 AND customertypecode = 3",
            dependencies: ["SALESPEOPLE", "CURRENCY", "PAYMENT-TERMS", "SHIPMENT-METHOD", "SHIPPING-AGENT"],
            job: .synchronization(timeout: 720, category: "BCI CUST"), source: "\(cds).ResetCustomerAccountMapping"),
        TableMapping(
            name: "VENDOR", couplet: "VENDOR", tables: "Vendor ↔ CRM Account", local: "vendor", integration: "account",
            direction: .bidirectional, localFilter: "blocked = ''", integrationFilter: "statecode = 0 AND customertypecode = 11",
            dependencies: ["SALESPEOPLE", "CURRENCY", "PAYMENT-TERMS", "SHIPMENT-METHOD", "SHIPPING-AGENT"],
            job: .synchronization(timeout: 720, category: "BCI CUST"), source: "\(cds).ResetVendorAccountMapping"),
        TableMapping(
            name: "CONTACT", couplet: "CONTACT", tables: "Contact ↔ CRM Contact", local: "contact", integration: "contact",
            direction: .bidirectional, localFilter: "type = 'person' AND company_no <> ''",
            integrationFilter: "parentcustomerid IS NOT NULL AND statecode = 0 AND parentcustomeridtype = 'account'",
            dependencies: ["CUSTOMER", "VENDOR"],
            job: .synchronization(timeout: 720, category: "BCI CUST"), source: "\(cds).ResetContactContactMapping"),
        TableMapping(
            name: "ITEM-PRODUCT", couplet: "ITEM-PRODUCT", tables: "Item ↔ CRM Product", local: "item", integration: "product",
            direction: .bidirectional, localFilter: "NOT blocked", integrationFilter: "producttypecode = 1 AND statecode = 0",
            dependencies: ["UNIT-OF-MEASURE"], job: .synchronization(timeout: 1440), source: "\(crm).ResetItemProductMapping"),
        TableMapping(
            name: "RESOURCE-PRODUCT", couplet: "RESOURCE-PRODUCT", tables: "Resource ↔ CRM Product", local: "resource",
            integration: "product", direction: .bidirectional, localFilter: "NOT blocked",
            integrationFilter: "producttypecode = 3 AND statecode = 0",
            dependencies: ["UNIT-OF-MEASURE"], job: .synchronization(timeout: 720), source: "\(crm).ResetResourceProductMapping"),
        TableMapping(
            name: "CUSTPRCGRP-PRICE", couplet: "CUSTPRCGRP-PRICE", tables: "Customer Price Group ↔ CRM Pricelevel",
            local: "customer_price_group", integration: "pricelevel", direction: .toIntegration,
            dependencies: ["CURRENCY", "ITEM-PRODUCT"], job: .synchronization(timeout: 1440),
            source: "\(crm).ResetCustomerPriceGroupPricelevelMapping"),
        TableMapping(
            name: "SALESPRC-PRODPRICE", couplet: "SALESPRC-PRODPRICE", tables: "Sales Price ↔ CRM Productpricelevel",
            local: "sales_price", integration: "productpricelevel", direction: .toIntegration,
            localFilter: "sales_type = 'customer_price_group' AND sales_code <> ''", syncOnlyCoupled: false,
            dependencies: ["CUSTPRCGRP-PRICE", "ITEM-PRODUCT"], job: .synchronization(timeout: 1440),
            source: "\(crm).ResetSalesPriceProductPricelevelMapping"),
        TableMapping(
            name: "OPPORTUNITY", couplet: "OPPORTUNITY", tables: "Opportunity ↔ CRM Opportunity", local: "opportunity",
            integration: "opportunity", direction: .bidirectional, localFilter: "status IN ('not_started', 'in_progress')",
            syncOnlyCoupled: false, dependencies: ["CONTACT"], job: nil, source: "\(crm).ResetOpportunityMapping"),
        TableMapping(
            name: "SALESORDER-ORDER", couplet: "SALESORDER-ORDER", tables: "Sales Header ↔ CRM Salesorder", local: "sales_header",
            integration: "salesorder", direction: .toIntegration, localFilter: "document_type = 'order' AND status = 'released'",
            dependencies: ["ITEM-PRODUCT", "RESOURCE-PRODUCT", "OPPORTUNITY"], job: .synchronization(timeout: 720),
            source: "\(crm).ResetSalesOrderMapping"),
        TableMapping(
            name: "POSTEDSALESINV-INV", couplet: "POSTEDSALESINV-INV", tables: "Sales Invoice Header ↔ CRM Invoice",
            local: "sales_invoice_header", integration: "invoice", direction: .toIntegration,
            dependencies: ["ITEM-PRODUCT", "RESOURCE-PRODUCT", "OPPORTUNITY"], job: .synchronization(timeout: 1440),
            source: "\(crm).ResetSalesInvoiceHeaderInvoiceMapping"),
        // Created by ResetConfiguration only with the bidirectional sales order integration; the lines
        // of the one-way integration read here travel in code with their order. Read as the mapping
        // Business Central has for them: Couplet carries lines by a mapping of their own.
        TableMapping(
            name: "SOLINE-ORDERDETAIL", couplet: "SOLINE-ORDERDETAIL", tables: "Sales Line ↔ CRM Salesorderdetail",
            local: "sales_line", integration: "salesorderdetail", direction: .bidirectional,
            localFilter: "type IN ('item', 'resource') AND document_type = 'order'", syncOnlyCoupled: false,
            deletionConflict: .removeCoupling, dependencies: ["SALESORDER-ORDER"], job: nil,
            source: "\(crm).ResetBidirectionalSalesOrderLineMapping"),
        TableMapping(
            name: "POSTEDSALESLINE-INV", couplet: "POSTEDSALESLINE-INV", tables: "Sales Invoice Line ↔ CRM Invoicedetail",
            local: "sales_invoice_line", integration: "invoicedetail", direction: .toIntegration, syncOnlyCoupled: false,
            dependencies: ["POSTEDSALESINV-INV"], job: nil, source: "\(crm).ResetSalesInvoiceLineInvoiceMapping"),
    ]

    /// An option mapping (CDSSetupDefaults): a Business Central code table to a Dataverse option set,
    /// one way to the CRM (GetDefaultDirection), in the BCI OPTION job queue category.
    private static func option(
        _ name: String, couplet: String, _ tables: String, local: String, integration: String, source: String
    ) -> TableMapping {
        TableMapping(
            name: name, couplet: couplet, tables: tables, local: local, integration: integration, direction: .toIntegration,
            job: .synchronization(timeout: 1440, category: "BCI OPTION"), source: "\(cds).\(source)")
    }

    /// The other recurring jobs, by the schedule that stands for each in schedules.yaml:
    /// RecreateJobQueueEntry (CRMSetupDefaults) runs them every N minutes (30; the Sales Order Status
    /// job, codeunit "CRM Order Status Update Job", 7), 2 attempts 30 s apart, on hold with an
    /// inactivity timeout of the same N minutes.
    static let otherJobs: [(schedule: String, job: JobQueueEntry, source: String)] = [
        ("customer-statistics", JobQueueEntry(minutes: 30, maxAttempts: 2, rerunDelaySeconds: 30, inactivityTimeoutMinutes: 30),
         "\(crm).RecreateStatisticsJobQueueEntry"),
        ("item-availability", JobQueueEntry(minutes: 30, maxAttempts: 2, rerunDelaySeconds: 30, inactivityTimeoutMinutes: 30),
         "\(crm).RecreateItemAvailabilityJobQueueEntry"),
        ("sales-order-status", JobQueueEntry(minutes: 7, maxAttempts: 2, rerunDelaySeconds: 30, inactivityTimeoutMinutes: 7),
         "\(crm).RecreateSalesOrderStatusJobQueueEntry"),
    ]

    /// The field mappings compared, by Couplet mapping name, with the procedure that inserts them.
    static let fieldMappings: [(mapping: String, source: String, fields: [FieldMapping])] = [
        ("SALESPEOPLE", "\(cds).ResetSalesPeopleSystemUserMapping", salespeople),
        ("CURRENCY", "\(cds).ResetCurrencyTransactionCurrencyMapping", currency),
        ("CUSTOMER", "\(cds).ResetCustomerAccountMapping", customer),
        ("CONTACT", "\(cds).ResetContactContactMapping", contact),
        ("ITEM-PRODUCT", "\(crm).ResetItemProductMapping", itemProduct),
        ("SOLINE-ORDERDETAIL", "\(crm).ResetBidirectionalSalesOrderLineMapping", salesOrderLine),
        ("POSTEDSALESLINE-INV", "\(crm).ResetSalesInvoiceLineInvoiceMapping", postedSalesInvoiceLine),
    ]

    private static let salespeople = [
        FieldMapping(fields: "\"E-Mail\" ← InternalEMailAddress", local: "email", integration: "internalemailaddress", direction: .fromIntegration),
        FieldMapping(fields: "Name ← FullName", local: "name", integration: "fullname", direction: .fromIntegration),
        FieldMapping(fields: "\"Phone No.\" ← MobilePhone", local: "phone", integration: "mobilephone", direction: .fromIntegration),
    ]

    /// Code, symbol and description one way, and the exchange rate, which Business Central sets in code
    /// whenever it transfers a currency: CRMIntTableSubscriber.UpdateCRMTransactionCurrencyAfterTransferRecordFields
    /// (CDSIntTableSubscriber for Dataverse) writes CRMSynchHelper.GetCRMLCYToFCYExchangeRate(Code) through a
    /// FieldRef, without validation, and fails the currency when the rate is 0.
    private static let currency = [
        FieldMapping(fields: "Code → ISOCurrencyCode", local: "code", integration: "isocurrencycode", direction: .toIntegration),
        FieldMapping(fields: "Symbol → CurrencySymbol", local: "symbol", integration: "currencysymbol", direction: .toIntegration),
        FieldMapping(fields: "Description → CurrencyName", local: "description", integration: "currencyname", direction: .toIntegration),
        FieldMapping(fields: "GetCRMLCYToFCYExchangeRate(Code) → ExchangeRate", local: "exchange_rate", integration: "exchangerate",
                     direction: .toIntegration, validate: false,
                     setInCode: "CRMIntTableSubscriber.UpdateCRMTransactionCurrencyAfterTransferRecordFields"),
    ]

    /// The owner: a constant owner type, then the salesperson as the owner, never empty.
    private static let owner = [
        FieldMapping(fields: "'systemuser' → OwnerIdType", local: nil, integration: "owneridtype", direction: .toIntegration,
                     constant: "systemuser", validate: false),
        FieldMapping(fields: "\"Salesperson Code\" → OwnerId", local: "salesperson_code", integration: "ownerid",
                     direction: .toIntegration, notNull: true),
    ]

    private static let customer = owner + [
        both("Name ↔ Name", "name", "name"),
        FieldMapping(fields: "Contact ↔ Address1_PrimaryContactName", local: "contact", integration: "address1_primarycontactname",
                     direction: .bidirectional, validate: false),
        both("Address ↔ Address1_Line1", "address", "address1_line1"),
        both("\"Address 2\" ↔ Address1_Line2", "address_2", "address1_line2"),
        both("\"Post Code\" ↔ Address1_PostalCode", "post_code", "address1_postalcode"),
        both("City ↔ Address1_City", "city", "address1_city"),
        FieldMapping(fields: "\"Country/Region Code\" ↔ Address1_Country", local: "country_region_code",
                     integration: "address1_country", direction: .bidirectional, validate: false),
        both("County ↔ Address1_StateOrProvince", "county", "address1_stateorprovince"),
        both("\"Currency Code\" ↔ TransactionCurrencyId", "currency_code", "transactioncurrencyid"),
        both("\"E-Mail\" ↔ EMailAddress1", "e_mail", "emailaddress1"),
        both("\"Fax No.\" ↔ Fax", "fax_no", "fax"),
        both("\"Home Page\" ↔ WebSiteURL", "home_page", "websiteurl"),
        both("\"Phone No.\" ↔ Telephone1", "phone_no", "telephone1"),
        both("\"Shipment Method Code\" ↔ Address1_FreightTermsCode", "shipment_method_code", "address1_freighttermscode"),
        both("\"Shipping Agent Code\" ↔ Address1_ShippingMethodCode", "shipping_agent_code", "address1_shippingmethodcode"),
        both("\"Payment Terms Code\" ↔ PaymentTermsCode", "payment_terms_code", "paymenttermscode"),
        FieldMapping(fields: "\"Credit Limit (LCY)\" → CreditLimit", local: "credit_limit", integration: "creditlimit",
                     direction: .toIntegration),
        FieldMapping(fields: "\"Primary Contact No.\" ↔ PrimaryContactId", local: "primary_contact_no", integration: "primarycontactid",
                     direction: .bidirectional, clearOnFailure: true),
        // CRMIntTableSubscriber.OnAfterTransferRecordFields, 'CRM Account-Customer': an inactive account
        // (StatusCode Inactive) blocks a customer that is not blocked (Blocked ' ' → All); any other
        // status leaves Blocked alone, as a not-null field keeps the target's value.
        FieldMapping(fields: "Blocked ← StatusCode (Inactive: All)", local: "blocked", integration: "statuscode",
                     direction: .fromIntegration, notNull: true, validate: false,
                     setInCode: "CRMIntTableSubscriber.UpdateCustomerBlocked"),
    ]

    private static let contact = owner + [
        both("\"Currency Code\" ↔ TransactionCurrencyId", "currency_code", "transactioncurrencyid"),
        both("Address ↔ Address1_Line1", "address", "address1_line1"),
        both("\"Address 2\" ↔ Address1_Line2", "address_2", "address1_line2"),
        both("\"Post Code\" ↔ Address1_PostalCode", "post_code", "address1_postalcode"),
        both("City ↔ Address1_City", "city", "address1_city"),
        FieldMapping(fields: "\"Country/Region Code\" ↔ Address1_Country", local: "country_region_code",
                     integration: "address1_country", direction: .bidirectional, validate: false),
        both("County ↔ Address1_StateOrProvince", "county", "address1_stateorprovince"),
        both("\"E-Mail\" ↔ EMailAddress1", "e_mail", "emailaddress1"),
        both("\"Fax No.\" ↔ Fax", "fax_no", "fax"),
        both("\"First Name\" ↔ FirstName", "first_name", "firstname"),
        both("\"Middle Name\" ↔ MiddleName", "middle_name", "middlename"),
        both("Surname ↔ LastName", "surname", "lastname"),
        both("\"Home Page\" ↔ WebSiteUrl", "home_page", "websiteurl"),
        both("\"Mobile Phone No.\" ↔ MobilePhone", "mobile_phone_no", "mobilephone"),
        both("Pager ↔ Pager", "pager", "pager"),
        both("\"Phone No.\" ↔ Telephone1", "phone_no", "telephone1"),
        FieldMapping(fields: "Type ← 'Person'", local: "type", integration: nil, direction: .fromIntegration, constant: "person"),
        FieldMapping(fields: "'account' → ParentCustomerIdType", local: nil, integration: "parentcustomeridtype",
                     direction: .toIntegration, constant: "account", validate: false),
    ]

    private static let itemProduct = [
        FieldMapping(fields: "\"No.\" → ProductNumber", local: "no", integration: "productnumber", direction: .toIntegration),
        both("Description ↔ Name", "description", "name"),
        FieldMapping(fields: "\"Unit Price\" → Price", local: "unit_price", integration: "price", direction: .toIntegration),
        FieldMapping(fields: "\"Unit Cost\" → StandardCost", local: "unit_cost", integration: "standardcost", direction: .toIntegration),
        FieldMapping(fields: "\"Unit Cost\" → CurrentCost", local: "unit_cost", integration: "currentcost", direction: .toIntegration),
        FieldMapping(fields: "\"Unit Volume\" → StockVolume", local: "unit_volume", integration: "stockvolume", direction: .toIntegration),
        FieldMapping(fields: "\"Gross Weight\" → StockWeight", local: "gross_weight", integration: "stockweight", direction: .toIntegration),
        FieldMapping(fields: "\"Vendor No.\" → VendorID", local: "vendor_no", integration: "vendorid", direction: .toIntegration),
        FieldMapping(fields: "\"Vendor Item No.\" → VendorPartNumber", local: "vendor_item_no", integration: "vendorpartnumber",
                     direction: .toIntegration),
        FieldMapping(fields: "Inventory → QuantityOnHand", local: nil, integration: "quantityonhand", direction: .toIntegration,
                     missing: "the demo ERP's item has no inventory column (the item availability job writes quantityonhand)"),
        both("\"Base Unit of Measure\" ↔ DefaultUoMScheduleId", "base_unit_of_measure", "defaultuomscheduleid"),
    ]

    /// The order line's fields. "Amount" is the demo's line amount (it has no invoice discounts);
    /// the demo CRM spells Dataverse's product type Product as 1 and IsPriceOverridden's '1' as true.
    private static let salesOrderLine = [
        FieldMapping(fields: "\"Document Type\" ← 'Order'", local: "document_type", integration: nil, direction: .fromIntegration,
                     constant: "order"),
        FieldMapping(fields: "'Product' → ProductTypeCode", local: nil, integration: "producttypecode", direction: .toIntegration,
                     constant: "1", validate: false),
        both("\"No.\" ↔ ProductId", "no", "productid"),
        both("\"Line No.\" ↔ BusinessCentralLineNumber", "line_no", "lineitemnumber"),
        both("Quantity ↔ Quantity", "quantity", "quantity"),
        both("\"Quantity Shipped\" ↔ QuantityShipped", "quantity_shipped", "quantityshipped"),
        FieldMapping(fields: "'1' → IsPriceOverridden", local: nil, integration: "ispriceoverridden", direction: .toIntegration,
                     constant: "true"),
        both("\"Unit Price\" ↔ PricePerUnit", "unit_price", "priceperunit"),
        FieldMapping(fields: "\"Currency Code\" ↔ TransactionCurrencyId", local: nil, integration: "transactioncurrencyid",
                     direction: .bidirectional, missing: "the demo's lines have no currency (their order has)"),
        both("Amount ↔ BaseAmount", "line_amount", "baseamount"),
        both("\"Amount Including VAT\" ↔ ExtendedAmount", "amount_including_vat", "extendedamount"),
        FieldMapping(fields: "\"Requested Delivery Date\" ↔ RequestDeliveryBy", local: nil, integration: "requestdeliveryby",
                     direction: .bidirectional, missing: "the demo's lines have no requested delivery date (their order has)"),
    ]

    /// The posted invoice line's fields, all to the CRM.
    private static let postedSalesInvoiceLine = [
        toCRM("Quantity → Quantity", "quantity", "quantity"),
        FieldMapping(fields: "\"Line Discount Amount\" → ManualDiscountAmount", local: nil, integration: "manualdiscountamount",
                     direction: .toIntegration, missing: "the demo has no line discounts"),
        toCRM("\"Unit Price\" → PricePerUnit", "unit_price", "priceperunit"),
        FieldMapping(fields: "'1' → IsPriceOverridden", local: nil, integration: "ispriceoverridden", direction: .toIntegration,
                     constant: "true"),
        toCRM("Amount → BaseAmount", "line_amount", "baseamount"),
        toCRM("\"Amount Including VAT\" → ExtendedAmount", "amount_including_vat", "extendedamount"),
    ]

    /// A field carried to the CRM with "Validate Field" set.
    private static func toCRM(_ fields: String, _ local: String, _ integration: String) -> FieldMapping {
        FieldMapping(fields: fields, local: local, integration: integration, direction: .toIntegration)
    }

    /// A field carried both ways with "Validate Field" set, as most of Business Central's are.
    private static func both(_ fields: String, _ local: String, _ integration: String) -> FieldMapping {
        FieldMapping(fields: fields, local: local, integration: integration, direction: .bidirectional)
    }
}
