import Foundation
import Postgres
import Testing
@testable import Sync

/// The chain parsed from `text`; the test fails with the parse error when it does not parse.
func chain(_ text: String) throws -> TransformationChain {
    try TransformationChain(parsing: text)
}

/// `value` through the rules of `text`.
func apply(_ text: String, to value: String?, lookup: LookupResolver? = nil) throws -> String? {
    try TransformationChain(parsing: text).apply(to: value, lookup: lookup)
}

/// The parse error of `text`, or `nil` when it parses.
func parseError(_ text: String) -> TransformationError? {
    do {
        _ = try TransformationChain(parsing: text)
        return nil
    } catch {
        return error
    }
}

/// The error of applying `text` to `value`, or `nil` when it applies.
func applyError(_ text: String, to value: String?, lookup: LookupResolver? = nil) throws -> TransformationError? {
    let rules = try TransformationChain(parsing: text)
    do {
        _ = try rules.apply(to: value, lookup: lookup)
        return nil
    } catch {
        return error
    }
}

/// `minutes` after a fixed instant, so that decision tests read as a timeline.
func minute(_ minutes: Int) -> Date {
    Date(timeIntervalSince1970: 1_700_000_000 + Double(minutes) * 60)
}

/// The instant of an ISO 8601 UTC text, computed without the code under test.
func utc(_ text: String) -> Date {
    ISO8601DateFormatter().date(from: text)!
}

/// Whether, within a minute, a session of `db`'s database waits for a lock. A run that ends before
/// it reaches the lock (it failed early) must fail the test that waits for it, not hang it.
func someoneWaitsForLock(on db: PostgresConnection) async throws -> Bool {
    let deadline = ContinuousClock.now + .seconds(60)
    while ContinuousClock.now < deadline {
        let waiting = try await db.query(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
        ).single().decode(Int.self, at: 0)
        if waiting > 0 { return true }
        try await Task.sleep(for: .milliseconds(20))
    }
    return false
}
