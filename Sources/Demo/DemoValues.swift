import Foundation
import Postgres

/// A calendar day, counted in days since 1970-01-01 (proleptic Gregorian, no time zone): the
/// demo data's dates are days relative to the day it is generated for.
public struct DemoDay: Sendable, Hashable, Comparable {
    /// Days since 1970-01-01.
    public let daysSinceEpoch: Int

    /// The day `daysSinceEpoch` days after 1970-01-01.
    public init(daysSinceEpoch: Int) {
        self.daysSinceEpoch = daysSinceEpoch
    }

    /// The UTC day that `date` falls on.
    public init(_ date: Date) {
        daysSinceEpoch = Int((date.timeIntervalSince1970 / 86_400).rounded(.down))
    }

    /// The day `days` later (earlier when negative).
    func adding(_ days: Int) -> DemoDay { DemoDay(daysSinceEpoch: daysSinceEpoch + days) }

    /// `yyyy-MM-dd`, as PostgreSQL's `date` reads it.
    public var text: String { PostgresDate(daysSinceEpoch: daysSinceEpoch).text }

    public static func < (left: DemoDay, right: DemoDay) -> Bool { left.daysSinceEpoch < right.daysSinceEpoch }
}

/// A day binds as a `date`.
extension DemoDay: PostgresEncodable {
    public static var postgresType: PostgresDataType { .date }
    public var postgresText: String? { text }
}

/// An amount in hundredths (cents), written as `numeric` text: exact, unlike a `Double`.
struct Money: Sendable, Hashable, Comparable, AdditiveArithmetic {
    /// The amount in hundredths.
    var cents: Int

    static let zero = Money(cents: 0)

    /// `whole` units.
    init(_ whole: Int) { cents = whole * 100 }

    /// An amount of `cents` hundredths.
    init(cents: Int) { self.cents = cents }

    /// `count` of this amount.
    func times(_ count: Int) -> Money { Money(cents: cents * count) }

    /// This amount scaled by `percent` / 100, rounded to the cent.
    func percent(_ percent: Int) -> Money { Money(cents: (cents * percent + (cents >= 0 ? 50 : -50)) / 100) }

    static func + (left: Money, right: Money) -> Money { Money(cents: left.cents + right.cents) }
    static func - (left: Money, right: Money) -> Money { Money(cents: left.cents - right.cents) }
    static prefix func - (amount: Money) -> Money { Money(cents: -amount.cents) }
    static func < (left: Money, right: Money) -> Bool { left.cents < right.cents }
}

/// An amount binds as `numeric` text with two decimals.
extension Money: PostgresEncodable {
    static var postgresType: PostgresDataType { .numeric }
    var postgresText: String? { decimalText(cents, places: 2) }
}

/// A physical quantity in thousandths of its unit (an item's volume in m³, its weight in kg),
/// written as `numeric` text: exact, unlike a `Double`.
struct Measure: Sendable, Hashable {
    /// The quantity in thousandths.
    var thousandths: Int

    static let zero = Measure(thousandths: 0)
}

/// A measure binds as `numeric` text with three decimals.
extension Measure: PostgresEncodable {
    static var postgresType: PostgresDataType { .numeric }
    var postgresText: String? { decimalText(thousandths, places: 3) }
}

/// `units` as a decimal with `places` digits after the point: `decimalText(-105, places: 2)` is `-1.05`.
private func decimalText(_ units: Int, places: Int) -> String {
    let digits = String(abs(units)).leftPadded(to: places + 1)
    return "\(units < 0 ? "-" : "")\(digits.dropLast(places)).\(digits.suffix(places))"
}
