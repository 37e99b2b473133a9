import Foundation

/// docs/business-central.md as the fidelity tests read it: the table of deliberate differences
/// under "Coming from Business Central" and the table of counts under "Counts".
struct BusinessCentralDoc {
    /// One row of the differences table.
    struct Difference: CustomStringConvertible {
        /// A mapping's or schedule's name, or `*` for every one the difference applies to.
        var subject: String
        /// `local ↔ integration`, `*` for every field, or nil for the mapping itself (`—`).
        var field: String?
        var setting: String
        var businessCentral: String
        var couplet: String
        var reason: String

        var description: String { "\(subject) | \(field ?? "—") | \(setting)" }

        /// Whether this row documents `comparison`.
        func covers(_ comparison: SettingComparison) -> Bool {
            guard setting == comparison.setting, subject == "*" || subject == comparison.subject else { return false }
            return field == "*" ? comparison.field != nil : field == comparison.field
        }

        /// Whether the row names one setting, so its values can be checked.
        var isSpecific: Bool { subject != "*" && field != "*" }
    }

    let differences: [Difference]
    /// The counts table: label → the number in its last column.
    let counts: [String: Int]

    /// Reads the repository's docs/business-central.md.
    static func read() throws -> BusinessCentralDoc {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appending(path: "docs/business-central.md").path
        return BusinessCentralDoc(markdown: try String(contentsOfFile: path, encoding: .utf8))
    }

    init(markdown: String) {
        let lines = markdown.components(separatedBy: "\n")
        differences = Self.table(after: "## Coming from Business Central", in: lines).compactMap { cells in
            guard cells.count == 6 else { return nil }
            return Difference(
                subject: cells[0], field: cells[1] == "—" || cells[1].isEmpty ? nil : cells[1], setting: cells[2],
                businessCentral: cells[3], couplet: cells[4], reason: cells[5])
        }
        counts = Dictionary(
            Self.table(after: "## Counts", in: lines).compactMap { cells in cells.last.flatMap(Int.init).map { (cells[0], $0) } },
            uniquingKeysWith: { first, _ in first })
    }

    /// The body rows of the first table after the line `heading`, as trimmed cells without backticks.
    private static func table(after heading: String, in lines: [String]) -> [[String]] {
        guard let start = lines.firstIndex(of: heading) else { return [] }
        let rows = lines[(start + 1)...].drop { !$0.hasPrefix("|") }.prefix { $0.hasPrefix("|") }
        return rows.dropFirst(2).map { line in
            line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast()
                .map { $0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "`", with: "") }
        }
    }
}
