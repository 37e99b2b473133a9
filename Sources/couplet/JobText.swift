import CommandSupport
import Cron
import Foundation

/// A span of whole seconds written the way people type it on a command line: `30s`, `5m`, `1h30m`, `2d`.
struct JobDuration: Sendable, Equatable, CustomStringConvertible {
    /// The length in seconds.
    let seconds: Int

    /// Seconds per unit, largest first; a duration names each unit at most once, in this order.
    private static let units: [(symbol: Character, seconds: Int)] = [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)]

    /// Wraps a number of seconds.
    init(seconds: Int) { self.seconds = seconds }

    /// Parses `30s`, `5m`, `1h30m`, `2d`, …; the error says what a duration looks like.
    init(parsing text: String) throws(JobDurationError) {
        var total = 0
        var digits = ""
        var remaining = Self.units[...]
        for character in text {
            if character.isASCII, character.isNumber {
                digits.append(character)
                continue
            }
            guard !digits.isEmpty, let index = remaining.firstIndex(where: { $0.symbol == character }),
                let amount = Int(digits)
            else { throw JobDurationError(text: text) }
            let (product, overflow) = amount.multipliedReportingOverflow(by: remaining[index].seconds)
            guard !overflow, product <= Self.longest - total else { throw JobDurationError(text: text) }
            total += product
            digits = ""
            remaining = remaining[(index + 1)...]
        }
        guard digits.isEmpty, remaining.count < Self.units.count else { throw JobDurationError(text: text) }
        seconds = total
    }

    /// The longest duration accepted, as for every duration Couplet reads.
    private static let longest = Int(Duration.longestParsed.components.seconds)

    /// The largest unit and the next one when it is not zero, e.g. `45s`, `12m`, `3h5m`, `2d4h`; `0s` for nothing.
    var description: String {
        let value = abs(seconds)
        guard let first = Self.units.firstIndex(where: { value >= $0.seconds }) else { return "0s" }
        let unit = Self.units[first]
        var text = "\(value / unit.seconds)\(unit.symbol)"
        if first + 1 < Self.units.count {
            let next = Self.units[first + 1]
            let rest = value % unit.seconds / next.seconds
            if rest > 0 { text += "\(rest)\(next.symbol)" }
        }
        return text
    }
}

/// The text given for a duration is not one.
struct JobDurationError: Error, CustomStringConvertible {
    /// What was given.
    let text: String

    /// Says what a duration looks like.
    var description: String {
        "\"\(text)\" is not a duration: write whole numbers with units d, h, m, s, largest first, such as 30s, 5m, 1h30m or 2d"
    }
}

/// How long ago, or how far ahead, a moment is: `now`, `5m ago`, `in 2h`.
enum RelativeTime {
    /// Describes an offset in seconds from now: negative is past, positive is future.
    static func describe(secondsFromNow offset: Double) -> String {
        guard abs(offset) >= 1 else { return "now" }
        let span = JobDuration(seconds: Int(abs(offset)))
        return offset > 0 ? "in \(span)" : "\(span) ago"
    }

    /// A timestamp in ISO 8601 (UTC) followed by its distance from `now`, or `-` when absent.
    static func moment(_ date: Date?, now: Date) -> String {
        guard let date else { return "-" }
        return "\(date.formatted(.iso8601))  (\(describe(secondsFromNow: date.timeIntervalSince(now))))"
    }
}

/// A plain-text table: a header row and rows of cells, columns padded to their widest cell.
struct TextTable {
    /// The column titles.
    var header: [String]
    /// The rows; each has one cell per column.
    var rows: [[String]] = []

    /// The lines to print, columns separated by two spaces; the last column is not padded.
    /// `style` may wrap each padded cell (row 0 is the header), in colour say: widths count the text only.
    func lines(
        indent: String = "", style: (_ row: Int, _ column: Int, _ cell: String) -> String = { _, _, cell in cell }
    ) -> [String] {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.enumerated().map { row, cells in
            let padded = cells.enumerated().map { index, cell in
                style(row, index, index == cells.count - 1 ? cell : cell.padded(to: widths[index]))
            }
            return indent + padded.joined(separator: "  ")
        }
    }
}

/// A command that could not do what was asked, for a reason the user can act on; printed as is.
struct CommandFailure: Error, CustomStringConvertible {
    /// The message, already phrased for a person.
    let description: String
}

extension String {
    /// The string on one line (line breaks become spaces) and cut to `limit` characters with an ellipsis.
    func oneLine(limit: Int) -> String {
        let flat = split(whereSeparator: \.isNewline).joined(separator: " ")
        return flat.count <= limit ? flat : String(flat.prefix(limit - 1)) + "…"
    }
}
