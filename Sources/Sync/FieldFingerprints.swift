import Foundation

/// What each mapped column of one side of a coupled pair held when the pair was last synced, as a
/// fingerprint of its text: enough to tell, field by field, whether that side changed since,
/// without keeping a copy of the data. The `merge` update-conflict policy decides with it.
///
/// A fingerprint is the 64-bit FNV-1a hash of the value's UTF-8 bytes, in hex (`-` for NULL). Two
/// different values share one with a probability of about 2⁻⁶⁴; the cost of that is a change
/// taken for no change (the field does not travel in that run), never a value overwritten.
public struct FieldFingerprints: Sendable, Equatable {
    /// The fingerprint of each column's value, by column.
    public private(set) var byColumn: [String: String]

    /// The fingerprints of these values.
    public init(_ values: FieldValues) {
        byColumn = values.mapValues(Self.fingerprint)
    }

    /// Whether `column` still holds the value it was fingerprinted with. A column without a
    /// fingerprint, or a value that was not read (`.none`), counts as changed.
    public func holds(_ value: String??, in column: String) -> Bool {
        guard let value, let stored = byColumn[column] else { return false }
        return stored == Self.fingerprint(value)
    }

    /// These fingerprints with `values` written over them.
    public func updating(_ values: FieldValues) -> FieldFingerprints {
        var result = self
        result.byColumn.merge(values.mapValues(Self.fingerprint)) { _, new in new }
        return result
    }

    /// The fingerprints as a JSON object, as stored in the coupling.
    public var json: String {
        let data = (try? JSONEncoder.sorted.encode(byColumn)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// The fingerprints stored as `json`; nil (nothing known, so every field counts as changed)
    /// when the text is not an object of strings.
    public init?(json: String) {
        guard let byColumn = try? JSONDecoder().decode([String: String].self, from: Data(json.utf8)) else { return nil }
        self.byColumn = byColumn
    }

    private static func fingerprint(_ value: String?) -> String {
        guard let value else { return "-" }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in value.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

private extension JSONEncoder {
    /// An encoder with sorted keys, so equal fingerprints store as equal text.
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return encoder
    }
}

/// Which mapped fields each record of a coupled pair changed since the pair was last synced, by
/// the pass's target column: the input of the `merge` update-conflict policy.
public struct FieldChanges: Sendable, Equatable {
    /// Target columns whose source field changed (or is not known not to have).
    public var source: Set<String>
    /// Target columns the target record changed (or is not known not to have).
    public var target: Set<String>

    /// The changes on each side.
    public init(source: Set<String> = [], target: Set<String> = []) {
        self.source = source
        self.target = target
    }
}
