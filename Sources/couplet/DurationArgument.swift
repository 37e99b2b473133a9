import ArgumentParser
import Cron

/// A duration option given as zero, where options take positive durations only.
struct NonPositiveDuration: Error, CustomStringConvertible {
    /// The text as given.
    let text: String

    /// Says what is expected.
    var description: String { "duration \"\(text)\" must be longer than 0s" }
}

extension Duration {
    /// Reads a duration option in the syntax of `Duration(parsing:)`: whole numbers with units,
    /// largest first — `500ms`, `30s`, `5m`, `1h30m`, `7d` — longer than zero and at most
    /// `Duration.longestParsed`. The error says why a value is refused.
    @Sendable static func positive(argument text: String) throws -> Duration {
        let duration = try Duration(parsing: text)
        guard duration > .zero else { throw NonPositiveDuration(text: text) }
        return duration
    }
}
