/// What a parsed expression means, independent of time zones.
enum CronSchedule: Hashable, Sendable {
    /// Fire at the wall-clock times matched by the fields.
    case calendar(CronFields)
    /// Fire every `seconds` seconds, at multiples of `seconds` since the Unix epoch.
    case every(seconds: Int)
}

/// The six fields of an expression, precomputed as bit sets, and the wall-clock search over them.
///
/// The search jumps field by field: to the next matching month, then the next
/// matching day of that month, then hour, minute and second. A unit with no match
/// left carries into the next larger unit by pushing it out of range (hour 24, day 32,
/// month 13), which then finds no match either and carries again.
struct CronFields: Hashable, Sendable {
    var seconds: CronBitSet
    var minutes: CronBitSet
    var hours: CronBitSet
    var days: DayRule
    var months: CronBitSet
    /// Whether any day of any year matches. The Gregorian calendar repeats every 400
    /// years, so a search that spans 400 years without a match can stop.
    let canEverFire: Bool

    /// The number of years a search may span; see `canEverFire`.
    static let searchYears = 400

    init(seconds: CronBitSet, minutes: CronBitSet, hours: CronBitSet, days: DayRule, months: CronBitSet) {
        self.seconds = seconds
        self.minutes = minutes
        self.hours = hours
        self.days = days
        self.months = months
        canEverFire = Self.anyDayMatches(days, in: months)
    }

    /// A month's matching days depend only on the month's length and the weekday of its
    /// 1st, and every month of every length occurs starting on every weekday, so
    /// checking those combinations decides whether the expression can ever fire.
    private static func anyDayMatches(_ days: DayRule, in months: CronBitSet) -> Bool {
        months.contains { month in
            let lengths = month == 2 ? [28, 29] : [Gregorian.daysInMonth(year: 2001, month: month)]
            return lengths.contains { length in
                (0..<7).contains { !days.days(inMonthOfLength: length, firstWeekday: $0).isEmpty }
            }
        }
    }

    /// The earliest matching wall-clock time at or after `start`, or nil if there is none
    /// within `searchYears` years.
    func firstMatch(atOrAfter start: CivilTime) -> CivilTime? {
        guard canEverFire else { return nil }
        var time = start
        while time.year <= start.year + Self.searchYears {
            guard let month = months.first(atOrAfter: time.month) else {
                time = CivilTime(year: time.year + 1, month: 1, day: 1)
                continue
            }
            if month != time.month {
                time = CivilTime(year: time.year, month: month, day: 1)
            }
            guard let day = days.days(year: time.year, month: month).first(atOrAfter: time.day) else {
                time = CivilTime(year: time.year, month: month + 1, day: 1)
                continue
            }
            if day != time.day {
                time = CivilTime(year: time.year, month: month, day: day)
            }
            guard let hour = hours.first(atOrAfter: time.hour) else {
                time = CivilTime(year: time.year, month: month, day: day + 1)
                continue
            }
            if hour != time.hour {
                time = CivilTime(year: time.year, month: month, day: day, hour: hour)
            }
            guard let minute = minutes.first(atOrAfter: time.minute) else {
                time = CivilTime(year: time.year, month: month, day: day, hour: hour + 1)
                continue
            }
            if minute != time.minute {
                time = CivilTime(year: time.year, month: month, day: day, hour: hour, minute: minute)
            }
            guard let second = seconds.first(atOrAfter: time.second) else {
                time = CivilTime(year: time.year, month: month, day: day, hour: hour, minute: minute + 1)
                continue
            }
            time.second = second
            return time
        }
        return nil
    }

    /// The latest matching wall-clock time at or before `start`, or nil if there is none
    /// within `searchYears` years.
    func lastMatch(atOrBefore start: CivilTime) -> CivilTime? {
        guard canEverFire else { return nil }
        var time = start
        while time.year >= start.year - Self.searchYears {
            guard let month = months.last(atOrBefore: time.month) else {
                time = Self.endOfDay(year: time.year - 1, month: 12, day: 31)
                continue
            }
            if month != time.month {
                time = Self.endOfDay(year: time.year, month: month, day: 31)
            }
            guard let day = days.days(year: time.year, month: month).last(atOrBefore: time.day) else {
                time = Self.endOfDay(year: time.year, month: month - 1, day: 31)
                continue
            }
            if day != time.day {
                time = Self.endOfDay(year: time.year, month: month, day: day)
            }
            guard let hour = hours.last(atOrBefore: time.hour) else {
                time = Self.endOfDay(year: time.year, month: month, day: day - 1)
                continue
            }
            if hour != time.hour {
                time = CivilTime(year: time.year, month: month, day: day, hour: hour, minute: 59, second: 59)
            }
            guard let minute = minutes.last(atOrBefore: time.minute) else {
                time = CivilTime(year: time.year, month: month, day: day, hour: hour - 1, minute: 59, second: 59)
                continue
            }
            if minute != time.minute {
                time = CivilTime(year: time.year, month: month, day: day, hour: hour, minute: minute, second: 59)
            }
            guard let second = seconds.last(atOrBefore: time.second) else {
                time = CivilTime(year: time.year, month: month, day: day, hour: hour, minute: minute - 1, second: 59)
                continue
            }
            time.second = second
            return time
        }
        return nil
    }

    /// 23:59:59 on the given day. `day` may exceed the month's length; the day search
    /// then simply finds the month's last matching day.
    private static func endOfDay(year: Int, month: Int, day: Int) -> CivilTime {
        CivilTime(year: year, month: month, day: day, hour: 23, minute: 59, second: 59)
    }
}
