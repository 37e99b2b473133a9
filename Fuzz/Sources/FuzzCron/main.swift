import Cron
import Foundation
import FuzzInput

// The input is a cron expression, and also a duration.
fuzz { text in
    _ = try? Duration(parsing: text)
    guard let expression = try? CronExpression(text) else { return }
    _ = expression.canEverFire
    for instant in Probe.instants {
        checkFireTimes(of: expression, around: instant)
    }
}

/// Where fire times are searched from.
enum Probe {
    /// Now-ish (the spring-forward night of 2025 in Oslo), and both ends of the supported range
    /// (0001-01-01 and 9999-12-31), where arithmetic is closest to overflowing.
    static let instants = [1_743_296_400, -62_135_596_800, 253_402_300_799].map { Date(timeIntervalSince1970: $0) }

    /// The zone passed in when the expression names none: one with daylight saving.
    static let zone = TimeZone(identifier: "Europe/Oslo")
}

/// `next`, `previous`, `matches` and `fireTimes` at `instant` keep the promises of `CronExpression`.
func checkFireTimes(of expression: CronExpression, around instant: Date) {
    let place = { "\(expression) at \(instant.timeIntervalSince1970)" }
    if let next = expression.next(after: instant, in: Probe.zone) {
        expect(next > instant, "next(after:) of \(place()) is later")
        expect(expression.matches(next, in: Probe.zone), "next(after:) of \(place()), \(next.timeIntervalSince1970), matches")
    }
    if let previous = expression.previous(before: instant, in: Probe.zone) {
        expect(previous < instant, "previous(before:) of \(place()) is earlier")
    }
    let fireTimes = expression.fireTimes(after: instant, count: 3, in: Probe.zone)
    expect(zip(fireTimes, fireTimes.dropFirst()).allSatisfy { $0 < $1 }, "fireTimes(after:) of \(place()) ascend")
}
