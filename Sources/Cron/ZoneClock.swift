import Foundation

/// Maps between instants (seconds since the Unix epoch) and wall-clock times
/// (seconds since 1970-01-01 00:00 on a zone's wall clock), applying Couplet's
/// daylight-saving policy:
///
/// - A wall-clock time that a spring-forward transition skips fires once, at the
///   transition (the first instant after the gap); several such times collapse into it.
/// - A wall-clock time that a fall-back transition repeats fires once, at its first occurrence.
///
/// Assumes, as holds for every real zone, that offsets change at most once within
/// any 48 hours.
struct ZoneClock {
    /// nil means UTC, which needs no look-ups.
    private let zone: TimeZone?

    private static let day = 86_400

    init(_ zone: TimeZone?) {
        self.zone = zone
    }

    /// The zone's offset from UTC in seconds at `instant`.
    func offset(at instant: Int) -> Int {
        guard let zone else { return 0 }
        return zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(instant)))
    }

    /// The instant at which the wall-clock time `wall` fires, under the policy above.
    func fireInstant(forWallTime wall: Int) -> Int {
        guard zone != nil else { return wall }
        let early = offset(at: wall - Self.day)
        let late = offset(at: wall + Self.day)
        if early == late {
            return wall - early
        }
        switch (offset(at: wall - early) == early, offset(at: wall - late) == late) {
        case (true, true):  // repeated: the first occurrence has the larger offset
            return wall - max(early, late)
        case (true, false):
            return wall - early
        case (false, true):
            return wall - late
        case (false, false):  // skipped: the gap ends at the transition
            return transition(after: wall - late, notAfter: wall - early)
        }
    }

    /// The latest wall-clock time whose fire instant is at or before `instant`.
    ///
    /// Every later wall-clock time fires after `instant`, so this is where a forward
    /// search starts and a backward search ends.
    func latestWallTime(firingAtOrBefore instant: Int) -> Int {
        let current = offset(at: instant)
        let wall = instant + current
        guard zone != nil else { return wall }
        let earlier = offset(at: wall - Self.day)
        guard earlier > current, offset(at: wall - earlier) == earlier else {
            return wall
        }
        // `instant` is the second pass through a repeated range of wall-clock times. The
        // first pass already fired all of that range, up to the end of the range.
        let secondPassStart = transition(after: wall - earlier, notAfter: instant)
        return secondPassStart + earlier - 1
    }

    /// The first instant in `(low, high]` whose offset differs from the offset at `low`,
    /// found by binary search; requires that the offset at `high` differs.
    private func transition(after low: Int, notAfter high: Int) -> Int {
        let before = offset(at: low)
        var low = low
        var high = high
        while high - low > 1 {
            let middle = low + (high - low) / 2
            if offset(at: middle) == before {
                low = middle
            } else {
                high = middle
            }
        }
        return high
    }
}
