import ArgumentParser
import CommandSupport
import Foundation
import Postgres

/// `couplet bench`: measurements that print their figures beside a baseline from the same run.
public struct BenchCommand: AsyncParsableCommand {
    /// The command and its subcommands.
    public static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure Couplet on this machine.",
        subcommands: [
            RoundTripBench.self, QueueBench.self, SchedulerBench.self, CronBench.self, SyncBench.self, VerifyBench.self, ConnectorBench.self,
            ConsoleBench.self,
        ])

    /// `couplet bench` as parsed.
    public init() {}
}

/// `couplet bench roundtrip`: the rate of trivial parameterised queries on one connection, beside
/// pgbench running the same query as a prepared statement on one connection, rounds interleaved.
struct RoundTripBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "roundtrip",
        abstract: "Round trips per second of SELECT $1::int on one connection beside pgbench -M prepared, and peak memory.",
        discussion: """
            Each of --rounds rounds runs Couplet's connection for --seconds, then pgbench -M prepared -c 1 \
            with the same statement as many times; the medians and their ratio are printed.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: "How long each side runs in a round, in seconds.")
    var seconds: Double = 5

    @Option(help: "Rounds, each running Couplet then pgbench.")
    var rounds = 3

    @Option(help: "The pgbench to compare with.")
    var pgbench = "pgbench"

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        guard rounds >= 1, seconds > 0, seconds <= 3600 else { throw ValidationError("--rounds must be at least 1 and --seconds from 0 to 3600") }
    }

    func run() async throws {
        let server = try BenchSupport.server(global)
        let connection = try await PostgresConnection.connect(server, applicationName: "couplet bench")
        defer { connection.close() }
        var couplet: [Double] = [], baseline: [Double] = []
        // The loop talks to one connection, so it runs on that connection's thread (as a worker's finisher does).
        try await connection.withBoundExecutor {
            for value in 0..<1000 { try await connection.query("SELECT \(value)::int") }  // warm up
            for _ in 0..<rounds {
                let (count, rate) = try await measure(on: connection)
                couplet.append(rate)
                baseline.append(try await measurePgbench(server, transactions: count))
            }
        }
        let perSecond = BenchSupport.quantile(couplet, 0.5), pgbenchPerSecond = BenchSupport.quantile(baseline, 0.5)
        let peakRSS = Int(BenchSupport.memory(of: getpid()).peak)
        if json {
            print(#"{"roundtrips_per_s": \#(Int(perSecond)), "pgbench_roundtrips_per_s": \#(Int(pgbenchPerSecond)), "mean_latency_us": \#(Int(1e6 / perSecond)), "peak_rss_mb": \#(peakRSS)}"#)
        } else {
            print("""
                SELECT $1::int on one connection, medians of \(rounds) interleaved rounds of \(seconds) s:
                  Couplet              \(Int(perSecond)) round trips/s (mean \(Int(1e6 / perSecond)) µs), peak RSS \(peakRSS) MB
                  pgbench -M prepared  \(Int(pgbenchPerSecond)) round trips/s    Couplet \(String(format: "%.2f ×", perSecond / pgbenchPerSecond))
                """)
        }
    }

    /// How many round trips Couplet made in `seconds`, each answer checked, and their rate.
    private func measure(on connection: PostgresConnection) async throws -> (count: Int, perSecond: Double) {
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start + .seconds(seconds)
        var count = 0
        while clock.now < deadline {
            let value = try await connection.query("SELECT \(count)::int").single().decode(Int.self, at: 0)
            guard value == count else { throw ValidationError("the server answered \(value) to \(count)") }
            count += 1
        }
        return (count, Double(count) / BenchSupport.seconds(since: start))
    }

    /// pgbench's transactions per second running the same statement, prepared, `transactions` times
    /// on one connection.
    private func measurePgbench(_ server: PostgresConfiguration, transactions: Int) async throws -> Double {
        let (output, _) = try await BenchSupport.pgbench(
            pgbench, script: "\\set value random(0, 1000000)\nSELECT :value::int;\n", clients: 1, transactionsPerClient: transactions,
            database: server)
        guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("tps = ") }),
            let tps = line.dropFirst(6).split(separator: " ").first.flatMap({ Double($0) })
        else { throw ValidationError("pgbench printed no rate: \(output.suffix(500))") }
        return tps
    }
}
