import Foundation

/// How much demo data to make.
public struct DemoSize: Sendable {
    /// ERP customers (the CRM gets a few accounts of its own besides).
    public var customers: Int
    /// ERP items.
    public var items: Int

    /// A size of `customers` customers and `items` items (at least one of each, and enough for the special records).
    public init(customers: Int, items: Int) {
        self.customers = max(customers, 5)
        self.items = max(items, 5)
    }
}

/// The whole demo ERP, generated from a seed: master data, open sales documents, posted invoices
/// and the ledgers consistent with them.
struct ERPData: Sendable {
    var salespeople: [SalespersonRecord] = []
    var customers: [CustomerRecord] = []
    var vendors: [VendorRecord] = []
    var contacts: [ContactRecord] = []
    var items: [ItemRecord] = []
    var resources: [ResourceRecord] = []
    var salesPrices: [SalesPriceRecord] = []
    var opportunities: [OpportunityRecord] = []
    var salesHeaders: [SalesHeaderRecord] = []
    var salesLines: [SalesLineRecord] = []
    var postedInvoices: [PostedInvoiceRecord] = []
    var postedInvoiceLines: [PostedInvoiceLineRecord] = []
    var itemLedger: [ItemLedgerRecord] = []
    var custLedger: [CustLedgerRecord] = []

    /// The customer whose number two CRM accounts carry (match-based coupling finds both: ambiguous).
    static let ambiguousCustomerIndex = 2
    /// A customer forced onto the salesperson without a CRM user.
    static let ownerlessCustomerIndex = 1
}

/// Makes `ERPData` from a seeded generator; the same seed, size and day give the same data.
struct ERPGenerator {
    var random: SplitMix64
    let size: DemoSize
    let today: DemoDay
    var data = ERPData()
    let people = PeopleGenerator()

    init(random: SplitMix64, size: DemoSize, today: DemoDay) {
        self.random = random
        self.size = size
        self.today = today
    }

    /// Everything, in dependency order.
    mutating func generate() -> ERPData {
        data.salespeople = DemoStaff.salespeople.map { SalespersonRecord(person: $0, phone: phone(prefix: "+47")) }
        makeVendors()
        makeCustomers()
        makeContacts()
        makeItems()
        makeResources()
        makeSalesPrices()
        makeOpportunities()
        makeSalesDocuments()
        makePostedInvoices()
        makeInventory()
        return data
    }

    // MARK: Master data

    /// Vendors, one for every twenty customers (at least five).
    private mutating func makeVendors() {
        for index in 0..<max(5, size.customers / 20) {
            let name = people.companyName(&random)
            let address = people.address(&random)
            let domain = people.domain(for: name, address: address)
            data.vendors.append(VendorRecord(
                no: "V\(10000 + index * 10)", name: name, address: address, phone: phone(prefix: address.phonePrefix),
                email: "orders@\(domain)", homePage: "www.\(domain)", currencyCode: random.chance(0.2) ? random.pick(CurrencyTable.codes) : nil,
                paymentTermsCode: random.pick(PaymentTermsTable.dueDays).code, purchaserCode: random.pick(DemoStaff.salespeople).code,
                blocked: random.chance(0.03) ? "all" : ""))
        }
    }

    /// Customers, with the special ones at fixed positions (see `ERPData`).
    private mutating func makeCustomers() {
        for index in 0..<size.customers {
            let name = people.companyName(&random)
            let address = people.address(&random)
            let domain = people.domain(for: name, address: address)
            let terms = random.pick(PaymentTermsTable.dueDays)
            let special = index <= ERPData.ambiguousCustomerIndex
            // About one customer in a hundred belongs to the salesperson without a CRM user: enough to
            // show the owner rule (and what depends on those customers) without drowning the rest.
            var salesperson = (random.chance(0.01) ? DemoStaff.withoutCRMUser : random.pick(DemoStaff.withCRMUser)).code
            if index == ERPData.ownerlessCustomerIndex { salesperson = DemoStaff.withoutCRMUser.code }
            if index == ERPData.ambiguousCustomerIndex { salesperson = DemoStaff.withCRMUser[0].code }
            data.customers.append(CustomerRecord(
                no: "C\(10000 + index * 10)", name: name, address: address,
                address2: random.chance(0.15) ? "Building \(random.int(1...9))" : nil, phone: phone(prefix: address.phonePrefix),
                fax: random.chance(0.4) ? phone(prefix: address.phonePrefix) : nil, email: "info@\(domain)", homePage: "www.\(domain)",
                contact: nil, primaryContactNo: nil, creditLimit: Money(random.int(0...20) * 5000),
                salespersonCode: salesperson, currencyCode: random.chance(0.15) ? random.pick(CurrencyTable.codes) : nil,
                paymentTermsCode: terms.code, dueDays: terms.days,
                shipmentMethodCode: random.chance(0.9) ? random.pick(ShipmentMethodTable.codes) : nil,
                shippingAgentCode: random.chance(0.8) ? random.pick(ShippingAgentTable.codes) : nil,
                priceGroup: random.chance(0.6) ? random.pick(CustomerPriceGroupTable.discounts).code : nil,
                billToCustomerNo: billToCustomer(for: index), vatNo: "\(address.country)\(random.int(100_000_000...999_999_999))",
                blocked: !special && random.chance(0.02) ? "all" : ""))
        }
    }

    /// Now and then an earlier customer (not blocked, coupled owner) that pays this one's invoices.
    private mutating func billToCustomer(for index: Int) -> String? {
        guard index > ERPData.ambiguousCustomerIndex + 1, random.chance(0.03) else { return nil }
        let parent = data.customers[random.int((ERPData.ambiguousCustomerIndex + 1)...(index - 1))]
        guard parent.blocked.isEmpty, parent.billToCustomerNo == nil, parent.salespersonCode != DemoStaff.withoutCRMUser.code else {
            return nil
        }
        return parent.no
    }

    /// A company contact per customer and one to three persons working there, who take the company's
    /// address, phone, fax, home page and currency (as Business Central's persons inherit them); the
    /// first person is the customer's primary contact.
    private mutating func makeContacts() {
        var number = 100_000
        for index in data.customers.indices {
            let customer = data.customers[index]
            let companyNo = "CT\(number)"
            number += 1
            let company = ContactRecord(
                no: companyNo, isPerson: false, name: customer.name, companyNo: companyNo, companyName: customer.name,
                customerNo: customer.no, address: customer.address, address2: customer.address2, phone: customer.phone,
                fax: customer.fax, email: customer.email, homePage: customer.homePage, currencyCode: customer.currencyCode,
                salespersonCode: customer.salespersonCode)
            data.contacts.append(company)
            for personIndex in 0..<random.int(1...3) {
                let (first, last) = people.personName(&random)
                let domain = String(customer.email.split(separator: "@").last ?? "example.com")
                var person = company
                person.no = "CT\(number)"
                person.isPerson = true
                person.name = "\(first) \(last)"
                person.firstName = first
                person.middleName = random.chance(0.2) ? random.pick(DemoWords.firstNames) : nil
                person.surname = last
                person.jobTitle = random.pick(DemoWords.jobTitles)
                person.mobile = phone(prefix: customer.address.phonePrefix)
                person.pager = random.chance(0.1) ? phone(prefix: customer.address.phonePrefix) : nil
                person.email = "\(PeopleGenerator.slug(first)).\(PeopleGenerator.slug(last))@\(domain)"
                number += 1
                data.contacts.append(person)
                if personIndex == 0 {
                    data.customers[index].contact = person.name
                    data.customers[index].primaryContactNo = person.no
                }
            }
        }
    }

    /// Items: furniture mostly, a few services, a few blocked.
    private mutating func makeItems() {
        for index in 0..<size.items {
            let isService = random.chance(0.08)
            let description = isService
                ? "\(random.pick(DemoWords.serviceNames)) \(random.pick(DemoWords.productVariants))"
                : "\(random.pick(DemoWords.productMaterials)) \(random.pick(DemoWords.productKinds)) \(random.pick(DemoWords.productVariants))"
            let price = Money(cents: random.int(5...2500) * 100 + random.pick([0, 50, 95, 99]))
            data.items.append(ItemRecord(
                no: "\(1000 + index)", description: description,
                unit: isService ? "HOUR" : random.pick(UnitOfMeasureTable.itemUnits), unitPrice: price,
                unitCost: price.percent(random.int(45...75)), isService: isService,
                category: isService ? "SERVICE" : "FURNITURE", gtin: "57\(random.int(10_000_000_000...99_999_999_999))",
                unitVolume: isService ? .zero : Measure(thousandths: random.int(5...1500)),
                grossWeight: isService ? .zero : Measure(thousandths: random.int(1...160) * 500),
                vendorNo: random.pick(data.vendors).no,
                vendorItemNo: isService ? nil : "\(random.pick(["A", "K", "M", "T"]))\(random.int(1000...9999))-\(random.int(10...99))",
                blocked: random.chance(0.03)))
        }
    }

    /// Nine people and three machines.
    private mutating func makeResources() {
        for index in 0..<12 {
            let isMachine = index >= 9
            let name = isMachine ? "\(random.pick(["Forklift", "Delivery Van", "Laser Cutter"])) \(index - 8)" : people.fullName(&random)
            let price = Money(random.int(6...18) * 10)
            data.resources.append(ResourceRecord(
                no: "R\(String(index + 1).leftPadded(to: 4))", name: name, isMachine: isMachine,
                unit: isMachine ? "DAY" : "HOUR", unitPrice: isMachine ? price.times(8) : price, unitCost: price.percent(60)))
        }
    }

    /// Prices per customer price group for about a fifth of the sellable items.
    private mutating func makeSalesPrices() {
        for item in data.items where item.isSellableInventory && random.chance(0.2) {
            for group in CustomerPriceGroupTable.discounts where group.percent > 0 {
                data.salesPrices.append(SalesPriceRecord(
                    priceNo: "SP\(String(data.salesPrices.count + 1).leftPadded(to: 6))", itemNo: item.no, priceGroup: group.code,
                    startingDate: today.adding(-random.int(30...400)), unit: item.unit, minimumQuantity: random.pick([0, 0, 5, 10]),
                    unitPrice: item.unitPrice.percent(100 - group.percent)))
            }
        }
    }

    /// Opportunities with persons of customers, open, won and lost.
    private mutating func makeOpportunities() {
        let persons = data.contacts.filter(\.isPerson)
        let count = max(3, size.customers / 5)
        for index in 0..<count {
            let contact = persons[random.int(0...(persons.count - 1))]
            let status = random.pick(["not_started", "in_progress", "in_progress", "won", "lost"])
            let created = today.adding(-random.int(5...200))
            data.opportunities.append(OpportunityRecord(
                no: "OP\(100_000 + index)", description: "\(random.pick(DemoWords.opportunityTopics)) – \(contact.companyName)",
                contactNo: contact.no, companyNo: contact.companyNo, customerNo: contact.customerNo, salespersonCode: contact.salespersonCode,
                status: status, estimatedValue: Money(random.int(2...200) * 500), probability: random.pick([10, 25, 50, 75, 90]),
                creationDate: created, closingDate: created.adding(random.int(20...120))))
        }
    }

    // MARK: Documents and ledgers

    /// What a line may sell: sellable items mostly, resources now and then.
    private func lineProduct(_ random: inout SplitMix64, sellable: [ItemRecord]) -> LineProduct {
        if random.chance(0.1) {
            let resource = random.pick(data.resources)
            return LineProduct(isResource: true, no: resource.no, description: resource.name, unit: resource.unit, unitPrice: resource.unitPrice)
        }
        let item = random.pick(sellable)
        return LineProduct(isResource: false, no: item.no, description: item.description, unit: item.unit, unitPrice: item.unitPrice)
    }

    private var activeCustomers: [CustomerRecord] { data.customers.filter(\.blocked.isEmpty) }
    private var sellableItems: [ItemRecord] { data.items.filter(\.isSellableInventory) }

    /// Open and released orders (some partly shipped), quotes and unposted invoices.
    private mutating func makeSalesDocuments() {
        let customers = activeCustomers
        let sellable = sellableItems
        let kinds = [("order", "SO", max(2, size.customers / 3)), ("quote", "SQ", max(1, size.customers / 20)),
                     ("invoice", "SI", max(1, size.customers / 20))]
        let wonOpportunities = Dictionary(
            data.opportunities.filter { $0.status == "won" }.map { ($0.customerNo, $0.no) }, uniquingKeysWith: { first, _ in first })
        for (documentType, prefix, count) in kinds {
            for index in 0..<count {
                let customer = random.pick(customers)
                let no = "\(prefix)\(100_000 + index)"
                let ordered = today.adding(-random.int(0...45))
                var amount = Money.zero
                for lineIndex in 0..<random.int(1...4) {
                    let product = lineProduct(&random, sellable: sellable)
                    let quantity = random.int(1...12)
                    let shipped = documentType == "order" && random.chance(0.3) ? random.int(0...quantity) : 0
                    let line = SalesLineRecord(
                        documentType: documentType, documentNo: no, lineNo: (lineIndex + 1) * 10000, product: product,
                        quantity: quantity, shipped: shipped)
                    amount += line.lineAmount
                    data.salesLines.append(line)
                }
                data.salesHeaders.append(SalesHeaderRecord(
                    documentType: documentType, no: no, customer: customer, released: documentType == "order" && random.chance(0.7),
                    orderDate: ordered, requestedDelivery: ordered.adding(random.int(7...40)),
                    externalDocumentNo: random.chance(0.5) ? "PO-\(random.int(1000...99999))" : nil,
                    opportunityNo: documentType == "order" ? wonOpportunities[customer.no] : nil, amount: amount))
            }
        }
    }

    /// Posted invoices over the last year, each with its customer ledger entry and, when paid, a payment.
    private mutating func makePostedInvoices() {
        let sellable = sellableItems
        var number = 100_000
        for customer in data.customers {
            for _ in 0..<random.int(0...3) {
                let no = "PSI\(number)"
                number += 1
                let posted = today.adding(-random.int(1...365))
                var amount = Money.zero
                for lineIndex in 0..<random.int(1...3) {
                    let line = PostedInvoiceLineRecord(
                        documentNo: no, lineNo: (lineIndex + 1) * 10000, product: lineProduct(&random, sellable: sellable),
                        quantity: random.int(1...10))
                    amount += line.product.unitPrice.times(line.quantity)
                    data.postedInvoiceLines.append(line)
                    if !line.product.isResource {
                        data.itemLedger.append(ItemLedgerRecord(
                            itemNo: line.product.no, postingDate: posted, entryType: "sale", documentNo: no, quantity: -line.quantity))
                    }
                }
                let due = posted.adding(customer.dueDays)
                data.postedInvoices.append(PostedInvoiceRecord(
                    no: no, customer: customer, orderNo: nil, postingDate: posted, dueDate: due, amount: amount))
                addLedgerEntries(invoice: no, customer: customer, posted: posted, due: due, amount: amount)
            }
        }
    }

    /// The invoice's entry and its payment: old invoices are mostly paid, some in part; recent ones
    /// are open, and some of the open ones are past due.
    private mutating func addLedgerEntries(invoice: String, customer: CustomerRecord, posted: DemoDay, due: DemoDay, amount: Money) {
        let daysSinceDue = today.daysSinceEpoch - due.daysSinceEpoch
        let paid: Money
        if daysSinceDue > 20 && random.chance(0.9) {
            paid = random.chance(0.08) ? amount.percent(50) : amount
        } else {
            paid = daysSinceDue > 0 && random.chance(0.5) ? amount : .zero
        }
        data.custLedger.append(CustLedgerRecord(
            customerNo: customer.no, postingDate: posted, dueDate: due, documentType: "invoice", documentNo: invoice,
            description: "Invoice \(invoice)", amount: amount, remaining: amount - paid))
        guard paid != .zero else { return }
        let paymentDay = min(today, due.adding(random.int(-10...15)))
        data.custLedger.append(CustLedgerRecord(
            customerNo: customer.no, postingDate: max(paymentDay, posted), dueDate: max(paymentDay, posted), documentType: "payment",
            documentNo: "PAY\(invoice.dropFirst(3))", description: "Payment \(invoice)", amount: -paid, remaining: .zero))
    }

    /// A purchase per inventory item that covers what was sold plus stock; a few items are sold out
    /// and a few have had a positive or negative adjustment.
    private mutating func makeInventory() {
        var sold: [String: Int] = [:]
        for entry in data.itemLedger { sold[entry.itemNo, default: 0] -= entry.quantity }
        var entries: [ItemLedgerRecord] = []
        for item in data.items where !item.isService {
            let stock = random.chance(0.05) ? 0 : random.int(5...400)
            entries.append(ItemLedgerRecord(
                itemNo: item.no, postingDate: today.adding(-random.int(366...400)), entryType: "purchase",
                documentNo: "PR\(item.no)", quantity: (sold[item.no] ?? 0) + stock))
            if stock > 0 && random.chance(0.1) {
                let adjustment = random.int(1...min(stock, 5))
                let positive = random.chance(0.5)
                entries.append(ItemLedgerRecord(
                    itemNo: item.no, postingDate: today.adding(-random.int(1...60)), entryType: positive ? "positive_adjmt" : "negative_adjmt",
                    documentNo: "ADJ\(item.no)", quantity: positive ? adjustment : -adjustment))
            }
        }
        data.itemLedger = entries + data.itemLedger
    }

    /// A phone number with the country's prefix.
    private mutating func phone(prefix: String) -> String {
        "\(prefix) \(random.int(20...99)) \(random.int(10...99)) \(random.int(10...99)) \(random.int(10...99))"
    }
}

/// Zero padding for document numbers.
extension String {
    /// The text padded on the left with zeros to `width` characters.
    func leftPadded(to width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
