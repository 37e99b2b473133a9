import Foundation

/// The demo CRM before any sync: its users and teams, its own currencies and unit group, and the
/// special records that make every path of the sync show.
struct CRMData: Sendable {
    var users: [SystemUserRecord] = []
    var teams: [TeamRecord] = []
    var currencies: [TransactionCurrencyRecord] = []
    var organization: [OrganizationRecord] = []
    var unitGroups: [UoMScheduleRecord] = []
    var units: [UoMRecord] = []
    var accounts: [AccountRecord] = []
    var contacts: [CRMContactRecord] = []

    /// The ISO code of the organization's base currency.
    var baseCurrencyCode: String {
        currencies.first { $0.id == organization.first?.baseCurrency }?.code ?? ""
    }
}

/// Makes `CRMData` from a seeded generator, given the ERP it goes with.
struct CRMGenerator {
    var random: SplitMix64
    let erp: ERPData
    var data = CRMData()
    let people = PeopleGenerator()

    /// Everything: users first, since accounts name their owners.
    mutating func generate() -> CRMData {
        makeUsers()
        makeTeams()
        data.currencies = [
            TransactionCurrencyRecord(id: random.uuid(), code: "EUR", name: "Euro", symbol: "€", rate: "1"),
            TransactionCurrencyRecord(id: random.uuid(), code: "USD", name: "US Dollar", symbol: "$", rate: "1.0825"),
        ]
        let group = UoMScheduleRecord(id: random.uuid(), name: "Default Unit", baseUnit: "Primary Unit")
        data.unitGroups = [group]
        data.units = [UoMRecord(id: random.uuid(), schedule: group.id, name: "Primary Unit")]
        makeAccounts()
        // Last, so that the records above take the random draws they always took.
        data.organization = [OrganizationRecord(id: random.uuid(), name: "CRONUS Sales", baseCurrency: data.currencies[0].id)]
        return data
    }

    /// A user per salesperson that has one (same e-mail, or same name and another e-mail), the
    /// sales assistant without a salesperson, and the users the SALESPEOPLE filter leaves out.
    private mutating func makeUsers() {
        for person in DemoStaff.withCRMUser {
            let email = person.crmUser == .sameEmail
                ? person.email : "\(person.firstName.lowercased()).\(person.lastName.prefix(1).lowercased())@cronus-sales.example"
            data.users.append(SystemUserRecord(
                id: random.uuid(), firstName: person.firstName, lastName: person.lastName, email: email,
                phone: phone(), mobile: mobile(), title: person.jobTitle))
        }
        for other in [DemoStaff.assistant] + DemoStaff.filteredUsers {
            data.users.append(SystemUserRecord(
                id: random.uuid(), firstName: other.firstName, lastName: other.lastName,
                email: "\(other.firstName.lowercased()).\(other.lastName.lowercased())@cronus.example", phone: phone(),
                mobile: mobile(), title: other.title, isDisabled: other.isDisabled, isLicensed: other.isLicensed,
                isIntegrationUser: other.isIntegrationUser))
        }
    }

    /// Two teams, administered by the first two sales users.
    private mutating func makeTeams() {
        data.teams = [
            TeamRecord(id: random.uuid(), name: "Key Accounts", administrator: data.users[0].id),
            TeamRecord(id: random.uuid(), name: "Inside Sales", administrator: data.users[1].id),
        ]
    }

    /// The sales assistant: owns the duplicate accounts.
    private var assistant: SystemUserRecord { data.users[DemoStaff.withCRMUser.count] }

    /// Accounts sales people created in the CRM (they flow to the ERP), each with a contact as its
    /// primary contact, one owned by a team, and two accounts carrying the same ERP customer's number
    /// (match-based coupling finds both).
    private mutating func makeAccounts() {
        for userIndex in 0..<3 {
            var account = newAccount(owner: .user(data.users[userIndex].id), number: nil, description: "Lead converted at a trade fair")
            let (first, last) = people.personName(&random)
            let contact = CRMContactRecord(
                id: random.uuid(), firstName: first, lastName: last, jobTitle: random.pick(DemoWords.jobTitles), account: account,
                email: "\(PeopleGenerator.slug(first))@\(account.website.dropFirst(4))")
            account.primaryContactName = contact.fullName
            account.primaryContactID = contact.id
            data.accounts.append(account)
            data.contacts.append(contact)
        }
        data.accounts.append(newAccount(owner: .team(data.teams[0].id), number: nil, description: "Owned by the Key Accounts team"))
        let customer = erp.customers[ERPData.ambiguousCustomerIndex]
        for copy in 1...2 {
            var duplicate = newAccount(owner: .user(assistant.id), number: customer.no, description: "Entered twice (copy \(copy))")
            duplicate.name = customer.name
            duplicate.address = customer.address
            data.accounts.append(duplicate)
        }
    }

    /// An account with a generated name, address, phone, e-mail and website.
    private mutating func newAccount(owner: CRMOwner, number: String?, description: String) -> AccountRecord {
        let name = people.companyName(&random)
        let address = people.address(&random)
        let domain = people.domain(for: name, address: address)
        return AccountRecord(
            id: random.uuid(), name: name, accountNumber: number, address: address, phone: phone(),
            fax: random.chance(0.4) ? phone() : nil, email: "contact@\(domain)", website: "www.\(domain)",
            description: description, owner: owner)
    }

    /// A Norwegian-style phone number.
    private mutating func phone() -> String {
        "+47 \(random.int(20...99)) \(random.int(10...99)) \(random.int(10...99)) \(random.int(10...99))"
    }

    /// A Norwegian-style mobile number (starting with 4 or 9).
    private mutating func mobile() -> String {
        "+47 \(random.pick([4, 9]))\(random.int(0...9)) \(random.int(10...99)) \(random.int(10...99)) \(random.int(10...99))"
    }
}
