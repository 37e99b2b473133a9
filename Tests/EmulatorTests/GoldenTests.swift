import DataverseEmulator
import Testing

/// The conformance suite: each golden file holds request/response pairs from Microsoft's documentation
/// (the page is named in the file), adapted to a test table; the emulator must answer each as shown.
@Suite("Emulator golden examples from the Dataverse documentation")
struct GoldenTests {
    static let pages = [
        "query-page-results", "query-count-rows", "query-join-tables", "create-entity-web-api", "update-delete-entities-using-web-api",
        "perform-conditional-operations-using-web-api", "execute-batch-operations-using-web-api",
        "use-change-tracking-synchronize-data-external-systems", "compose-http-requests-handle-errors",
        "v2-oauth2-client-creds-grant-flow",
    ]

    @Test("Golden example", arguments: pages)
    func golden(_ page: String) async throws {
        let golden = try Golden.load(page)
        _ = try await withEmulator(setup: golden.setup) { emulated in
            try await golden.run(on: emulated)
        }
    }

    @Test("Service protection 429, from api-limits.md")
    func apiLimits() async throws {
        let golden = try Golden.load("api-limits")
        _ = try await withEmulator(setup: golden.setup, configure: { $0.requestLimit = 2 }) { emulated in
            try await golden.run(on: emulated)
        }
    }
}
