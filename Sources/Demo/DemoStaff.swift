/// The sales staff on both sides, fixed so that every path of the SALESPEOPLE mapping shows:
/// most salespeople have a CRM user with the same e-mail; one has a CRM user with the same name
/// but another e-mail (coupled by name); one has no CRM user at all (its customers fail the
/// CUSTOMER sync with the owner message); and the CRM has a user with no salesperson (left
/// uncoupled), an integration user, a disabled user and an unlicensed one (all filtered out).
enum DemoStaff {
    /// A salesperson in the ERP and how the CRM knows them.
    struct Salesperson: Sendable {
        let code: String
        let firstName: String
        let lastName: String
        let jobTitle: String
        let crmUser: CRMUserKind

        var name: String { "\(firstName) \(lastName)" }
        var email: String { "\(firstName.lowercased()).\(lastName.lowercased())@cronus.example" }
    }

    /// Whether and how a salesperson has a CRM user.
    enum CRMUserKind: Sendable {
        case sameEmail
        case sameNameOtherEmail
        case none
    }

    static let salespeople: [Salesperson] = [
        Salesperson(code: "AH", firstName: "Annette", lastName: "Hill", jobTitle: "Sales Manager", crmUser: .sameEmail),
        Salesperson(code: "BD", firstName: "Benjamin", lastName: "Dahl", jobTitle: "Account Manager", crmUser: .sameEmail),
        Salesperson(code: "EL", firstName: "Emma", lastName: "Lindqvist", jobTitle: "Account Manager", crmUser: .sameEmail),
        Salesperson(code: "JR", firstName: "Jonas", lastName: "Rossi", jobTitle: "Sales Representative", crmUser: .sameEmail),
        Salesperson(code: "KS", firstName: "Katrin", lastName: "Schmidt", jobTitle: "Key Account Manager", crmUser: .sameEmail),
        Salesperson(code: "LN", firstName: "Lars", lastName: "Nielsen", jobTitle: "Sales Representative", crmUser: .sameEmail),
        Salesperson(code: "MB", firstName: "Marta", lastName: "Bernard", jobTitle: "Account Manager", crmUser: .sameEmail),
        Salesperson(code: "OV", firstName: "Oliver", lastName: "Virtanen", jobTitle: "Sales Representative", crmUser: .sameEmail),
        Salesperson(code: "PK", firstName: "Petra", lastName: "Kowalski", jobTitle: "Export Manager", crmUser: .sameEmail),
        Salesperson(code: "SW", firstName: "Simon", lastName: "Weber", jobTitle: "Sales Representative", crmUser: .sameEmail),
        Salesperson(code: "HF", firstName: "Hanna", lastName: "Fischer", jobTitle: "Account Manager", crmUser: .sameNameOtherEmail),
        Salesperson(code: "RM", firstName: "Robert", lastName: "Moreno", jobTitle: "Field Sales", crmUser: .none),
    ]

    /// The salesperson without a CRM user: syncing a customer it owns fails with the owner message.
    static var withoutCRMUser: Salesperson { salespeople.first { $0.crmUser == .none }! }

    /// The salespeople that have a CRM user.
    static var withCRMUser: [Salesperson] { salespeople.filter { $0.crmUser != .none } }

    /// A CRM user that is not a salesperson: its fields besides the name.
    struct OtherUser: Sendable {
        let firstName: String
        let lastName: String
        let title: String
        let isDisabled: Bool
        let isLicensed: Bool
        let isIntegrationUser: Bool
    }

    /// The sales assistant who has no salesperson (left uncoupled; owns the duplicate accounts).
    static let assistant = OtherUser(
        firstName: "Sam", lastName: "Taylor", title: "Sales Assistant", isDisabled: false, isLicensed: true, isIntegrationUser: false)
    /// CRM users the SALESPEOPLE filter leaves out.
    static let filteredUsers = [
        OtherUser(firstName: "Couplet", lastName: "Integration", title: "Integration", isDisabled: false, isLicensed: true, isIntegrationUser: true),
        OtherUser(firstName: "Gustav", lastName: "Petersen", title: "Former Sales Representative", isDisabled: true, isLicensed: true, isIntegrationUser: false),
        OtherUser(firstName: "Iris", lastName: "Auditor", title: "Auditor (read only)", isDisabled: false, isLicensed: false, isIntegrationUser: false),
    ]
}
