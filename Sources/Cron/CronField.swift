/// A set of small integers (0...63) kept as bits, so that "the next member at or
/// after v" is a mask and a count of trailing zeros.
struct CronBitSet: Hashable, Sendable, Sequence {
    private(set) var bits: UInt64

    init(bits: UInt64 = 0) {
        self.bits = bits
    }

    /// The members `lower`, `lower + step`, ... up to and including `upper` (all within 0...63).
    init(from lower: Int, through upper: Int, step: Int = 1) {
        bits = 0
        for value in stride(from: lower, through: upper, by: step) {
            insert(value)
        }
    }

    /// All members of `lower...upper`, built without a loop.
    static func range(_ lower: Int, _ upper: Int) -> CronBitSet {
        guard lower <= upper else { return CronBitSet() }
        return CronBitSet(bits: (UInt64.max >> UInt64(63 - upper)) & (UInt64.max << UInt64(lower)))
    }

    var isEmpty: Bool { bits == 0 }

    func contains(_ value: Int) -> Bool {
        (0..<64).contains(value) && bits & (1 << UInt64(value)) != 0
    }

    mutating func insert(_ value: Int) {
        bits |= 1 << UInt64(value)
    }

    mutating func formUnion(_ other: CronBitSet) {
        bits |= other.bits
    }

    func union(_ other: CronBitSet) -> CronBitSet {
        var result = self
        result.formUnion(other)
        return result
    }

    /// The members that are also in `other`.
    func intersection(_ other: CronBitSet) -> CronBitSet {
        CronBitSet(bits: bits & other.bits)
    }

    /// Visits the members in ascending order.
    func makeIterator() -> Iterator {
        Iterator(remaining: bits)
    }

    struct Iterator: IteratorProtocol {
        var remaining: UInt64

        mutating func next() -> Int? {
            guard remaining != 0 else { return nil }
            defer { remaining &= remaining - 1 }
            return remaining.trailingZeroBitCount
        }
    }

    /// The smallest member that is >= `value`, if any.
    func first(atOrAfter value: Int) -> Int? {
        guard value < 64 else { return nil }
        let candidates = bits & (UInt64.max << UInt64(Swift.max(value, 0)))
        return candidates == 0 ? nil : candidates.trailingZeroBitCount
    }

    /// The largest member that is <= `value`, if any.
    func last(atOrBefore value: Int) -> Int? {
        guard value >= 0 else { return nil }
        let candidates = bits & (UInt64.max >> UInt64(63 - Swift.min(value, 63)))
        return candidates == 0 ? nil : 63 - candidates.leadingZeroBitCount
    }
}

/// The six positional fields of a cron expression, with their bounds and names.
enum CronFieldKind: Sendable {
    case second, minute, hour, dayOfMonth, month, dayOfWeek

    /// The name used in error messages.
    var name: String {
        switch self {
        case .second: "second"
        case .minute: "minute"
        case .hour: "hour"
        case .dayOfMonth: "day-of-month"
        case .month: "month"
        case .dayOfWeek: "day-of-week"
        }
    }

    /// The values a number may take; day-of-week allows 7 as a second Sunday.
    var bounds: ClosedRange<Int> {
        switch self {
        case .second, .minute: 0...59
        case .hour: 0...23
        case .dayOfMonth: 1...31
        case .month: 1...12
        case .dayOfWeek: 0...7
        }
    }

    /// The largest useful step: the number of distinct values in the field.
    var maximumStep: Int {
        switch self {
        case .second, .minute: 60
        case .hour: 24
        case .dayOfMonth: 31
        case .month: 12
        case .dayOfWeek: 7
        }
    }

    /// Upper-case names and their values (JAN = 1, SUN = 0), for the fields that have them.
    var names: [String: Int] {
        switch self {
        case .month: Self.monthNames
        case .dayOfWeek: Self.weekdayNames
        default: [:]
        }
    }

    private static let monthNames = Dictionary(uniqueKeysWithValues: zip(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1...12))
    private static let weekdayNames = Dictionary(uniqueKeysWithValues: zip(
        ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], 0...6))
}
