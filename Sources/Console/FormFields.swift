import Foundation

/// The fields of an `application/x-www-form-urlencoded` body or a query string, bounded: at most
/// `maximumFields` fields, each value cut at `maximumValueLength` characters.
struct FormFields: Sendable {
    /// The most fields read.
    static let maximumFields = 32
    /// The longest value kept.
    static let maximumValueLength = 1_000
    /// The largest body read.
    static let maximumBodyBytes = 16_384

    private var values: [String: String] = [:]

    /// Parses `name=value&…`, `+` as a space and `%XX` escapes decoded; a field that does not decode is dropped.
    init(urlEncoded text: String) {
        for pair in text.split(separator: "&", omittingEmptySubsequences: true).prefix(Self.maximumFields) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decode(parts[0]) else { continue }
            let value = parts.count > 1 ? Self.decode(parts[1]) : ""
            if let value, values[name] == nil { values[name] = String(value.prefix(Self.maximumValueLength)) }
        }
    }

    /// Fields given directly.
    init(_ values: [String: String]) { self.values = values }

    /// The field's value, nil when absent.
    subscript(_ name: String) -> String? { values[name] }

    /// The field's value, nil when absent or empty.
    func nonEmpty(_ name: String) -> String? { values[name].flatMap { $0.isEmpty ? nil : $0 } }

    private static func decode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}
