/// Rules applied one after another, as a field mapping configures them: `trim | uppercase`.
///
/// Parsed once (regular expressions compiled, patterns and time zones checked) and then
/// applied to any number of values from any number of tasks.
public struct TransformationChain: Sendable, Equatable, CustomStringConvertible {
    /// The rules, first applied first.
    public let rules: [Transformation]

    /// No rules: values pass unchanged.
    public static let identity = TransformationChain([])

    /// The chain of `rules`.
    public init(_ rules: [Transformation]) {
        self.rules = rules
    }

    /// Reads the text form, e.g. `trim | substring(1, 10) | lookup(SALESPEOPLE)`.
    ///
    /// Throws a `TransformationError` whose message says what is wrong and whose `position` is
    /// the 1-based character it refers to: unexpected characters, unterminated strings, unknown
    /// rules (listing the known ones), wrong argument counts or types, out-of-range numbers,
    /// regular expressions that do not compile, bad date patterns, unknown time zones.
    public init(parsing text: String) throws(TransformationError) {
        rules = try RuleParser.rules(of: text)
    }

    /// The text form; `TransformationChain(parsing:)` reads it back to an equal chain.
    public var description: String {
        rules.map(\.description).joined(separator: " | ")
    }

    /// The mappings whose couplings `lookup` rules read, so that the engine can load them first.
    public var referencedMappings: Set<String> {
        Set(rules.compactMap { rule in
            if case .lookup(let mapping, _) = rule { mapping } else { nil }
        })
    }

    /// The value maps that `map` rules name, so that they can be checked and loaded.
    public var referencedValueMaps: Set<String> {
        Set(rules.compactMap { rule in
            if case .valueMap(let name, _) = rule { name } else { nil }
        })
    }

    /// The chain with every `map` rule bound to its map in `valueMaps` (by name), translating
    /// for a pass in `direction`; a rule whose map is not there stays unbound.
    public func binding(_ valueMaps: [String: ValueMap], for direction: SyncDirection) -> TransformationChain {
        TransformationChain(rules.map { rule in
            guard case .valueMap(let name, _) = rule, let map = valueMaps[name] else { return rule }
            return .valueMap(name: name, translation: map.translation(for: direction))
        })
    }

    /// `value` passed through every rule in order; the first failing rule's error is thrown.
    public func apply(to value: String?, lookup resolver: LookupResolver? = nil) throws(TransformationError) -> String? {
        var result = value
        for rule in rules {
            result = try rule.apply(to: result, lookup: resolver)
        }
        return result
    }
}
