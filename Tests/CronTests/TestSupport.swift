import Foundation
import Testing
@testable import Cron

/// Parses an ISO 8601 instant with an offset, e.g. `2025-03-30T03:00:00+02:00` or `...Z`.
func instant(_ text: String) -> Date {
    do {
        return try Date.ISO8601FormatStyle().parse(text)
    } catch {
        fatalError("bad ISO 8601 instant in a test: \(text)")
    }
}

/// A zone by identifier; nil stays nil (the API's default, UTC).
func zone(_ identifier: String?) -> TimeZone? {
    identifier.map { name in
        guard let zone = TimeZone(identifier: name) else { fatalError("unknown test zone \(name)") }
        return zone
    }
}

/// `date` as ISO 8601 in `zone` (UTC if nil), for readable failure messages.
func show(_ date: Date?, in zone: TimeZone? = nil) -> String {
    guard let date else { return "nil" }
    return date.formatted(Date.ISO8601FormatStyle(timeZone: zone ?? TimeZone(identifier: "UTC")!))
}

/// Parses an expression that a test knows to be valid.
func cron(_ text: String) -> CronExpression {
    do {
        return try CronExpression(text)
    } catch {
        fatalError("test expression should parse: \(error)")
    }
}

let oslo = TimeZone(identifier: "Europe/Oslo")!
let newYork = TimeZone(identifier: "America/New_York")!
let utc = TimeZone(identifier: "UTC")!
