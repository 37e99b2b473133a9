import Testing

@testable import Sync

/// A catalog column of `type`, whose base type and category are PostgreSQL's for it.
private func column(_ type: String, _ category: String, base: String? = nil) -> CatalogColumn {
    CatalogColumn(name: "c", type: type, baseType: base ?? type, category: TypeCategory(code: category))
}

private let text = column("text", "S"), varchar = column("character varying(40)", "S", base: "character varying")
private let numeric = column("numeric(12,2)", "N", base: "numeric"), integer = column("integer", "N"), bigint = column("bigint", "N")
private let boolean = column("boolean", "B"), date = column("date", "D"), timestamptz = column("timestamp with time zone", "D")
private let time = column("time without time zone", "D"), uuid = column("uuid", "U"), jsonb = column("jsonb", "U")

@Suite("Column compatibility: which source values a target column takes")
struct ColumnCompatibilityTests {
    @Test("a string target takes anything; the same base type fits whatever its modifier")
    func alwaysCompatible() {
        for source in [text, numeric, boolean, date, uuid, jsonb] {
            #expect(ColumnCompatibility.of(source: source, target: varchar) == .compatible)
        }
        #expect(ColumnCompatibility.of(source: column("numeric(5,0)", "N", base: "numeric"), target: numeric) == .compatible)
        #expect(ColumnCompatibility.of(source: integer, target: numeric) == .compatible)
        #expect(ColumnCompatibility.of(source: integer, target: bigint) == .compatible)
        #expect(ColumnCompatibility.of(source: date, target: timestamptz) == .compatible)
        #expect(ColumnCompatibility.of(source: timestamptz, target: date) == .compatible)
    }

    @Test("text into a typed column is a warning: some values may not parse")
    func textIntoTyped() {
        #expect(ColumnCompatibility.of(source: text, target: numeric) == .doubtful(
            "text values go into a column of type numeric(12,2): a value that is not a valid numeric fails its record"))
        for target in [boolean, date, uuid, jsonb] {
            guard case .doubtful = ColumnCompatibility.of(source: text, target: target) else {
                Issue.record("text → \(target.type) should be a warning")
                continue
            }
        }
    }

    @Test("a fractional number into an integer is a warning")
    func fractions() {
        #expect(ColumnCompatibility.of(source: numeric, target: integer) == .doubtful(
            "numeric(12,2) values go into a column of type integer: a value with a fraction fails its record"))
    }

    @Test("categories that never read each other's text are errors", arguments: [
        (boolean, date), (date, boolean), (numeric, boolean), (boolean, numeric), (date, numeric), (numeric, date),
        (uuid, integer), (time, date), (date, time), (jsonb, uuid),
    ])
    func errors(source: CatalogColumn, target: CatalogColumn) {
        #expect(ColumnCompatibility.of(source: source, target: target)
            == .incompatible("\(source.type) values cannot be written to a column of type \(target.type)"))
    }

    @Test("rules on the pass turn an error into a warning: they may convert the value")
    func transformed() {
        #expect(ColumnCompatibility.of(source: timestamptz, target: bigint, transformed: true) == .doubtful(
            "timestamp with time zone values cannot be written to a column of type bigint, unless the rules turn each value into one"))
        #expect(ColumnCompatibility.of(source: text, target: numeric, transformed: true)
            == ColumnCompatibility.of(source: text, target: numeric))
    }
}
