import Foundation
import Postgres

/// A rule's name, parameters and how to build it from checked arguments.
struct RuleSpec: Sendable {
    let name: String
    /// Parameter names, the optional ones last.
    let parameters: [String]
    /// How many parameters must be given.
    let required: Int
    let build: @Sendable (RuleArguments) throws(TransformationError) -> Transformation

    var arity: ClosedRange<Int> { required...parameters.count }

    /// `substring(start[, length])`.
    var usage: String {
        guard !parameters.isEmpty else { return name }
        let mandatory = parameters.prefix(required).joined(separator: ", ")
        let optional = parameters.dropFirst(required).enumerated().map { index, parameter in
            index == 0 && required == 0 ? "[\(parameter)]" : "[, \(parameter)]"
        }
        return "\(name)(\(mandatory)\(optional.joined()))"
    }

    /// `no arguments`, `1 argument`, `1 or 2 arguments`.
    var arityText: String {
        switch (arity.lowerBound, arity.upperBound) {
        case (0, 0): "no arguments"
        case (1, 1): "1 argument"
        case let (low, high) where low == high: "\(low) arguments"
        case let (low, high): "\(low) or \(high) arguments"
        }
    }
}

/// Every rule the text form knows, by name.
enum RuleCatalogue {
    /// The rule named `name` (ASCII case ignored), or `nil`.
    static func spec(named name: String) -> RuleSpec? {
        byName[name.lowercased()]
    }

    /// The known rule names, comma-separated, for error messages.
    static let names = specs.map(\.name).joined(separator: ", ")

    private static let byName = Dictionary(uniqueKeysWithValues: specs.map { ($0.name, $0) })

    private static let specs: [RuleSpec] = [
        plain("uppercase", .uppercase),
        plain("lowercase", .lowercase),
        plain("title_case", .titleCase),
        plain("trim", .trim),
        RuleSpec(name: "substring", parameters: ["start", "length"], required: 1) { arguments throws(TransformationError) in
            .substring(start: try arguments.integer(0, in: postgresInteger),
                       length: arguments.has(1) ? try arguments.integer(1, in: 0...postgresInteger.upperBound) : nil)
        },
        RuleSpec(name: "replace", parameters: ["old text", "new text"], required: 2) { arguments throws(TransformationError) in
            let old = try arguments.string(0)
            guard !old.isEmpty else { throw arguments.invalid(0, TransformationError(code: .invalidArgument, message: "the text to replace must not be empty")) }
            return .replace(old: old, new: try arguments.string(1))
        },
        RuleSpec(name: "regex_replace", parameters: ["pattern", "replacement"], required: 2) { arguments throws(TransformationError) in
            .regexReplace(pattern: try regex(arguments), template: try arguments.string(1))
        },
        RuleSpec(name: "regex_match", parameters: ["pattern"], required: 1) { arguments throws(TransformationError) in
            .regexMatch(pattern: try regex(arguments))
        },
        plain("remove_non_alphanumeric", .removeNonAlphanumeric),
        RuleSpec(name: "round", parameters: ["decimals"], required: 1) { arguments throws(TransformationError) in
            .round(decimals: try arguments.integer(0, in: -20...20))
        },
        RuleSpec(name: "format_decimal", parameters: ["decimals", "separator"], required: 1) { arguments throws(TransformationError) in
            .formatDecimal(decimals: try arguments.integer(0, in: 0...20),
                           separator: arguments.has(1) ? try arguments.string(1) : ".")
        },
        RuleSpec(name: "format_date", parameters: ["pattern", "time zone"], required: 1) { arguments throws(TransformationError) in
            .formatDate(try dateFormat(arguments, allowsTimeOfDay: false))
        },
        RuleSpec(name: "format_datetime", parameters: ["pattern", "time zone"], required: 1) { arguments throws(TransformationError) in
            .formatDateTime(try dateFormat(arguments, allowsTimeOfDay: true))
        },
        RuleSpec(name: "unix_timestamp", parameters: ["time zone"], required: 0) { arguments throws(TransformationError) in
            .unixTimestamp(wallClockZone: try arguments.timeZone(0))
        },
        plain("from_unix_timestamp", .fromUnixTimestamp),
        RuleSpec(name: "constant", parameters: ["value"], required: 1) { arguments in
            .constant(arguments.text(0))
        },
        RuleSpec(name: "lookup", parameters: ["mapping", "when uncoupled"], required: 1) { arguments throws(TransformationError) in
            .lookup(mapping: try arguments.nonEmptyText(0), keepsTarget: try arguments.keepsTarget(1))
        },
        RuleSpec(name: "map", parameters: ["value map"], required: 1) { arguments throws(TransformationError) in
            .valueMap(name: try arguments.nonEmptyText(0))
        },
    ]

    /// PostgreSQL's `integer`, which its own `substring` takes.
    private static let postgresInteger = Int(Int32.min)...Int(Int32.max)

    private static func plain(_ name: String, _ rule: Transformation) -> RuleSpec {
        RuleSpec(name: name, parameters: [], required: 0) { _ in rule }
    }

    private static func regex(_ arguments: RuleArguments) throws(TransformationError) -> RegexPattern {
        do {
            return try RegexPattern(try arguments.string(0))
        } catch where error.position == nil {
            throw arguments.invalid(0, error)
        }
    }

    private static func dateFormat(_ arguments: RuleArguments, allowsTimeOfDay: Bool) throws(TransformationError) -> DateTextFormat {
        let pattern = try arguments.string(0)
        let zone = try arguments.timeZone(1)
        do {
            return try DateTextFormat(pattern: pattern, timeZone: zone, allowsTimeOfDay: allowsTimeOfDay)
        } catch {
            throw arguments.invalid(0, error)
        }
    }
}

extension Transformation {
    /// The rule in its text form, e.g. `substring(1, 10)` or `replace("-", "")`.
    public var description: String {
        switch self {
        case .uppercase: "uppercase"
        case .lowercase: "lowercase"
        case .titleCase: "title_case"
        case .trim: "trim"
        case .substring(let start, nil): "substring(\(start))"
        case .substring(let start, let length?): "substring(\(start), \(length))"
        case .replace(let old, let new): "replace(\(literal(old)), \(literal(new)))"
        case .regexReplace(let pattern, let template): "regex_replace(\(literal(pattern.pattern)), \(literal(template)))"
        case .regexMatch(let pattern): "regex_match(\(literal(pattern.pattern)))"
        case .removeNonAlphanumeric: "remove_non_alphanumeric"
        case .round(let decimals): "round(\(decimals))"
        case .formatDecimal(let decimals, "."): "format_decimal(\(decimals))"
        case .formatDecimal(let decimals, let separator): "format_decimal(\(decimals), \(literal(separator)))"
        case .formatDate(let format): "format_date(\(arguments(format)))"
        case .formatDateTime(let format): "format_datetime(\(arguments(format)))"
        case .unixTimestamp(let zone) where zone == .gmt: "unix_timestamp"
        case .unixTimestamp(let zone): "unix_timestamp(\(literal(zone.identifier)))"
        case .fromUnixTimestamp: "from_unix_timestamp"
        case .constant(let value): "constant(\(literal(value)))"
        case .lookup(let mapping, false): "lookup(\(literal(mapping)))"
        case .lookup(let mapping, true): "lookup(\(literal(mapping)), keep)"
        case .valueMap(let name, _): "map(\(literal(name)))"
        }
    }

    private func arguments(_ format: DateTextFormat) -> String {
        format.timeZone == .gmt
            ? literal(format.pattern)
            : "\(literal(format.pattern)), \(literal(format.timeZone.identifier))"
    }

    /// `text` as a double-quoted string the lexer reads back unchanged.
    private func literal(_ text: String) -> String {
        "\"" + text.escaping(["\\", "\""], with: "\\") + "\""
    }
}
