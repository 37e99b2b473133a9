import Foundation
import Sync

/// How a property's values travel between the engine's text and an OData service's JSON — the
/// same for Dataverse attributes and Business Central properties.
enum ODataValueKind: Sendable, Equatable {
    /// Strings (Dataverse String, Memo, EntityName; Edm.String).
    case text
    /// JSON integers (Dataverse Integer, BigInt, Picklist, State, Status; Edm.Int32, Edm.Int64).
    case integer
    /// JSON numbers, kept as their exact text (Dataverse Decimal, Money, Double; Edm.Decimal, Edm.Double).
    case decimal
    /// Booleans.
    case boolean
    /// An ISO 8601 instant in UTC (Dataverse DateTime, whose DateOnly columns hold days; Edm.DateTimeOffset).
    case dateTime
    /// A day, `2026-12-07` (Edm.Date).
    case date
    /// A GUID as a string (Dataverse Uniqueidentifier; Edm.Guid).
    case guid
    /// A member of an enumeration, by name (Business Central's `NAV.customerBlocked`); any name when the list is empty.
    case enumeration(members: [String])
    /// A Dataverse lookup: read as `_<name>_value`, written as `<name>@odata.bind` to one of these tables.
    case lookup(targets: [String])
    /// A type Couplet does not carry (Virtual, PartyList, File, Image, a stream, a complex type …).
    case other(String)
}

extension ODataValueKind {
    /// Column `name` of this kind as the engine's compatibility rules compare columns: in PostgreSQL's terms.
    func catalogColumn(_ name: String) -> CatalogColumn {
        let (type, category): (String, TypeCategory) = switch self {
        case .text, .enumeration: ("text", .string)
        case .integer: ("bigint", .numeric)
        case .decimal: ("numeric", .numeric)
        case .boolean: ("boolean", .boolean)
        case .dateTime: ("timestamp with time zone", .dateTime)
        case .date: ("date", .dateTime)
        case .guid, .lookup: ("uuid", .other)
        case .other(let name): (name, .other)
        }
        return CatalogColumn(name: name, type: type, baseType: type, category: category)
    }
}

/// Values between the engine's text and an OData service's JSON, unchanged: a value that cannot
/// travel as it is fails its record, naming the column, and is never sent.
///
/// Reading gives the text a PostgreSQL endpoint in UTC gives the same value, so both sides of a
/// mapping compare alike: numbers as the service wrote them, booleans `true`/`false` (PostgreSQL's
/// `boolean::text`), instants `2026-12-07 10:00:00+00` (with the fraction when there is one), days
/// `2026-12-07`, GUIDs in lower case, enumeration members by name.
enum ODataValues {
    /// The text of a value as read.
    static func text(_ json: ODataJSON?, kind: ODataValueKind) -> String? {
        switch json {
        case nil, .null?: return nil
        case .bool(let value)?: return value ? "true" : "false"
        case .number(let text)?: return text
        case .string(let text)?:
            switch kind {
            case .dateTime: return instant(text).map(postgresText) ?? text
            case .guid, .lookup: return text.lowercased()
            default: return text
            }
        case .array?, .object?: return json?.jsonText
        }
    }

    /// The JSON of `text` for a property of `kind`, or the reason it cannot be written unchanged.
    static func json(_ text: String?, kind: ODataValueKind) -> Result<ODataJSON, ValueProblem> {
        guard let text else { return .success(.null) }
        switch kind {
        case .text: return .success(.string(text))
        case .integer:
            guard Int64(text) != nil else { return .failure(.init("the value is not a whole number")) }
            return .success(.number(text))
        case .decimal:
            guard isDecimal(text), let number = ODataJSON.number(exactly: text) else { return .failure(.init("the value is not a number")) }
            return .success(number)
        case .boolean:
            switch text.lowercased() {
            case "true", "t": return .success(.bool(true))
            case "false", "f": return .success(.bool(false))
            default: return .failure(.init("the value is not true or false"))
            }
        case .dateTime:
            if isDay(text) { return .success(.string(text)) }  // a DateOnly column's value
            guard let instant = instant(text) else { return .failure(.init("the value is neither a day nor an instant")) }
            return .success(.string(isoText(instant)))
        case .date:
            guard isDay(text) else { return .failure(.init("the value is not a day (yyyy-mm-dd)")) }
            return .success(.string(text))
        case .enumeration(let members):
            guard members.isEmpty || members.contains(text) else {
                return .failure(.init("the value is none of \(members.map { "\"\($0)\"" }.joined(separator: ", "))"))
            }
            return .success(.string(text))
        case .guid:
            guard UUID(uuidString: text) != nil else { return .failure(.init("the value is not a GUID")) }
            return .success(.string(text.lowercased()))
        case .lookup:
            return .failure(.init("a lookup is written through its binding"))
        case .other(let type):
            return .failure(.init("Couplet does not write properties of type \(type)"))
        }
    }

    /// Whether two texts are the same value of `kind` (`12.5` and `12.50` are, as in a numeric column).
    static func same(_ current: String?, _ expected: String?, kind: ODataValueKind) -> Bool {
        guard let current, let expected else { return current == expected }
        switch kind {
        case .decimal, .integer:
            return Decimal(string: current) == Decimal(string: expected) && Decimal(string: current) != nil
        case .dateTime:
            return instant(current) == instant(expected)
        case .guid, .lookup:
            return current.lowercased() == expected.lowercased()
        case .boolean:
            return (try? json(current, kind: .boolean).get()) == (try? json(expected, kind: .boolean).get())
        case .text, .date, .enumeration, .other:
            return current == expected
        }
    }

    /// Why a value cannot be written unchanged.
    struct ValueProblem: Error, Sendable {
        let reason: String
        init(_ reason: String) { self.reason = reason }
    }

    /// A decimal number as text: sign, digits, an optional fraction; no exponent, no spaces.
    private static func isDecimal(_ text: String) -> Bool {
        var rest = Substring(text)
        if rest.first == "-" || rest.first == "+" { rest = rest.dropFirst() }
        let parts = rest.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !(parts.first?.isEmpty ?? true) else { return false }
        return parts.allSatisfy { part in !part.isEmpty && part.allSatisfy { $0.isASCII && $0.isNumber } }
    }

    /// Whether `text` is a day, `2026-12-07`, as a DateOnly column holds it.
    static func isDay(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        return parts.map(\.count) == [4, 2, 2] && parts.allSatisfy { $0.allSatisfy { $0.isASCII && $0.isNumber } }
    }

    /// The instant `text` names: ISO 8601 (`2026-12-07T10:00:00Z`, with a fraction or an offset) or
    /// PostgreSQL's output (`2026-12-07 10:00:00+00`, `…:00.5+01:30`).
    static func instant(_ text: String) -> Date? {
        var normal = text.replacingOccurrences(of: " ", with: "T")
        if let sign = normal.lastIndex(where: { $0 == "+" || $0 == "-" }), sign > normal.index(normal.startIndex, offsetBy: min(10, normal.count)) {
            let offset = normal[normal.index(after: sign)...]
            if offset.count == 2 { normal += ":00" }
        }
        let withFraction = ISO8601DateFormatter()
        withFraction.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        return withFraction.date(from: normal) ?? plain.date(from: normal)
    }

    /// `instant` as PostgreSQL prints a timestamptz in UTC: `2026-12-07 10:00:00+00`, microseconds when not whole.
    static func postgresText(_ instant: Date) -> String {
        let micros = Int64((instant.timeIntervalSince1970 * 1_000_000).rounded())
        let seconds = Int64((Double(micros) / 1_000_000).rounded(.down))
        let fraction = micros - seconds * 1_000_000
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        var text = formatter.string(from: Date(timeIntervalSince1970: Double(seconds)))
        if fraction > 0 {
            var digits = String(fraction)
            digits = String(repeating: "0", count: 6 - digits.count) + digits
            while digits.hasSuffix("0") { digits.removeLast() }
            text += "." + digits
        }
        return text + "+00"
    }

    /// `instant` as an OData `DateTimeOffset` literal in UTC, to the microsecond.
    static func isoText(_ instant: Date) -> String {
        postgresText(instant).replacingOccurrences(of: " ", with: "T").replacingOccurrences(of: "+00", with: "Z")
    }

    /// A GUID that only `token` gives (FNV-1a, twice, with different offsets): the key of the
    /// record Couplet creates for a source record, the same on every attempt, so a retried create
    /// finds its own record (and a key taken by anyone else fails the record, never overwrites it).
    static func guid(for token: String) -> String {
        func fnv(_ basis: UInt64) -> UInt64 {
            var hash = basis
            for byte in token.utf8 {
                hash ^= UInt64(byte)
                hash = hash &* 0x100_0000_01b3
            }
            return hash
        }
        let (high, low) = (fnv(0xcbf2_9ce4_8422_2325), fnv(0x8422_2325_cbf2_9ce4 ^ UInt64(token.utf8.count)))
        var bytes = withUnsafeBytes(of: high.bigEndian, Array.init) + withUnsafeBytes(of: low.bigEndian, Array.init)
        bytes[6] = (bytes[6] & 0x0f) | 0x80  // version 8: custom
        bytes[8] = (bytes[8] & 0x3f) | 0x80  // RFC 4122 variant
        let hex = bytes.map { String(format: "%02x", $0) }.joined()
        let parts = [hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4), hex.dropFirst(20)]
        return parts.joined(separator: "-")
    }
}
