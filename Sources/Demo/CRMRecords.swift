import Foundation
import Postgres

/// A CRM user.
struct SystemUserRecord: DemoRecord {
    static let table = "systemuser"
    static let columns = [
        "systemuserid", "fullname", "firstname", "lastname", "internalemailaddress", "address1_telephone1", "mobilephone",
        "title", "isdisabled", "islicensed", "isintegrationuser",
    ]
    var id: UUID
    var firstName: String
    var lastName: String
    var email: String
    /// The office phone and the mobile phone (Business Central's salesperson takes the mobile).
    var phone: String
    var mobile: String
    var title: String
    var isDisabled = false
    var isLicensed = true
    var isIntegrationUser = false
    var values: [any PostgresEncodable] {
        [id, "\(firstName) \(lastName)", firstName, lastName, email, phone, mobile, title, isDisabled, isLicensed, isIntegrationUser]
    }
}

/// A CRM team (records may be owned by a team instead of a user).
struct TeamRecord: DemoRecord {
    static let table = "team"
    static let columns = ["teamid", "name", "administratorid"]
    var id: UUID
    var name: String
    var administrator: UUID
    var values: [any PostgresEncodable] { [id, name, administrator] }
}

/// A CRM currency.
struct TransactionCurrencyRecord: DemoRecord {
    static let table = "transactioncurrency"
    static let columns = ["transactioncurrencyid", "isocurrencycode", "currencyname", "currencysymbol", "exchangerate"]
    var id: UUID
    var code: String
    var name: String
    var symbol: String
    var rate: String
    var values: [any PostgresEncodable] { [id, code, name, symbol, rate] }
}

/// The CRM's organization, with its base currency.
struct OrganizationRecord: DemoRecord {
    static let table = "organization"
    static let columns = ["organizationid", "name", "basecurrencyid"]
    var id: UUID
    var name: String
    var baseCurrency: UUID
    var values: [any PostgresEncodable] { [id, name, baseCurrency] }
}

/// A CRM unit group.
struct UoMScheduleRecord: DemoRecord {
    static let table = "uomschedule"
    static let columns = ["uomscheduleid", "name", "baseuomname", "description"]
    var id: UUID
    var name: String
    var baseUnit: String
    var values: [any PostgresEncodable] { [id, name, baseUnit, "The CRM's own default unit group"] }
}

/// A unit of a CRM unit group.
struct UoMRecord: DemoRecord {
    static let table = "uom"
    static let columns = ["uomid", "uomscheduleid", "name", "quantity", "isschedulebaseuom"]
    var id: UUID
    var schedule: UUID
    var name: String
    var values: [any PostgresEncodable] { [id, schedule, name, 1, true] }
}

/// Who owns a CRM record: a user or a team.
enum CRMOwner: Sendable {
    case user(UUID)
    case team(UUID)

    var id: UUID { switch self { case .user(let id), .team(let id): id } }
    var type: String { switch self { case .user: "systemuser"; case .team: "team" } }
}

/// A CRM account created in the CRM (the ERP's customers arrive through the CUSTOMER mapping).
struct AccountRecord: DemoRecord {
    static let table = "account"
    static let columns = [
        "accountid", "name", "accountnumber", "address1_line1", "address1_city", "address1_postalcode",
        "address1_stateorprovince", "address1_country", "address1_primarycontactname", "primarycontactid", "telephone1",
        "fax", "emailaddress1", "websiteurl", "description", "ownerid", "owneridtype", "customertypecode",
    ]
    var id: UUID
    var name: String
    var accountNumber: String?
    var address: PostalAddress
    /// The primary contact, by name and by its contact record, once the account has one.
    var primaryContactName: String? = nil
    var primaryContactID: UUID? = nil
    var phone: String
    var fax: String?
    var email: String
    var website: String
    var description: String
    var owner: CRMOwner
    var values: [any PostgresEncodable] {
        [id, name, accountNumber, address.street, address.city, address.postCode, address.county, address.country,
         primaryContactName, primaryContactID, phone, fax, email, website, description, owner.id, owner.type, 3]
    }
}

/// A CRM contact created in the CRM.
struct CRMContactRecord: DemoRecord {
    static let table = "contact"
    static let columns = [
        "contactid", "fullname", "firstname", "lastname", "jobtitle", "parentcustomerid", "emailaddress1", "telephone1",
        "fax", "websiteurl", "address1_city", "address1_stateorprovince", "address1_country", "ownerid",
    ]
    var id: UUID
    var firstName: String
    var lastName: String
    var jobTitle: String
    /// The account the contact works for: its phone, fax, website and address are the contact's.
    var account: AccountRecord
    var email: String
    var fullName: String { "\(firstName) \(lastName)" }
    var values: [any PostgresEncodable] {
        [id, fullName, firstName, lastName, jobTitle, account.id, email, account.phone, account.fax, account.website,
         account.address.city, account.address.county, account.address.country, account.owner.id]
    }
}
