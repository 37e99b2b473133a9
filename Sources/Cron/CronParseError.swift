/// Why a cron expression was rejected, and where.
///
/// Every rejection names the problem in plain words (which field, which value,
/// which range is allowed) and points at the character where the problem starts,
/// so a user can fix a schedule without reading the parser.
public struct CronParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, e.g. `minute value 61 is out of range 0-59`.
    public var message: String
    /// The 1-based character offset into `input` where the problem starts.
    /// It may be `input.count + 1` when something is missing at the end.
    public var position: Int
    /// The complete text that was parsed.
    public var input: String

    /// Creates an error for `input`, pointing at the 1-based character `position`.
    public init(message: String, position: Int, input: String) {
        self.message = message
        self.position = position
        self.input = input
    }

    /// A one-line report, e.g.
    /// `invalid cron expression "61 * * * *" at character 1: minute value 61 is out of range 0-59`.
    public var description: String {
        "invalid cron expression \"\(input)\" at character \(position): \(message)"
    }
}
