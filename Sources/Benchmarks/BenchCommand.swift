import ArgumentParser
import CommandSupport
import Foundation
import Logging
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

/// `couplet bench roundtrip`: the rate of trivial parameterised queries on one connection.
struct RoundTripBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "roundtrip",
        abstract: "Round trips per second of SELECT $1::int on one connection, and peak memory.",
        discussion: "Compare with pgbench -S -c 1 on the same server for the cost of the Swift layer.")

    @OptionGroup var global: GlobalOptions

    @Option(help: "How long to measure, in seconds.")
    var seconds: Double = 5

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func run() async throws {
        let logger = try global.makeLogger("couplet.bench")
        let connection = try await global.connect(logger, applicationName: "couplet bench")
        for value in 0..<1000 { try await connection.query("SELECT \(value)::int") }  // warm up
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(seconds)
        let start = clock.now
        var count = 0
        while clock.now < deadline {
            let value = try await connection.query("SELECT \(count)::int").single().decode(Int.self, at: 0)
            guard value == count else { throw ValidationError("the server answered \(value) to \(count)") }
            count += 1
        }
        let perSecond = Double(count) / BenchSupport.seconds(since: start)
        let peakRSS = Int(BenchSupport.memory(of: getpid()).peak)
        if json {
            print(#"{"roundtrips_per_s": \#(Int(perSecond)), "mean_latency_us": \#(Int(1e6 / perSecond)), "peak_rss_mb": \#(peakRSS)}"#)
        } else {
            print("SELECT $1::int on one connection: \(Int(perSecond)) round trips/s (mean \(Int(1e6 / perSecond)) µs), peak RSS \(peakRSS) MB")
        }
    }
}
