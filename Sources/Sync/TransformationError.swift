/// Why a transformation rule could not be parsed or applied.
///
/// `message` is complete and meant for people: parse errors name the character they refer
/// to, apply errors name the rule and the value (cut to 60 characters).
public struct TransformationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of problem, for code that reacts to it.
    public enum Code: String, Sendable, Equatable {
        /// The rule text is malformed: an unexpected or missing character, an unterminated string.
        case syntax
        /// The rule text names no known rule.
        case unknownRule
        /// A rule got the wrong number or type of arguments, or a value out of range.
        case invalidArgument
        /// A regular expression, date pattern or time zone argument is not valid.
        case invalidPattern
        /// A rule cannot handle the value it was applied to.
        case invalidValue
        /// A `lookup` found no coupling for the value.
        case uncoupledReference
        /// A `lookup(…, keep)` found no coupling for the value: the field keeps the target's value.
        case uncoupledReferenceKept
        /// A `lookup` was applied without a resolver.
        case lookupUnavailable
        /// A `map` found the value in none of its value map's pairs, and the map has no default for the direction.
        case unmappedValue
        /// A `map` was applied without its value map bound.
        case valueMapUnavailable
    }

    /// The kind of problem.
    public let code: Code
    /// What is wrong, where, and (where it helps) what would be right.
    public let message: String
    /// The 1-based character in the rule text a parse error refers to; `nil` for apply errors.
    public let position: Int?
    /// For `uncoupledReference`: the mapping whose couplings were searched.
    public let referencedMapping: String?
    /// For apply errors: the value the rule failed on, in full.
    public let value: String?

    init(code: Code, message: String, position: Int? = nil,
         referencedMapping: String? = nil, value: String? = nil) {
        self.code = code
        self.message = message
        self.position = position
        self.referencedMapping = referencedMapping
        self.value = value
    }

    /// The message.
    public var description: String { message }

    /// A parse error at 1-based character `position`.
    static func parse(_ code: Code, _ message: String, at position: Int) -> TransformationError {
        TransformationError(code: code, message: "\(message) (at character \(position))", position: position)
    }

    /// An apply error of `rule` on `value`, with the reason after a colon.
    static func cannotApply(_ rule: Transformation, to value: String, because reason: String) -> TransformationError {
        TransformationError(code: .invalidValue,
                            message: "\(rule) cannot be applied to \(quoted(value)): \(reason)",
                            value: value)
    }
}

/// `value` in double quotes, cut to 60 characters with `…` so that messages stay readable.
func quoted(_ value: String) -> String {
    let limit = 60
    let shown = value.count > limit ? value.prefix(limit) + "…" : Substring(value)
    return "\"\(shown)\""
}
