import PostgresTestSupport
import Testing

@Suite("couplet demo, as a process")
struct DemoCommandTests {
    @Test("seed prints the counts, refuses data without --reset, names a missing endpoint variable; edit prints its changes")
    func seedAndEdit() async throws {
        try await DemoFixture.with(seed: nil) { f in
            let seeded = try await CoupletProcess.run(["demo", "seed", "--customers", "20", "--items", "10"], environment: f.environment)
            #expect(seeded.status == 0, "\(seeded.standardError)")
            #expect(seeded.standardOutput.contains("erp.customer                  20\n"), "\(seeded.standardOutput)")
            let again = try await CoupletProcess.run(["demo", "seed"], environment: f.environment)
            #expect(again.status != 0)
            #expect(again.standardError.contains("the erp database already holds demo data"), "\(again.standardError)")
            #expect(again.standardError.contains("pass --reset"))
            let reset = try await CoupletProcess.run(["demo", "seed", "--customers", "30", "--reset"], environment: f.environment)
            #expect(reset.status == 0, "\(reset.standardError)")
            #expect(try await f.count(f.erp, "SELECT count(*) FROM customer") == 30)

            let edited = try await CoupletProcess.run(["demo", "edit", "--seed", "4", "--count", "1"], environment: f.environment)
            #expect(edited.status == 0, "\(edited.standardError)")
            #expect(edited.standardOutput.contains("erp: customer C1"), "\(edited.standardOutput)")
            #expect(edited.standardOutput.contains("crm: account"), "\(edited.standardOutput)")
            #expect(edited.standardOutput.contains("change(s) with seed 4."), "\(edited.standardOutput)")

            let noCRM = try await CoupletProcess.run(
                ["demo", "seed"], environment: f.environment.filter { $0.key != "COUPLET_ENDPOINT_CRM_URL" })
            #expect(noCRM.status != 0)
            #expect(noCRM.standardError.contains("set COUPLET_ENDPOINT_CRM_URL"), "\(noCRM.standardError)")
        }
    }
}
