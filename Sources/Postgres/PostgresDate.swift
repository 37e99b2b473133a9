/// A calendar day without a time zone, bound as `date`: days since 1970-01-01 (proleptic Gregorian).
public struct PostgresDate: Sendable, Hashable, Comparable, PostgresEncodable {
    /// Days since 1970-01-01.
    public let daysSinceEpoch: Int

    /// The day `daysSinceEpoch` days after 1970-01-01.
    public init(daysSinceEpoch: Int) {
        self.daysSinceEpoch = daysSinceEpoch
    }

    /// `YYYY-MM-DD`, as PostgreSQL's `date` reads it.
    public var text: String {
        let (year, month, day) = PostgresTimestamp.civilDate(fromDaysSinceEpoch: Int64(daysSinceEpoch))
        return PostgresTimestamp.padded(year, 4) + "-" + PostgresTimestamp.padded(month, 2) + "-" + PostgresTimestamp.padded(day, 2)
    }

    /// Whether `left` comes before `right`.
    public static func < (left: PostgresDate, right: PostgresDate) -> Bool { left.daysSinceEpoch < right.daysSinceEpoch }

    public static var postgresType: PostgresDataType { .date }
    public var postgresText: String? { text }
}
