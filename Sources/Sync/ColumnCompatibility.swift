/// A column as an endpoint's catalog describes it.
public struct CatalogColumn: Sendable, Equatable {
    /// The column's name.
    public var name: String
    /// The declared type with its modifier, as `format_type` prints it: `numeric(12,2)`, `character varying(40)`.
    public var type: String
    /// The base type without modifier (a domain's underlying type): `numeric`, `integer`.
    public var baseType: String
    /// The base type's category (`pg_type.typcategory`).
    public var category: TypeCategory

    /// A column of this type.
    public init(name: String, type: String, baseType: String, category: TypeCategory) {
        (self.name, self.type, self.baseType, self.category) = (name, type, baseType, category)
    }
}

/// PostgreSQL's type categories, the ones the compatibility rules tell apart.
public enum TypeCategory: String, Sendable, Equatable {
    case boolean = "B", dateTime = "D", numeric = "N", string = "S", other

    /// The category of a `pg_type.typcategory` code; every code not named here is `other`
    /// (uuid, json, bytea, enums, arrays, ranges, intervals, network addresses, …).
    public init(code: String) { self = TypeCategory(rawValue: code) ?? .other }
}

/// Whether values of one column can be written to another: every value travels as text and the
/// target's input function casts it, so the question is whether one type's text is the other's input.
///
/// | target ↓ / source →          | same base type | string  | numeric | boolean | date/time | other |
/// |------------------------------|----------------|---------|---------|---------|-----------|-------|
/// | string (text, varchar, char) | ok             | ok      | ok      | ok      | ok        | ok    |
/// | numeric                      | ok             | warning | ok ¹    | error   | error     | error |
/// | boolean                      | ok             | warning | error   | ok      | error     | error |
/// | date/time                    | ok             | warning | error   | error   | ok ²      | error |
/// | other (uuid, json, enum, …)  | ok             | warning | error   | error   | error     | error |
///
/// ¹ a warning when the target is an integer and the source is not (a fraction fails its record).
/// ² date, timestamp and timestamptz take each other's text; time and timetz take each other's;
///   across the two families it is an error.
///
/// A warning means some values fail their record (text that is not a number, say); an error means
/// (almost) every value would. When the pass transforms the field (`format_date`, `unix_timestamp`,
/// …), the rules may produce the target's form, so an error is reported as a warning. String
/// targets are not checked for length.
enum ColumnCompatibility: Sendable, Equatable {
    /// Every value of the source fits the target.
    case compatible
    /// Some values fit, others fail their record; says which.
    case doubtful(String)
    /// Values of the source do not fit the target; says why.
    case incompatible(String)

    /// The verdict for copying `source` values into `target`, possibly through rules (`transformed`).
    static func of(source: CatalogColumn, target: CatalogColumn, transformed: Bool = false) -> ColumnCompatibility {
        let verdict = plain(source: source, target: target)
        guard transformed, case .incompatible(let reason) = verdict else { return verdict }
        return .doubtful(reason + ", unless the rules turn each value into one")
    }

    private static func plain(source: CatalogColumn, target: CatalogColumn) -> ColumnCompatibility {
        if source.baseType == target.baseType || target.category == .string { return .compatible }
        if source.category == .string {
            return .doubtful("\(source.type) values go into a column of type \(target.type): a value that is not a valid \(target.baseType) fails its record")
        }
        let cannot = ColumnCompatibility.incompatible("\(source.type) values cannot be written to a column of type \(target.type)")
        switch (source.category, target.category) {
        case (.numeric, .numeric):
            guard integers.contains(target.baseType), !integers.contains(source.baseType) else { return .compatible }
            return .doubtful("\(source.type) values go into a column of type \(target.type): a value with a fraction fails its record")
        case (.dateTime, .dateTime):
            return dateFamily(source.baseType) == dateFamily(target.baseType) ? .compatible : cannot
        default:
            return cannot
        }
    }

    private static let integers: Set = ["smallint", "integer", "bigint"]

    /// Date/time types whose text each other's input reads: dates and timestamps, or times of day.
    private static func dateFamily(_ baseType: String) -> String {
        baseType.hasPrefix("time ") || baseType == "time" ? "time of day" : "date"
    }
}
