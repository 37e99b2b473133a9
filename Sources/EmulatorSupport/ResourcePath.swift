/// A resource path: segments such as `accounts(…)`, `EntityDefinitions(LogicalName='account')`, `Attributes`,
/// split at the slashes outside parentheses.
public struct ResourcePath: Sendable {
    /// One segment: a name and the text in its parentheses, if any.
    public struct Segment: Sendable {
        /// The name before the parentheses.
        public var name: String
        /// The text inside the parentheses, if any.
        public var key: String?
    }

    /// The segments in order.
    public let segments: [Segment]

    /// Splits `resource`.
    public init(_ resource: String) {
        var segments: [Segment] = []
        var depth = 0
        var current = ""
        for character in resource {
            if character == "(" { depth += 1 }
            if character == ")" { depth -= 1 }
            if character == "/", depth == 0 {
                if !current.isEmpty { segments.append(Self.segment(current)) }
                current = ""
            } else {
                current.append(character)
            }
        }
        if !current.isEmpty { segments.append(Self.segment(current)) }
        self.segments = segments
    }

    private static func segment(_ text: String) -> Segment {
        guard let open = text.firstIndex(of: "("), text.hasSuffix(")") else { return Segment(name: text) }
        return Segment(name: String(text[..<open]), key: String(text[text.index(after: open)..<text.index(before: text.endIndex)]))
    }
}
