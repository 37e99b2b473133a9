import ArgumentParser
import Cron
import Foundation

/// `couplet bench cron`: how fast `CronExpression.next(after:in:)` finds fire times, beside a
/// naive minute-by-minute search over the same expressions in the same run.
struct CronBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cron",
        abstract: "next() evaluations per second for a mix of expressions, beside a minute-scan baseline.",
        discussion: """
            The mix holds \(mix.count) expressions: UTC and zoned, Quartz L, W and #, and @every. \
            The baseline steps forward one minute at a time from the same start instants and asks \
            matches(_:in:) at each minute; every baseline answer is checked against next(). \
            No database needed. Use a release build.
            """)

    @Option(help: "How long to measure each of the two, in seconds.")
    var seconds: Double = 3

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    /// Realistic schedules, all firing on whole minutes so that a minute scan can find their fire times.
    static let mix: [(expression: String, zone: String?)] = [
        ("*/5 * * * *", nil),
        ("0 * * * *", nil),
        ("15 2 * * *", "Europe/Oslo"),
        ("CRON_TZ=Europe/Oslo 30 2 * * *", nil),
        ("0 9 * * mon-fri", "America/New_York"),
        ("CRON_TZ=Asia/Tokyo 0 */6 * * *", nil),
        ("0 18 L * *", nil),
        ("0 12 LW * *", "Europe/Oslo"),
        ("0 8 15W * *", nil),
        ("0 10 * * 5#2", "America/New_York"),
        ("0 22 * * 5L", nil),
        ("0 0 L-2 * *", "Australia/Sydney"),
        ("0 6 1 */3 *", nil),
        ("@every 5m", nil),
        ("@every 1h30m", nil),
    ]

    /// Start instants spread over the year 2025 (at odd seconds, so no start is itself a fire time).
    private static let starts = (0..<97).map { Date(timeIntervalSince1970: 1_735_689_600 + Double($0) * 325_037 + 17) }

    func validate() throws {
        guard seconds > 0 else { throw ValidationError("--seconds must be more than 0") }
    }

    func run() throws {
        let cases = try Self.mix.map { entry in
            (try CronExpression(entry.expression), entry.zone.flatMap(TimeZone.init(identifier:)))
        }
        let nextRate = Self.rate(for: seconds) { index in
            let (expression, zone) = cases[index % cases.count]
            return expression.next(after: Self.starts[index % Self.starts.count], in: zone)
        }
        let baselineRate = try Self.baselineRate(cases, for: seconds)
        if json {
            print(#"{"next_per_s": \#(Int(nextRate.rounded())), "baseline_minute_scan_per_s": \#(String(format: "%.1f", baselineRate)), "expressions": \#(cases.count), "speedup": \#(Int((nextRate / baselineRate).rounded()))}"#)
        } else {
            print("couplet bench cron: \(cases.count) expressions, \(Self.starts.count) start instants")
            print("  next(after:in:)         \(Int(nextRate.rounded())) evaluations/s")
            print("  baseline minute scan    \(String(format: "%.1f", baselineRate)) evaluations/s")
            print("  next() is \(Int((nextRate / baselineRate).rounded()))× faster than the minute scan")
        }
    }

    /// Evaluations per second of `evaluate(i)` for i = 0, 1, 2, … over `seconds` (at least one).
    private static func rate(for seconds: Double, _ evaluate: (Int) throws -> Date?) rethrows -> Double {
        let start = ContinuousClock.now
        let deadline = start + .milliseconds(Int64(seconds * 1000))
        var count = 0
        var checksum = 0.0
        repeat {
            for _ in 0..<16 {
                checksum += try evaluate(count)?.timeIntervalSince1970 ?? 0
                count += 1
            }
        } while ContinuousClock.now < deadline
        precondition(checksum != 0, "no evaluation found a fire time")
        return Double(count) / BenchSupport.seconds(since: start)
    }

    /// The minute scan's rate, each answer checked against `next`.
    private static func baselineRate(_ cases: [(CronExpression, TimeZone?)], for seconds: Double) throws -> Double {
        let start = ContinuousClock.now
        let deadline = start + .milliseconds(Int64(seconds * 1000))
        var count = 0
        repeat {
            let (expression, zone) = cases[count % cases.count]
            let after = starts[count % starts.count]
            let found = minuteScan(expression, after: after, in: zone)
            guard found == expression.next(after: after, in: zone) else {
                throw ValidationError("the minute scan and next() disagree on \(expression) after \(after)")
            }
            count += 1
        } while ContinuousClock.now < deadline
        return Double(count) / BenchSupport.seconds(since: start)
    }

    /// The naive search: every whole minute after `date`, for up to five years, until one matches.
    static func minuteScan(_ expression: CronExpression, after date: Date, in zone: TimeZone?) -> Date? {
        var minute = (date.timeIntervalSince1970 / 60).rounded(.down) * 60 + 60
        let limit = minute + 5 * 366 * 86_400
        while minute < limit {
            let candidate = Date(timeIntervalSince1970: minute)
            if expression.matches(candidate, in: zone) { return candidate }
            minute += 60
        }
        return nil
    }
}
