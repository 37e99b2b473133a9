import Foundation

/// A parsed cron expression: a schedule that says at which instants a job fires.
///
/// ## Syntax
/// - Five fields `minute hour day-of-month month day-of-week`, or six with a leading
///   `second` field (five fields fire at second 0).
/// - Each field is a comma-separated list of `*`, values, ranges `1-5`, and steps
///   `*/15`, `10-40/5`, `5/10` (5 to the field's maximum, every 10). Months take names
///   JAN-DEC and weekdays SUN-SAT (any case, also in ranges such as `mon-fri`);
///   weekday 0 and 7 are both Sunday. `?` means the same as `*` in the day fields.
/// - Quartz extensions: day-of-month `L` (last day), `L-3` (three days before it), `LW`
///   (last weekday of the month), `15W` (the weekday nearest the 15th, never leaving the
///   month: Saturday the 1st moves to Monday the 3rd, Sunday the 31st to Friday the 29th;
///   `nW` does not fire in months without day n); day-of-week `5#2` (second Friday; a
///   month without a fifth occurrence has no `#5` day) and `5L` (last Friday).
/// - Macros `@yearly` = `@annually` (`0 0 1 1 *`), `@monthly` (`0 0 1 * *`), `@weekly`
///   (`0 0 * * 0`), `@daily` = `@midnight` (`0 0 * * *`), `@hourly` (`0 * * * *`), and
///   `@every DURATION` with a whole number of seconds in the syntax of `Duration(parsing:)` (`90s`, `5m`, `1h30m`).
/// - An optional leading `CRON_TZ=Area/City ` evaluates the expression in that zone.
///
/// ## Day-of-month and day-of-week (the Vixie rule)
/// A day field written exactly as `*` or `?` places no restriction. When BOTH day fields
/// are restricted, a day matches if EITHER matches: `0 0 13 * 5` fires on every 13th and
/// on every Friday. (Unlike Vixie cron, `*/2` counts as a restriction.)
///
/// ## Time zones and daylight saving
/// Expressions match local wall-clock time in the zone (the `CRON_TZ` zone, else the zone
/// passed in, else UTC), and every matching wall-clock time fires exactly once:
/// - a time skipped by a spring-forward transition fires at the first instant after the
///   gap (Europe/Oslo 2025-03-30 `30 2 * * *` fires at 03:00+02:00); several skipped
///   times collapse into that single instant;
/// - a time repeated by a fall-back transition fires only at its first occurrence
///   (Europe/Oslo 2025-10-26 `30 2 * * *` fires at 02:30+02:00, not at 02:30+01:00), so
///   an hourly job skips the repeated hour.
///
/// ## `@every`
/// `@every` ignores zones and is anchored to the Unix epoch: it fires at exactly the
/// instants whose `timeIntervalSince1970` is a multiple of the interval, so every
/// scheduler process computes the same fire times regardless of when it started.
///
/// ## Guarantees
/// Fire instants are whole seconds. Searches never loop forever: the parser works out
/// whether any day can ever match (`0 0 30 2 *` cannot), and the Gregorian calendar
/// repeats every 400 years, so a search spans at most 400 years. Instants before year 1
/// or after year 9999 are outside the supported range: `next`/`previous` return nil and
/// `matches` returns false for them.
public struct CronExpression: Sendable, Hashable, CustomStringConvertible {
    /// The zone named by a `CRON_TZ=` prefix, if any; it overrides any zone passed to the methods.
    public let timeZone: TimeZone?
    /// The original text, exactly as parsed.
    public let description: String
    let schedule: CronSchedule

    /// The supported instants, as seconds since the Unix epoch: 0001-01-01 to 9999-12-31 UTC.
    private static let supportedSeconds = -62_135_596_800...253_402_300_799

    /// Parses `text`, accepting an optional leading `CRON_TZ=Area/City ` prefix.
    ///
    /// - Throws: `CronParseError` naming what is wrong and the 1-based character where it starts.
    public init(_ text: String) throws(CronParseError) {
        let parsed = try CronParser(text).parse()
        description = text
        timeZone = parsed.zone
        schedule = parsed.schedule
    }

    /// Whether the expression fires at all; false for impossible dates such as `0 0 30 2 *`,
    /// whose `next` and `previous` always return nil.
    public var canEverFire: Bool {
        switch schedule {
        case .calendar(let fields): fields.canEverFire
        case .every: true
        }
    }

    /// The first fire instant strictly after `date`.
    ///
    /// Evaluated in the `CRON_TZ` zone if the expression has one, else in `zone`, else in
    /// UTC, with the daylight-saving rules described on the type. Returns nil when the
    /// expression can never fire, or when `date` is outside the supported range.
    public func next(after date: Date, in zone: TimeZone? = nil) -> Date? {
        guard let seconds = Self.wholeSeconds(date, rounding: .down) else { return nil }
        return nextFire(after: seconds, clock: clock(zone)).map(Self.date)
    }

    /// The last fire instant strictly before `date`, or nil if there is none (see `next`).
    public func previous(before date: Date, in zone: TimeZone? = nil) -> Date? {
        guard let seconds = Self.wholeSeconds(date, rounding: .up) else { return nil }
        return previousFire(before: seconds, clock: clock(zone)).map(Self.date)
    }

    /// Whether `date` is a fire instant, i.e. whether some `next(after:)` would return it.
    public func matches(_ date: Date, in zone: TimeZone? = nil) -> Bool {
        guard let seconds = Self.wholeSeconds(date, rounding: .towardZero),
              Double(seconds) == date.timeIntervalSince1970 else { return false }
        return nextFire(after: seconds - 1, clock: clock(zone)) == seconds
    }

    /// Up to `count` consecutive fire instants after `date`, in ascending order; fewer only
    /// when the schedule runs out (see `next`).
    public func fireTimes(after date: Date, count: Int, in zone: TimeZone? = nil) -> [Date] {
        guard count > 0, var cursor = Self.wholeSeconds(date, rounding: .down) else { return [] }
        let clock = clock(zone)
        var result: [Date] = []
        while result.count < count, let fire = nextFire(after: cursor, clock: clock) {
            result.append(Self.date(fire))
            cursor = fire
        }
        return result
    }

    // MARK: - Whole-second evaluation

    /// The first fire instant after `instant`, when it lies in the supported range: near its ends a
    /// zone's wall clock is already outside it (9999-12-31 23:59:59 UTC is the year 10000 in Oslo).
    private func nextFire(after instant: Int, clock: ZoneClock) -> Int? {
        let fire: Int? = switch schedule {
        case .every(let interval):
            (instant.floorDivided(by: interval).quotient + 1) * interval
        case .calendar(let fields):
            fields.firstMatch(atOrAfter: CivilTime(localSeconds: clock.latestWallTime(firingAtOrBefore: instant) + 1))
                .map { clock.fireInstant(forWallTime: $0.localSeconds) }
        }
        return fire.flatMap(Self.supported)
    }

    /// The last fire instant before `instant`, when it lies in the supported range (see `nextFire`).
    private func previousFire(before instant: Int, clock: ZoneClock) -> Int? {
        let fire: Int? = switch schedule {
        case .every(let interval):
            (instant - 1).floorDivided(by: interval).quotient * interval
        case .calendar(let fields):
            fields.lastMatch(atOrBefore: CivilTime(localSeconds: clock.latestWallTime(firingAtOrBefore: instant - 1)))
                .map { clock.fireInstant(forWallTime: $0.localSeconds) }
        }
        return fire.flatMap(Self.supported)
    }

    private func clock(_ zone: TimeZone?) -> ZoneClock {
        ZoneClock(timeZone ?? zone)
    }

    private static func wholeSeconds(_ date: Date, rounding rule: FloatingPointRoundingRule) -> Int? {
        let seconds = date.timeIntervalSince1970.rounded(rule)
        guard seconds >= Double(supportedSeconds.lowerBound), seconds <= Double(supportedSeconds.upperBound) else {
            return nil
        }
        return Int(seconds)
    }

    /// `seconds` when it lies in the supported range, else nil.
    private static func supported(_ seconds: Int) -> Int? {
        supportedSeconds.contains(seconds) ? seconds : nil
    }

    private static func date(_ seconds: Int) -> Date {
        Date(timeIntervalSince1970: TimeInterval(seconds))
    }
}
