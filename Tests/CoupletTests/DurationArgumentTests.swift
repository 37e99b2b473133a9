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

    @Test("a duration longer than 100 years is refused, naming the option and why, before the process does anything")
    func beyondTheLongest() async throws {
        try await withMigratedDatabase { database, _ in
            let environment = ["COUPLET_DATABASE_URL": database.configuration.connectionString]
            for (command, option) in [("worker", "lease"), ("worker", "retention"), ("worker", "grace"), ("scheduler", "leader-lease")] {
                let outcome = try await CoupletProcess.run([command, "--\(option)", "999999999d"], environment: environment)
                #expect(outcome.status == 64, "\(command) --\(option): \(outcome.standardError)")
                #expect(outcome.standardError.contains(
                    "The value '999999999d' is invalid for '--\(option) <\(option)>': duration \"999999999d\" is longer than 36600d (100 years)"))
            }
        }
    }
}
