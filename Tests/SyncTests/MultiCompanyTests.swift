import Foundation
import Logging
import Postgres
import PostgresTestSupport
import Testing

@testable import Sync

/// Several ERP companies against one CRM, as Business Central's `CompanyId` does: one mapping per
/// company, a CRM filter on the company and a template that stamps it on the records a sync creates.
@Suite("Several companies against one CRM")
struct MultiCompanyTests {
    private static let erp = """
        CREATE SCHEMA cronus; CREATE SCHEMA fabrikam;
        CREATE TABLE cronus.customer (no text PRIMARY KEY, name text NOT NULL, modified_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE fabrikam.customer (LIKE cronus.customer INCLUDING ALL);
        """
    private static let crm = """
        CREATE TABLE account (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), accountnumber text, name text NOT NULL,
                              companyid text NOT NULL CHECK (companyid IN ('CRONUS', 'FABRIKAM')), modified_at timestamptz NOT NULL DEFAULT now());
        """

    @Test("each company's mapping creates accounts stamped with its company and never reads another company's")
    func companiesStayApart() async throws {
        try await withMigratedDatabase { _, coordination in
            try await SampleEndpoints.with(erpSchema: Self.erp, crmSchema: Self.crm) { sample in
                try await coordination.runScript("INSERT INTO couplet.endpoints (name) VALUES ('erp'), ('crm')", name: "endpoints")
                for company in ["CRONUS", "FABRIKAM"] {
                    try await coordination.query(
                        """
                        INSERT INTO couplet.table_mappings (name, local_endpoint, local_table, local_key, local_modified,
                            integration_endpoint, integration_table, integration_key, integration_modified, integration_filter,
                            integration_template, sync_only_coupled)
                        VALUES (\("CUSTOMER-" + company), 'erp', \(company.lowercased() + ".customer"), 'no', 'modified_at',
                                'crm', 'account', 'id', 'modified_at', \("companyid = '\(company)'"),
                                \(try PostgresJSON(["companyid": company])), false)
                        """)
                    try await coordination.query(
                        """
                        INSERT INTO couplet.field_mappings (mapping, position, local_field, integration_field) VALUES
                            (\("CUSTOMER-" + company), 1, 'no', 'accountnumber'), (\("CUSTOMER-" + company), 2, 'name', 'name')
                        """)
                }
                try await sample.erp.runScript(
                    "INSERT INTO cronus.customer VALUES ('10000', 'Adatum'); INSERT INTO fabrikam.customer VALUES ('10000', 'Litware')",
                    name: "customers")
                try await sample.crm.query("INSERT INTO account (accountnumber, name, companyid) VALUES ('20000', 'Trey Research', 'FABRIKAM')")
                let engine = SyncEngine(coordination: coordination, endpoints: EndpointDirectory(environment: sample.environment),
                                        logger: Logger(label: "test"))
                try await engine.run(mapping: "CUSTOMER-CRONUS", kind: .full)
                try await engine.run(mapping: "CUSTOMER-FABRIKAM", kind: .full)
                let accounts = try await sample.crm.query("SELECT companyid, accountnumber, name FROM account ORDER BY 1, 2")
                    .map { try $0.decode((String, String, String).self) }
                #expect(accounts.map { "\($0.0) \($0.1) \($0.2)" } == ["CRONUS 10000 Adatum", "FABRIKAM 10000 Litware", "FABRIKAM 20000 Trey Research"])
                let cronus = try await sample.erp.query("SELECT string_agg(no, ',' ORDER BY no) FROM cronus.customer").single().decode(String.self, at: 0)
                let fabrikam = try await sample.erp.query("SELECT string_agg(no, ',' ORDER BY no) FROM fabrikam.customer").single().decode(String.self, at: 0)
                #expect(cronus == "10000", "FABRIKAM's CRM-only account stays out of CRONUS")
                #expect(fabrikam == "10000,20000")
            }
        }
    }
}
