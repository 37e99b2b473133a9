import PostgresTestSupport
import Testing

@Suite("Durations on the command line, as a process")
struct DurationArgumentTests {
    @Test("options read durations with the one shared parser, and take positive ones only")
    func options() async throws {
        let parsed = try await CoupletProcess.run(["worker", "--lease", "500ms"])
        #expect(parsed.status == 64)
        #expect(parsed.standardError.contains("--lease must be at least 1s"))
        for rejected in ["1h1h", "0s", "1.5h", "90"] {
            let outcome = try await CoupletProcess.run(["worker", "--lease", rejected])
            #expect(outcome.status == 64)
            #expect(outcome.standardError.contains("The value '\(rejected)' is invalid for '--lease <lease>'"), "\(outcome.standardError)")
        }
    }
}
