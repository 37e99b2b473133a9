import Foundation
import Testing
@testable import Sync

@Suite("Text rules")
struct TextRuleTests {
    @Test("uppercase, lowercase and title case", arguments: [
        ("uppercase", "abc Äö", "ABC ÄÖ"),
        ("uppercase", "straße", "STRASSE"),
        ("lowercase", "ÄBC Def", "äbc def"),
        ("title_case", "john o'brien-smith", "John O'brien-Smith"),
        ("title_case", "ACME GMBH", "Acme Gmbh"),
        ("title_case", "3rd street", "3rd Street"),
        ("title_case", "  élan vital", "  Élan Vital"),
        ("title_case", "", ""),
    ])
    func caseRules(rule: String, input: String, expected: String) throws {
        #expect(try apply(rule, to: input) == expected)
    }

    @Test("every rule but constant passes NULL through", arguments: [
        "uppercase", "lowercase", "title_case", "trim", "substring(1, 2)", "replace(\"a\", \"b\")",
        "regex_replace(\"a\", \"b\")", "regex_match(\"a\")", "remove_non_alphanumeric", "round(2)",
        "format_decimal(2)", "format_date(\"dd.MM.yyyy\")", "format_datetime(\"HH:mm\")",
        "unix_timestamp", "from_unix_timestamp", "lookup(SALESPEOPLE)",
    ])
    func nullPassesThrough(rule: String) throws {
        #expect(try apply(rule, to: nil, lookup: { _, _ in Issue.record("resolver called for NULL"); return nil }) == nil)
    }

    @Test("trim removes whitespace and line breaks at both ends only")
    func trim() throws {
        #expect(try apply("trim", to: "  a  b \n\t") == "a  b")
        #expect(try apply("trim", to: "\n") == "")
        #expect(try apply("trim", to: "x") == "x")
    }

    @Test("substring follows SQL: 1-based, start before 1 still counts", arguments: [
        ("substring(1, 3)", "abcdef", "abc"),
        ("substring(3)", "abcdef", "cdef"),
        ("substring(2, 2)", "abcdef", "bc"),
        ("substring(0, 2)", "abc", "a"),
        ("substring(-5, 3)", "abc", ""),
        ("substring(10)", "abc", ""),
        ("substring(2, 0)", "abc", ""),
        ("substring(1, 100)", "abc", "abc"),
        ("substring(1, 1)", "", ""),
    ])
    func substring(rule: String, input: String, expected: String) throws {
        #expect(try apply(rule, to: input) == expected)
    }

    @Test("substring counts Unicode code points as PostgreSQL does")
    func substringCountsCodePoints() throws {
        #expect(try apply("substring(1, 1)", to: "e\u{301}x") == "e")
        #expect(try apply("substring(2, 2)", to: "\u{E9}xy") == "xy")
        #expect(try apply("substring(2)", to: "a😀b") == "😀b")
    }

    @Test("substring with a huge length does not overflow")
    func substringHugeLength() throws {
        #expect(try Transformation.substring(start: 2, length: Int.max).apply(to: "abc") == "bc")
        #expect(try Transformation.substring(start: Int.min, length: Int.max).apply(to: "abc") == "")
    }

    @Test("substring bounds at the ends of Int neither overflow nor trap")
    func substringExtremeBounds() throws {
        #expect(try Transformation.substring(start: Int.min, length: 0).apply(to: "abc") == "")
        #expect(try Transformation.substring(start: Int.min, length: nil).apply(to: "abc") == "abc")
        #expect(try Transformation.substring(start: Int.max, length: Int.max).apply(to: "abc") == "")
    }

    @Test("substring with a negative length built in code throws instead of crashing")
    func substringNegativeLength() {
        #expect(throws: TransformationError.self) {
            try Transformation.substring(start: 1, length: -1).apply(to: "abc")
        }
    }

    @Test("replace replaces every literal, case-sensitive occurrence", arguments: [
        ("replace(\"-\", \"\")", "12-34-5", "12345"),
        ("replace(\"a\", \"b\")", "Aa", "Ab"),
        ("replace(\".\", \",\")", "1.5.6", "1,5,6"),
        ("replace(\"xyz\", \"q\")", "abc", "abc"),
        ("replace(\"a\", \"aa\")", "aba", "aabaa"),
    ])
    func replace(rule: String, input: String, expected: String) throws {
        #expect(try apply(rule, to: input) == expected)
    }

    @Test("replace with empty old text built in code leaves the value alone")
    func replaceEmpty() throws {
        #expect(try Transformation.replace(old: "", new: "x").apply(to: "abc") == "abc")
    }

    @Test("regex_replace replaces all matches and expands $1", arguments: [
        ("regex_replace(\"^0+\", \"\")", "000120", "120"),
        ("regex_replace(\"(\\d+)-(\\d+)\", \"$2/$1\")", "12-34", "34/12"),
        ("regex_replace(\"\\s+\", \" \")", "a  b \t c", "a b c"),
        ("regex_replace(\"x\", \"y\")", "abc", "abc"),
    ])
    func regexReplace(rule: String, input: String, expected: String) throws {
        #expect(try apply(rule, to: input) == expected)
    }

    @Test("regex_match yields the whole first match, or group 1 when there are groups", arguments: [
        ("regex_match(\"[0-9]+\")", "abc123def45", Optional("123")),
        ("regex_match(\"id=(\\w+)\")", "x id=ab12 y", "ab12"),
        ("regex_match(\"[0-9]+\")", "none", nil),
        ("regex_match(\"(a)|b\")", "b", nil),
        ("regex_match(\"é+\")", "caféé!", "éé"),
    ])
    func regexMatch(rule: String, input: String, expected: String?) throws {
        #expect(try apply(rule, to: input) == expected)
    }

    @Test("a regex that backtracks without end fails the value, naming the rule, within its step budget", arguments: [
        "regex_match(\"(x+x+)+y\")", "regex_replace(\"(x+x+)+y\", \"z\")",
    ])
    func regexStepBudget(rule: String) throws {
        let started = ContinuousClock.now
        let error = try #require(try applyError(rule, to: String(repeating: "x", count: 40)))
        #expect(ContinuousClock.now - started < .seconds(2))
        #expect(error.code == .invalidValue)
        #expect(error.message.hasPrefix("\(rule) cannot be applied to \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\": "))
        #expect(error.message.contains("more than 1000000 steps"))
    }

    @Test("the step budget grows with the value: a long value scanned once is no problem")
    func regexBudgetFollowsLength() throws {
        let long = String(repeating: "ab ", count: 100_000)
        #expect(try apply("regex_replace(\"\\s+\", \"\")", to: long)?.count == 200_000)
        #expect(try apply("regex_match(\"[0-9]+\")", to: long) == nil)
    }

    @Test("remove_non_alphanumeric keeps letters, marks and digits of every script")
    func removeNonAlphanumeric() throws {
        #expect(try apply("remove_non_alphanumeric", to: "A-1 b_2!") == "A1b2")
        #expect(try apply("remove_non_alphanumeric", to: "Zürich 8000") == "Zürich8000")
        #expect(try apply("remove_non_alphanumeric", to: "e\u{301}-") == "e\u{301}")
        #expect(try apply("remove_non_alphanumeric", to: "--") == "")
    }

    @Test("constant replaces any value, NULL included")
    func constant() throws {
        #expect(try apply("constant(\"X\")", to: "a") == "X")
        #expect(try apply("constant(\"X\")", to: nil) == "X")
        #expect(try apply("constant(5)", to: nil) == "5")
        #expect(try apply("trim | constant(\"\")", to: "a") == "")
    }

    @Test("rules of a chain apply left to right")
    func chainOrder() throws {
        #expect(try apply("trim | uppercase | substring(1, 3)", to: "  abcdef ") == "ABC")
        #expect(try apply("substring(1, 3) | trim", to: "  abcdef ") == "a")
        #expect(try TransformationChain.identity.apply(to: "x") == "x")
    }
}

@Suite("Lookup rule")
struct LookupRuleTests {
    @Test("lookup asks the resolver with the mapping and the value")
    func resolves() throws {
        let result = try apply("trim | lookup(SALESPEOPLE)", to: " JR ") { mapping, value in
            mapping == "SALESPEOPLE" && value == "JR" ? "user-7" : nil
        }
        #expect(result == "user-7")
    }

    @Test("an uncoupled value throws uncoupledReference with the mapping and the value")
    func uncoupled() throws {
        let error = try #require(try applyError("lookup(SALESPEOPLE)", to: "JR") { _, _ in nil })
        #expect(error.code == .uncoupledReference)
        #expect(error.referencedMapping == "SALESPEOPLE")
        #expect(error.value == "JR")
        #expect(error.message == "\"JR\" is not coupled in mapping SALESPEOPLE")
    }

    @Test("lookup without a resolver throws lookupUnavailable instead of guessing")
    func withoutResolver() throws {
        let error = try #require(try applyError("lookup(CURRENCY)", to: "EUR"))
        #expect(error.code == .lookupUnavailable)
        #expect(error.message.contains("CURRENCY"))
    }

    @Test("referencedMappings lists each looked-up mapping once")
    func referencedMappings() throws {
        let rules = try chain("lookup(A) | lookup(\"PAYMENT TERMS\") | lookup(A) | trim")
        #expect(rules.referencedMappings == ["A", "PAYMENT TERMS"])
        #expect(try chain("trim").referencedMappings.isEmpty)
    }
}

@Suite("Apply errors")
struct ApplyErrorTests {
    @Test("the message names the rule and the value")
    func namesRuleAndValue() throws {
        let error = try #require(try applyError("trim | round(2)", to: "abc"))
        #expect(error.code == .invalidValue)
        #expect(error.message == "round(2) cannot be applied to \"abc\": it is not a number")
        #expect(error.value == "abc")
        #expect(error.position == nil)
    }

    @Test("long values are cut to 60 characters in the message, kept whole in value")
    func truncatesLongValues() throws {
        let long = String(repeating: "x", count: 59) + "yz" + String(repeating: "w", count: 40)
        let error = try #require(try applyError("round(0)", to: long))
        #expect(error.message.contains(String(repeating: "x", count: 59) + "y…\""))
        #expect(!error.message.contains("yz"))
        #expect(error.value == long)
    }

    @Test("exactly 60 characters are shown without an ellipsis")
    func sixtyCharacters() throws {
        let value = String(repeating: "a", count: 60)
        let error = try #require(try applyError("round(0)", to: value))
        #expect(error.message.contains("\"\(value)\""))
        #expect(!error.message.contains("…"))
    }
}
