import BusinessCentralEmulator
import Testing

/// The Business Central conformance suite: each `Golden/bc-*.http` file holds request/response pairs from
/// Microsoft's Business Central documentation (the page is named in the file); the emulator must answer
/// each as shown.
@Suite("Business Central emulator golden examples from the documentation")
struct BusinessCentralGoldenTests {
    static let pages = ["bc-dynamics_customer", "bc-dynamics_item_create", "bc-dynamics_company_get", "bc-use-odata-batch"]

    @Test("Golden example", arguments: pages)
    func golden(_ page: String) async throws {
        let golden = try Golden.load(page)
        _ = try await withBusinessCentral(setup: golden.setup, configure: { Self.configure(&$0, companies: golden.companies) }) { emulated in
            try await golden.run(on: emulated)
        }
    }

    /// `Name | schema` or `Name | schema | display name` lines as the companies.
    static func configure(_ configuration: inout BusinessCentralEmulator.Configuration, companies: [String]) {
        let parsed = companies.compactMap { line -> BusinessCentralEmulator.Company? in
            let parts = line.components(separatedBy: " | ").map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count >= 2 else { return nil }
            return .init(name: parts[0], schema: parts[1], displayName: parts.count > 2 ? parts[2] : nil)
        }
        if !parsed.isEmpty { configuration.companies = parsed }
    }
}
