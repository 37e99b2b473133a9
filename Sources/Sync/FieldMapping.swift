/// How field values are compared to decide whether the target already holds them.
public enum FieldComparison: String, Sendable, Equatable, CaseIterable {
    /// Same Unicode code points; NULL equals only NULL and differs from the empty string.
    case text
    /// Same number when both texts are numbers (`1.50` = `1.5` = `1.5e0`), else as `text`.
    case numeric
    /// Same instant when both texts are dates or date-times (`2025-03-30 01:00:00+02` =
    /// `2025-03-29T23:00:00Z`; text without an offset is UTC), else as `text`.
    case dateTime

    /// Whether `left` and `right` count as the same value.
    public func same(_ left: String?, _ right: String?) -> Bool {
        guard let left, let right else { return left == nil && right == nil }
        if Self.sameBytes(left, right) { return true }
        switch self {
        case .text: return false
        case .numeric: return DecimalText.sameNumber(left, right)
        case .dateTime: return Self.sameInstant(left, right)
        }
    }

    /// The same code points are the same UTF-8 bytes; String's own `==` would also equate texts
    /// that are only canonically equivalent (`é` as one code point or as `e` and an accent).
    private static func sameBytes(_ left: String, _ right: String) -> Bool {
        guard left.utf8.count == right.utf8.count else { return false }
        var left = left, right = right
        return left.withUTF8 { leftBytes in right.withUTF8 { rightBytes in leftBytes.elementsEqual(rightBytes) } }
    }

    private static func sameInstant(_ left: String, _ right: String) -> Bool {
        guard let a = DateTimeText.instant(left, wallClockZone: .gmt),
              let b = DateTimeText.instant(right, wallClockZone: .gmt) else { return false }
        return a == b
    }
}

/// One field of a table mapping: which column on each side, which way it goes, and how its
/// value is transformed and checked on the way.
public struct FieldMapping: Sendable, Equatable {
    /// The column on the local (ERP) side.
    public var localField: String
    /// The column on the integration (CRM) side.
    public var integrationField: String
    /// Which way this field is copied; a pass in another direction leaves it alone.
    public var direction: MappingDirection
    /// Rules applied when copying local → integration.
    public var toIntegration: TransformationChain
    /// Rules applied when copying integration → local.
    public var fromIntegration: TransformationChain
    /// When set, this value is copied instead of the source column's (the source column need
    /// not exist); the direction's rules still apply to it.
    public var constant: String?
    /// Never write NULL or the empty string to the target column: an empty value is not
    /// transferred, and the target keeps its value (Business Central's "Not Null").
    public var notNull: Bool
    /// When the rules fail on a value, write NULL instead of failing the record.
    public var clearOnFailure: Bool
    /// How the new value is compared with the target's current one.
    public var comparison: FieldComparison

    /// A field mapping; by default both ways, no rules, no constant, nullable, compared as text.
    public init(local localField: String, integration integrationField: String,
                direction: MappingDirection = .bidirectional,
                toIntegration: TransformationChain = .identity,
                fromIntegration: TransformationChain = .identity,
                constant: String? = nil, notNull: Bool = false, clearOnFailure: Bool = false,
                comparison: FieldComparison = .text) {
        self.localField = localField
        self.integrationField = integrationField
        self.direction = direction
        self.toIntegration = toIntegration
        self.fromIntegration = fromIntegration
        self.constant = constant
        self.notNull = notNull
        self.clearOnFailure = clearOnFailure
        self.comparison = comparison
    }

    /// The column on `side`.
    public func field(on side: SyncSide) -> String {
        side == .local ? localField : integrationField
    }

    /// The rules for a pass in `direction`.
    public func transformation(for direction: SyncDirection) -> TransformationChain {
        direction == .toIntegration ? toIntegration : fromIntegration
    }
}
