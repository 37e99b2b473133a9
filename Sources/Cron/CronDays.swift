/// The day-of-month field: plain days plus the Quartz forms `L`, `L-n`, `LW` and `nW`.
struct DayOfMonthRule: Hashable, Sendable {
    /// Plain days, 1...31.
    var days = CronBitSet()
    /// `n` for each `L-n`; 0 for a bare `L` (the last day).
    var lastDayOffsets = CronBitSet()
    /// `LW`: the last weekday (Monday to Friday) of the month.
    var lastWeekday = false
    /// `n` for each `nW`: the weekday nearest day `n`, within the same month.
    var nearestWeekdays = CronBitSet()

    /// The matching days of a month with `length` days whose 1st falls on `firstWeekday` (0 = Sunday).
    func days(inMonthOfLength length: Int, firstWeekday: Int) -> CronBitSet {
        var result = days.intersection(.range(1, length))
        for offset in lastDayOffsets where offset < length {
            result.insert(length - offset)
        }
        if lastWeekday {
            result.insert(Self.weekday(nearest: length, length: length, firstWeekday: firstWeekday))
        }
        for day in nearestWeekdays where day <= length {
            result.insert(Self.weekday(nearest: day, length: length, firstWeekday: firstWeekday))
        }
        return result
    }

    /// Quartz `W`: a Saturday moves to Friday and a Sunday to Monday, except that the
    /// move never leaves the month (Saturday the 1st -> Monday the 3rd, Sunday the
    /// last -> the Friday before).
    static func weekday(nearest day: Int, length: Int, firstWeekday: Int) -> Int {
        switch (firstWeekday + day - 1) % 7 {
        case 6: day == 1 ? day + 2 : day - 1
        case 0: day == length ? day - 2 : day + 1
        default: day
        }
    }
}

/// The day-of-week field: plain weekdays plus the Quartz forms `d#n` and `dL`.
struct DayOfWeekRule: Hashable, Sendable {
    /// Plain weekdays, 0 (Sunday) ... 6 (Saturday); 7 in the text is stored as 0.
    var weekdays = CronBitSet()
    /// `weekday * 8 + n` for each `weekday#n` (the n-th such weekday of the month, n in 1...5).
    var nthWeekdays = CronBitSet()
    /// Weekdays written as `dL`: the last such weekday of the month.
    var lastWeekdays = CronBitSet()

    /// The matching days of a month with `length` days whose 1st falls on `firstWeekday` (0 = Sunday).
    func days(inMonthOfLength length: Int, firstWeekday: Int) -> CronBitSet {
        var firstWeek = CronBitSet()
        for offset in 0..<7 where weekdays.contains((firstWeekday + offset) % 7) {
            firstWeek.insert(offset + 1)
        }
        // Days 1-7 repeat every 7 days; the five shifted copies cannot overlap, so multiplying ORs them.
        let fiveWeeks: UInt64 = 1 | 1 << 7 | 1 << 14 | 1 << 21 | 1 << 28
        var result = CronBitSet(bits: firstWeek.bits &* fiveWeeks).intersection(.range(1, length))
        for code in nthWeekdays {
            let day = 1 + (code / 8 - firstWeekday + 7) % 7 + 7 * (code % 8 - 1)
            if day <= length {
                result.insert(day)
            }
        }
        let lastDayWeekday = (firstWeekday + length - 1) % 7
        for weekday in lastWeekdays {
            result.insert(length - (lastDayWeekday - weekday + 7) % 7)
        }
        return result
    }
}

/// Which days of a month match, combining the two day fields by the Vixie rule:
/// a field written as `*` or `?` is `nil` and places no restriction; when both are
/// restricted a day matches if EITHER matches.
struct DayRule: Hashable, Sendable {
    var dayOfMonth: DayOfMonthRule?
    var dayOfWeek: DayOfWeekRule?

    func days(year: Int, month: Int) -> CronBitSet {
        days(inMonthOfLength: Gregorian.daysInMonth(year: year, month: month),
             firstWeekday: Gregorian.weekday(year: year, month: month, day: 1))
    }

    func days(inMonthOfLength length: Int, firstWeekday: Int) -> CronBitSet {
        switch (dayOfMonth, dayOfWeek) {
        case (nil, nil):
            .range(1, length)
        case let (monthDays?, nil):
            monthDays.days(inMonthOfLength: length, firstWeekday: firstWeekday)
        case let (nil, weekDays?):
            weekDays.days(inMonthOfLength: length, firstWeekday: firstWeekday)
        case let (monthDays?, weekDays?):
            monthDays.days(inMonthOfLength: length, firstWeekday: firstWeekday)
                .union(weekDays.days(inMonthOfLength: length, firstWeekday: firstWeekday))
        }
    }
}
