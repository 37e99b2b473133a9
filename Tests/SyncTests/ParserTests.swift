import Foundation
import Testing
@testable import Sync

@Suite("Parsing rule text")
struct ParserTests {
    @Test("a chain reads as its rules in order")
    func chainOfRules() throws {
        #expect(try chain("trim | uppercase").rules == [.trim, .uppercase])
        #expect(try chain("  trim|uppercase|title_case  ").rules == [.trim, .uppercase, .titleCase])
    }

    @Test("rule names ignore ASCII case and empty parentheses are allowed")
    func namesAndParentheses() throws {
        #expect(try chain("UPPERCASE | Trim()").rules == [.uppercase, .trim])
    }

    @Test("every rule reads back from its own text form", arguments: [
        "uppercase", "lowercase", "title_case", "trim", "substring(1, 10)", "substring(3)",
        "substring(-2, 0)", "replace(\"-\", \"\")", "replace(\"\\\"\", \"\\\\\")",
        "regex_replace(\"^0+\", \"\")", "regex_replace(\"(\\\\d)\", \"$1$1\")", "regex_match(\"[0-9]+\")",
        "remove_non_alphanumeric", "round(2)", "round(-1)", "format_decimal(2)", "format_decimal(2, \",\")",
        "format_date(\"dd.MM.yyyy\")", "format_date(\"dd.MM.yyyy\", \"Europe/Berlin\")",
        "format_datetime(\"yyyy-MM-dd'T'HH:mm\")", "unix_timestamp", "unix_timestamp(\"America/New_York\")",
        "from_unix_timestamp", "constant(\"A\")", "lookup(\"SALESPEOPLE\")",
        "trim | uppercase | lookup(\"PAYMENT TERMS\")",
    ])
    func roundTrip(text: String) throws {
        let rules = try chain(text)
        #expect(rules.description == text)
        #expect(try chain(rules.description) == rules)
    }

    @Test("arguments read as the documented values")
    func argumentValues() throws {
        #expect(try chain("substring(1,10)").rules == [.substring(start: 1, length: 10)])
        #expect(try chain("substring(4)").rules == [.substring(start: 4, length: nil)])
        #expect(try chain("replace('-', '')").rules == [.replace(old: "-", new: "")])
        #expect(try chain("round(2)").rules == [.round(decimals: 2)])
        #expect(try chain("format_decimal(2)").rules == [.formatDecimal(decimals: 2, separator: ".")])
        #expect(try chain("unix_timestamp").rules == [.unixTimestamp(wallClockZone: .gmt)])
        #expect(try chain("constant(0)").rules == [.constant("0")])
        #expect(try chain("constant(\"\")").rules == [.constant("")])
    }

    @Test("mapping names may be words with dashes or quoted strings with spaces", arguments: [
        ("lookup(SALESPEOPLE)", "SALESPEOPLE"),
        ("lookup(ITEM-PRODUCT)", "ITEM-PRODUCT"),
        ("lookup(\"PAYMENT TERMS\")", "PAYMENT TERMS"),
        ("lookup('SHIPMENT METHOD')", "SHIPMENT METHOD"),
        ("lookup(unit_of.measure)", "unit_of.measure"),
    ])
    func lookupNames(text: String, mapping: String) throws {
        #expect(try chain(text).rules == [.lookup(mapping: mapping)])
    }

    @Test("lookup's second argument says what an uncoupled value does: fail (the default) or keep the target's value")
    func lookupWhenUncoupled() throws {
        #expect(try chain("lookup(SALESPEOPLE, keep)").rules == [.lookup(mapping: "SALESPEOPLE", keepsTarget: true)])
        #expect(try chain("lookup(SALESPEOPLE, FAIL)").rules == [.lookup(mapping: "SALESPEOPLE", keepsTarget: false)])
        #expect(try chain("lookup(SALESPEOPLE, keep)").description == #"lookup("SALESPEOPLE", keep)"#)
        let error = try #require(throws: TransformationError.self) { try chain("lookup(SALESPEOPLE, skip)") }
        #expect(error.message.contains("argument 2 of lookup (when uncoupled) must be fail or keep"), "\(error.message)")
    }

    @Test("a backslash escapes the quote and itself; elsewhere it stays, for regular expressions")
    func escapes() throws {
        #expect(try chain("replace(\"\\\"\", \"'\")").rules == [.replace(old: "\"", new: "'")])
        #expect(try chain("replace('\\'', \"\\\\\")").rules == [.replace(old: "'", new: "\\")])
        #expect(try chain("regex_match(\"\\d+\")").description == "regex_match(\"\\\\d+\")")
        #expect(try apply("regex_match(\"\\d+\")", to: "ab12") == "12")
        #expect(try apply("regex_match(\"\\\\d+\")", to: "ab12") == "12")
    }

    @Test("date rules carry the pattern and the time zone")
    func dateArguments() throws {
        let rule = try #require(try chain("format_datetime(\"HH:mm\", \"Asia/Kolkata\")").rules.first)
        guard case .formatDateTime(let format) = rule else {
            Issue.record("expected formatDateTime, got \(rule)")
            return
        }
        #expect(format.pattern == "HH:mm")
        #expect(format.timeZone.identifier == "Asia/Kolkata")
        #expect(try apply("format_datetime(\"HH:mm\", \"Asia/Kolkata\")", to: "2025-01-01 00:00:00+00") == "05:30")
    }

    @Test("equal rules compare equal, different patterns do not")
    func equality() throws {
        #expect(try chain("regex_match(\"a+\")") == chain("regex_match('a+')"))
        #expect(try chain("regex_match(\"a+\")") != chain("regex_match(\"a*\")"))
        #expect(try chain("format_date(\"dd\")") != chain("format_date(\"dd\", \"Europe/Berlin\")"))
    }
}

@Suite("Rule text errors")
struct ParseErrorTests {
    @Test("each error says what is wrong and at which character", arguments: [
        ("", TransformationError.Code.syntax, 1, "the rule text is empty"),
        ("   ", .syntax, 1, "the rule text is empty"),
        ("trim |", .syntax, 7, "expected a rule name, found the end of the text"),
        ("| trim", .syntax, 1, "expected a rule name, found '|'"),
        ("trim || uppercase", .syntax, 7, "expected a rule name, found '|'"),
        ("trim uppercase", .syntax, 6, "expected '|' or the end of the text, found \"uppercase\""),
        ("trim $", .syntax, 6, "unexpected character '$'"),
        ("(trim)", .syntax, 1, "expected a rule name, found '('"),
        ("replace(\"-\", \"x)", .syntax, 14, "unterminated string: the \" has no closing \""),
        ("replace('-, \"\")", .syntax, 9, "unterminated string: the ' has no closing '"),
        ("substring(1 2)", .syntax, 13, "expected ',' or ')', found 2"),
        ("substring(1,", .syntax, 13, "expected an argument (a number, a word or a quoted string), found the end of the text"),
        ("substring(1, )", .syntax, 14, "expected an argument (a number, a word or a quoted string), found ')'"),
        ("replace(-, \"\")", .syntax, 9, "expected digits after '-'"),
        ("substring(99999999999999999999)", .invalidArgument, 11, "the number 99999999999999999999 is too large"),
        ("upcase", .unknownRule, 1, "unknown rule \"upcase\"; known rules: uppercase, lowercase, title_case, trim, substring, replace, regex_replace, regex_match, remove_non_alphanumeric, round, format_decimal, format_date, format_datetime, unix_timestamp, from_unix_timestamp, constant, lookup"),
        ("trim | upcase(1)", .unknownRule, 8, "unknown rule \"upcase\""),
        ("trim(1)", .invalidArgument, 1, "trim takes no arguments, written trim, but got 1"),
        ("substring(1, 2, 3)", .invalidArgument, 1, "substring takes 1 or 2 arguments, written substring(start[, length]), but got 3"),
        ("round", .invalidArgument, 1, "round takes 1 argument, written round(decimals), but got 0"),
        ("trim | replace(\"a\")", .invalidArgument, 8, "replace takes 2 arguments, written replace(old text, new text), but got 1"),
        ("unix_timestamp(\"UTC\", 1)", .invalidArgument, 1, "unix_timestamp takes 0 or 1 arguments, written unix_timestamp([time zone]), but got 2"),
        ("round(x)", .invalidArgument, 7, "argument 1 of round (decimals) must be a whole number, not \"x\""),
        ("round(\"2\")", .invalidArgument, 7, "argument 1 of round (decimals) must be a whole number, not the string \"2\""),
        ("round(21)", .invalidArgument, 7, "argument 1 of round (decimals) must be between -20 and 20, not 21"),
        ("format_decimal(-1)", .invalidArgument, 16, "argument 1 of format_decimal (decimals) must be between 0 and 20, not -1"),
        ("substring(1, -1)", .invalidArgument, 14, "argument 2 of substring (length) must be between 0 and"),
        ("substring(-9223372036854775808, 0)", .invalidArgument, 11,
         "argument 1 of substring (start) must be between -2147483648 and 2147483647, not -9223372036854775808"),
        ("substring(1, 2147483648)", .invalidArgument, 14, "argument 2 of substring (length) must be between 0 and 2147483647, not 2147483648"),
        ("replace(a, \"b\")", .invalidArgument, 9, "argument 1 of replace (old text) must be a quoted string, not \"a\""),
        ("replace(\"\", \"b\")", .invalidArgument, 9, "replace: the text to replace must not be empty"),
        ("format_decimal(2, 3)", .invalidArgument, 19, "argument 2 of format_decimal (separator) must be a quoted string, not 3"),
        ("lookup(\"\")", .invalidArgument, 8, "argument 1 of lookup (mapping) must not be empty"),
        ("regex_replace(\"(ab\", \"\")", .invalidPattern, 15, "regex_replace: the regular expression \"(ab\" does not compile: expected ')'"),
        ("trim | regex_match(\"[a-\")", .invalidPattern, 20, "regex_match: the regular expression \"[a-\" does not compile"),
        ("format_date(\"dd.MM.yyyy HH:mm\")", .invalidPattern, 13, "format_date: the date pattern \"dd.MM.yyyy HH:mm\" uses 'H', a time of day; use format_datetime for times"),
        ("format_date(\"dd.MM.yyyf\")", .invalidPattern, 13, "uses 'f', which is no ICU pattern letter"),
        ("format_datetime(\"'at HH\")", .invalidPattern, 17, "has a ' without its closing '"),
        ("format_date(\"\")", .invalidPattern, 13, "the date pattern is empty"),
        ("format_date(\"dd\", \"Mars/Base\")", .invalidPattern, 19, "argument 2 of format_date (time zone) names no known time zone: \"Mars/Base\""),
        ("unix_timestamp(Europe)", .invalidArgument, 16, "argument 1 of unix_timestamp (time zone) must be a quoted string"),
    ])
    func reportsPosition(text: String, code: TransformationError.Code, position: Int, message: String) throws {
        let error = try #require(parseError(text))
        #expect(error.code == code)
        #expect(error.position == position)
        #expect(error.message.contains(message))
        #expect(error.message.hasSuffix("(at character \(position))"))
    }

    @Test("positions count characters, not bytes")
    func positionsCountCharacters() throws {
        let error = try #require(parseError("replace(\"ä\", \"ö\") | nope"))
        #expect(error.position == 21)
    }

    /// Found by deploy/fuzz (FuzzRules): Foundation on Linux leaked a copy of every regular
    /// expression longer than 256 UTF-16 code units that it compiled, such as this one of 287.
    @Test("a regular expression longer than 256 characters is refused before it is compiled")
    func regexLengthLimit() throws {
        let fuzzed = #"Z]+i-\\"# + String(repeating: "\u{15}", count: 38) + String(repeating: "\u{FFFD}", count: 151)
            + String(repeating: "\u{15}", count: 84) + String(repeating: "\u{FFFD}", count: 4) + "\u{15}\u{15}d"
        let error = #expect(throws: TransformationError.self) { try RegexPattern(fuzzed) }
        #expect(error?.code == .invalidPattern)
        #expect(error?.message.contains("is longer than 256 characters") == true)
        let longest = String(repeating: "ä", count: 256)
        #expect(try chain("regex_match(\"\(longest)\")").rules == [.regexMatch(pattern: try RegexPattern(longest))])
        #expect(parseError("regex_match(\"\(longest)ä\")")?.position == 13)
    }

    @Test("the compiler's message is reported for a regular expression that does not compile")
    func regexCompilerMessage() throws {
        let error = try #require(parseError("regex_match(\"a{2,1}\")"))
        #expect(error.message.contains("range lower bound '2' must be less than or equal to upper bound '1'"))
        #expect(error.message.contains("NSRegularExpression says:"))
    }

    @Test("RegexPattern built in code reports failures without a position")
    func regexPatternInCode() throws {
        #expect(throws: TransformationError.self) { try RegexPattern("(") }
        #expect(try RegexPattern("a+").pattern == "a+")
    }
}
