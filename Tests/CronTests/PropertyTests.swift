import Foundation
import Testing
@testable import Cron

/// SplitMix64: a small seeded generator, so every run checks the same expressions.
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}

/// How the generator writes one field.
struct FieldShape {
    let bounds: ClosedRange<Int>
    /// Names for `bounds.lowerBound...`, or empty.
    var names: [String] = []
    /// Chance in percent that the field is a plain `*`.
    let wildcardPercent: Int
}

/// A generated field and, worked out by the generator itself rather than the parser, the values it means.
struct GeneratedField {
    var text: String
    var values: Set<Int>
    var isWildcard: Bool
}

/// A random five-field expression and an independent oracle for it.
struct GeneratedExpression {
    let minute, hour, dayOfMonth, month, dayOfWeek: GeneratedField

    static let shapes = (
        minute: FieldShape(bounds: 0...59, wildcardPercent: 10),
        hour: FieldShape(bounds: 0...23, wildcardPercent: 40),
        dayOfMonth: FieldShape(bounds: 1...31, wildcardPercent: 60),
        month: FieldShape(bounds: 1...12, names: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], wildcardPercent: 75),
        dayOfWeek: FieldShape(bounds: 0...7, names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], wildcardPercent: 60))

    init(using random: inout SeededRandom) {
        minute = Self.field(Self.shapes.minute, &random)
        hour = Self.field(Self.shapes.hour, &random)
        dayOfMonth = Self.field(Self.shapes.dayOfMonth, &random)
        month = Self.field(Self.shapes.month, &random)
        var weekdays = Self.field(Self.shapes.dayOfWeek, &random)
        if weekdays.values.remove(7) != nil {
            weekdays.values.insert(0)
        }
        dayOfWeek = weekdays
    }

    var text: String {
        [minute, hour, dayOfMonth, month, dayOfWeek].map(\.text).joined(separator: " ")
    }

    /// Whether a day matches: month, then the two day fields by the Vixie OR rule.
    func dayMatches(month: Int, day: Int, weekday: Int) -> Bool {
        guard self.month.values.contains(month) else { return false }
        switch (dayOfMonth.isWildcard, dayOfWeek.isWildcard) {
        case (true, true): return true
        case (true, false): return dayOfWeek.values.contains(weekday)
        case (false, true): return dayOfMonth.values.contains(day)
        case (false, false): return dayOfMonth.values.contains(day) || dayOfWeek.values.contains(weekday)
        }
    }

    private static func field(_ shape: FieldShape, _ random: inout SeededRandom) -> GeneratedField {
        if Int.random(in: 0..<100, using: &random) < shape.wildcardPercent {
            return GeneratedField(text: "*", values: Set(shape.bounds), isWildcard: true)
        }
        let items = (0..<Int.random(in: 1...3, using: &random)).map { _ in item(shape, &random) }
        return GeneratedField(text: items.map(\.text).joined(separator: ","),
                              values: items.reduce(into: Set<Int>()) { $0.formUnion($1.values) },
                              isWildcard: false)
    }

    private static func item(_ shape: FieldShape, _ random: inout SeededRandom) -> (text: String, values: Set<Int>) {
        let low = shape.bounds.lowerBound, high = shape.bounds.upperBound
        let a = Int.random(in: shape.bounds, using: &random)
        let b = Int.random(in: a...high, using: &random)
        let step = Int.random(in: 1...max(1, (high - low) / 3), using: &random)
        switch Int.random(in: 0..<5, using: &random) {
        case 0:
            return (name(a, shape, &random), [a])
        case 1:
            return ("\(name(a, shape, &random))-\(name(b, shape, &random))", Set(a...b))
        case 2:
            return ("\(name(a, shape, &random))-\(name(b, shape, &random))/\(step)", Set(stride(from: a, through: b, by: step)))
        case 3:
            return ("*/\(step)", Set(stride(from: low, through: high, by: step)))
        default:
            return ("\(name(a, shape, &random))/\(step)", Set(stride(from: a, through: high, by: step)))
        }
    }

    /// A value as a number or, sometimes, as a name in random case.
    private static func name(_ value: Int, _ shape: FieldShape, _ random: inout SeededRandom) -> String {
        let index = value - shape.bounds.lowerBound
        guard shape.names.indices.contains(index), Bool.random(using: &random) else { return "\(value)" }
        return Bool.random(using: &random) ? shape.names[index] : shape.names[index].lowercased()
    }
}

/// Brute-force fire instants, minute by minute, computed with Foundation's calendar.
/// Exact for zones whose offsets are whole hours and change on the hour (UTC, Europe/Oslo).
struct BruteForce {
    let expression: GeneratedExpression
    let zone: TimeZone
    let calendar: Calendar

    init(_ expression: GeneratedExpression, zone: TimeZone) {
        self.expression = expression
        self.zone = zone
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        self.calendar = calendar
    }

    /// The fire instants in the UTC hour starting at `hourStart` (seconds since the epoch):
    /// none in a repeated hour; the matching minutes otherwise; plus the hour's start if
    /// it ends a skipped hour in which something matched.
    func fires(inHourStarting hourStart: Int) -> [Int] {
        let now = Date(timeIntervalSince1970: TimeInterval(hourStart))
        let offset = zone.secondsFromGMT(for: now)
        let offsetBefore = zone.secondsFromGMT(for: now.addingTimeInterval(-3600))
        if offsetBefore > offset {
            return []
        }
        let parts = calendar.dateComponents([.month, .day, .hour, .weekday], from: now)
        guard expression.dayMatches(month: parts.month!, day: parts.day!, weekday: parts.weekday! - 1) else { return [] }
        var minutes = expression.hour.values.contains(parts.hour!) ? expression.minute.values : []
        if offset > offsetBefore, expression.hour.values.contains(parts.hour! - 1) {
            minutes.insert(0)
        }
        return minutes.map { hourStart + $0 * 60 }
    }

    /// Whether any fire instant lies strictly between `low` and `high`.
    func anyFire(after low: Int, before high: Int) -> Bool {
        stride(from: low.floorDivided(by: 3600).quotient * 3600, to: high, by: 3600).contains { hour in
            fires(inHourStarting: hour).contains { $0 > low && $0 < high }
        }
    }

    func isFire(_ instant: Int) -> Bool {
        fires(inHourStarting: instant.floorDivided(by: 3600).quotient * 3600).contains(instant)
    }
}

@Suite("Properties of next/previous on random expressions")
struct PropertyTests {
    static let expressionCount = 300
    static let bruteForceWindow = 3 * 86_400
    /// Europe/Oslo transitions near which many start instants are placed.
    static let osloTransitions = [1_711_846_800, 1_729_990_800, 1_743_296_400, 1_761_440_400, 1_774_746_000, 1_792_890_000]

    @Test("next/previous agree with a minute-by-minute brute force in UTC and Europe/Oslo")
    func agreesWithBruteForce() {
        var random = SeededRandom(seed: 20_250_330)
        var bruteForced = 0
        for _ in 0..<Self.expressionCount {
            let generated = GeneratedExpression(using: &random)
            let expression = cron(generated.text)
            for zone in [utc, oslo] {
                let oracle = BruteForce(generated, zone: zone)
                for _ in 0..<2 {
                    let start = startInstant(nearTransitions: zone == oslo, &random)
                    bruteForced += check(expression, text: generated.text, oracle: oracle, start: start)
                }
            }
        }
        // Most generated expressions fire often enough to be brute-forced both ways.
        #expect(bruteForced > Self.expressionCount * 2)
    }

    /// Checks one start instant; returns how many directions were brute-forced.
    private func check(_ expression: CronExpression, text: String, oracle: BruteForce, start: Double) -> Int {
        let zone = oracle.zone
        let label = "\(text) in \(zone.identifier) around \(show(Date(timeIntervalSince1970: start)))"
        let t = Int(start.rounded(.down))
        var bruteForced = 0
        if let next = expression.next(after: Date(timeIntervalSince1970: start), in: zone) {
            let n = Int(next.timeIntervalSince1970)
            #expect(next.timeIntervalSince1970 > start, "\(label): next \(show(next)) is not after the start")
            #expect(expression.matches(next, in: zone), "\(label): next \(show(next)) does not match")
            #expect(oracle.isFire(n), "\(label): brute force says \(show(next)) is not a fire instant")
            if n - t <= Self.bruteForceWindow {
                bruteForced += 1
                #expect(!oracle.anyFire(after: t, before: n), "\(label): a fire between the start and next \(show(next))")
            }
            if let back = expression.previous(before: next, in: zone) {
                #expect(back.timeIntervalSince1970 <= start, "\(label): previous(before: next) \(show(back)) is after the start")
                #expect(expression.next(after: back, in: zone) == next, "\(label): next(after: previous(before: next)) differs")
            }
        } else {
            #expect(!oracle.anyFire(after: t, before: t + Self.bruteForceWindow), "\(label): next is nil but brute force fires")
        }
        if let previous = expression.previous(before: Date(timeIntervalSince1970: start), in: zone) {
            let p = Int(previous.timeIntervalSince1970)
            #expect(previous.timeIntervalSince1970 < start, "\(label): previous \(show(previous)) is not before the start")
            #expect(expression.matches(previous, in: zone), "\(label): previous \(show(previous)) does not match")
            #expect(oracle.isFire(p), "\(label): brute force says previous \(show(previous)) is not a fire instant")
            if t - p <= Self.bruteForceWindow {
                bruteForced += 1
                let end = Int(start.rounded(.up))
                #expect(!oracle.anyFire(after: p, before: end), "\(label): a fire between previous \(show(previous)) and the start")
            }
        }
        return bruteForced
    }

    /// A random instant in 2024-2030 with a fractional second, or within 2 or 36 hours of an Oslo transition.
    private func startInstant(nearTransitions: Bool, _ random: inout SeededRandom) -> Double {
        let fraction = Double(Int.random(in: 0..<4, using: &random)) / 4
        if nearTransitions, Bool.random(using: &random) {
            let transition = Self.osloTransitions.randomElement(using: &random)!
            let spread = Bool.random(using: &random) ? 7_200 : 129_600
            return Double(transition + Int.random(in: -spread...spread, using: &random)) + fraction
        }
        return Double(Int.random(in: 1_704_067_200..<1_925_000_000, using: &random)) + fraction
    }

    @Test("six-field expressions with Quartz forms round-trip through next/previous/fireTimes")
    func quartzRoundTrips() {
        var random = SeededRandom(seed: 7)
        let seconds = ["0", "*/15", "5,35", "10-20/5", "*"]
        let days = ["L", "L-2", "LW", "15W", "1W", "31W", "1,L", "*", "?", "10-20"]
        let weekdays = ["5L", "1#5", "mon#2", "0L,3#1", "*", "?", "mon-fri", "7"]
        for _ in 0..<300 {
            let text = [seconds.randomElement(using: &random)!, "\(Int.random(in: 0...59, using: &random))",
                        "*/\(Int.random(in: 1...12, using: &random))", days.randomElement(using: &random)!,
                        "*", weekdays.randomElement(using: &random)!].joined(separator: " ")
            let expression = cron(text)
            let zone = Bool.random(using: &random) ? oslo : newYork
            let start = Date(timeIntervalSince1970: Double(Int.random(in: 1_704_067_200..<1_925_000_000, using: &random)))
            let times = expression.fireTimes(after: start, count: 5, in: zone)
            #expect(times.count == 5, "\(text)")
            var cursor = start
            for time in times {
                #expect(time > cursor && expression.matches(time, in: zone), "\(text): \(show(time))")
                #expect(expression.previous(before: time, in: zone).map { $0 <= cursor } ?? true, "\(text): \(show(time))")
                cursor = time
            }
        }
    }
}
