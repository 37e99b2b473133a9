import AsyncHTTPClient
import CommandSupport
import Foundation
import Postgres

/// What serving `/metrics` and being scraped every second costs the workers of `couplet bench
/// queue --scrape-cost`: rounds of no-op jobs drained by fresh worker processes without and with
/// `--http-address` (scraped each second, as Prometheus would), interleaved — each pair in the other
/// order than the last — and compared by their medians: the rate, and the workers' CPU time per job,
/// which the machine's other load disturbs less.
struct ScrapeCost {
    /// One round's figures.
    struct Round {
        var jobsPerSecond: Double
        /// The workers' CPU time (user and system) over the round, per job, in microseconds.
        var cpuMicrosecondsPerJob: Double
    }

    /// The rounds without monitoring.
    var without: [Round] = []
    /// The rounds with monitoring, scraped every second.
    var with: [Round] = []
    /// Scrapes that did not answer 200.
    var failedScrapes = 0

    /// The throughput lost to monitoring, in percent of the median without it (negative: none seen).
    var costPercent: Double { (1 - Self.median(with.map(\.jobsPerSecond)) / Self.median(without.map(\.jobsPerSecond))) * 100 }
    /// The CPU time per job added by monitoring, in percent of the median without it.
    var cpuCostPercent: Double {
        (Self.median(with.map(\.cpuMicrosecondsPerJob)) / Self.median(without.map(\.cpuMicrosecondsPerJob)) - 1) * 100
    }

    /// The median of `values` (the middle one by nearest rank).
    static func median(_ values: [Double]) -> Double { BenchSupport.quantile(values, 0.5) }

    /// The report's lines.
    var text: String {
        func list(_ rounds: [Round], _ value: (Round) -> Double) -> String { rounds.map { "\(Int(value($0).rounded()))" }.joined(separator: ", ") }
        func median(_ rounds: [Round], _ value: (Round) -> Double) -> Int { Int(Self.median(rounds.map(value)).rounded()) }
        return """
              /metrics scraped every 1 s   median \(median(with, \.jobsPerSecond)) jobs/s, without \(median(without, \.jobsPerSecond)) jobs/s: \
            costs \(String(format: "%.1f", costPercent)) % of throughput (with: \(list(with, \.jobsPerSecond)); without: \(list(without, \.jobsPerSecond)))
                worker CPU per job         median \(median(with, \.cpuMicrosecondsPerJob)) µs, without \(median(without, \.cpuMicrosecondsPerJob)) µs: \
            costs \(String(format: "%.1f", cpuCostPercent)) % (with: \(list(with, \.cpuMicrosecondsPerJob)); without: \(list(without, \.cpuMicrosecondsPerJob)))\
            \(failedScrapes > 0 ? "; \(failedScrapes) scrapes failed" : "")
            """
    }
}

extension QueueBench {
    /// `--rounds` pairs of rounds, each with fresh workers: one without monitoring, one with it.
    func measureScrapeCost(database: PostgresConfiguration, db: PostgresConnection) async throws -> ScrapeCost {
        var cost = ScrapeCost()
        for pair in 0..<rounds {
            for scraped in pair % 2 == 0 ? [false, true] : [true, false] {
                let round = try await roundWithFreshWorkers(database: database, db: db, scraped: scraped, cost: &cost)
                if scraped { cost.with.append(round) } else { cost.without.append(round) }
            }
        }
        return cost
    }

    private func roundWithFreshWorkers(
        database: PostgresConfiguration, db: PostgresConnection, scraped: Bool, cost: inout ScrapeCost
    ) async throws -> ScrapeCost.Round {
        let ports = try scraped ? (0..<workers).map { _ in try freeLocalPort() } : []
        let processes = try (0..<workers).map { index in
            try BenchSupport.startChild(
                workerArguments + (scraped ? ["--http-address", "127.0.0.1:\(ports[index])"] : []), database: database)
        }
        defer { for process in processes where process.isRunning { process.terminate() } }
        try await waitUntil(db, "SELECT count(*) = \(workers) FROM couplet.workers_live")
        let scraper = Task { await Self.scrapeEverySecond(ports) }
        let cpuBefore = processes.map { BenchSupport.cpuSeconds(of: $0.processIdentifier) }.reduce(0, +)
        let round: QueueRound
        do {
            round = try await measureRound(database: database, db: db)
        } catch {
            scraper.cancel()
            throw error
        }
        scraper.cancel()
        cost.failedScrapes += await scraper.value
        let cpu = processes.map { BenchSupport.cpuSeconds(of: $0.processIdentifier) }.reduce(0, +) - cpuBefore
        for process in processes { process.terminate() }
        for process in processes { process.waitUntilExit() }
        try await db.query("DELETE FROM couplet.workers", name: "forget the stopped workers")
        return ScrapeCost.Round(jobsPerSecond: round.jobsPerSecond, cpuMicrosecondsPerJob: cpu / Double(jobs) * 1_000_000)
    }

    /// GETs /metrics of each port every second until cancelled; returns how many scrapes failed.
    private static func scrapeEverySecond(_ ports: [Int]) async -> Int {
        var failed = 0
        while !Task.isCancelled {
            for port in ports {
                let request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/metrics")
                do {
                    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
                    _ = try await response.body.collect(upTo: 16 * 1024 * 1024)
                    if response.status != .ok { failed += 1 }
                } catch {
                    if !Task.isCancelled { failed += 1 }
                }
            }
            try? await Task.sleep(for: .seconds(1))
        }
        return failed
    }
}
