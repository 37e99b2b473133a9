import Testing
@testable import ODataConnector

@Suite struct ODataJSONTests {
    @Test func decimalsKeepTheirExactText() throws {
        let text = #"{"revenue":1234.5600,"tiny":0.1,"wide":12345678901234567890.123456789012,"exp":6.02E+23,"neg":-0.0}"#
        let json = try ODataJSON.parse(text)
        #expect(json["revenue"] == .number("1234.5600"))
        #expect(json["tiny"]?.numberText == "0.1")
        #expect(json["wide"]?.numberText == "12345678901234567890.123456789012")
        #expect(json.jsonText == text)
    }

    @Test func membersKeepTheirOrder() throws {
        let json = try ODataJSON.parse(#"{ "z": 1, "a": [true, false, null], "m": {"y": "é\n\"\u00e9\ud83d\ude00"} }"#)
        #expect(json.objectMembers?.map(\.name) == ["z", "a", "m"])
        #expect(json["m"]?["y"] == .string("é\n\"é😀"))
        #expect(try ODataJSON.parse(json.jsonText) == json)
        #expect(json.jsonText == #"{"z":1,"a":[true,false,null],"m":{"y":"é\n\"é😀"}}"#)
    }

    @Test func prettyTextIsTheDocumentationsLayout() {
        let json = ODataJSON.object(["subject": .string("Task 1"), "count": .number("2"), "list": .array([])])
        #expect(json.prettyJSONText() == "{\n  \"subject\": \"Task 1\",\n  \"count\": 2,\n  \"list\": []\n}")
    }

    @Test(arguments: ["01", "1.", "-", ".5", "1e", "+1", "0x10", "1.5e+", "--1"])
    func invalidNumbersAreRefused(_ text: String) {
        #expect(throws: ODataJSONSyntaxError.self) { try ODataJSON.parse(text) }
        #expect(ODataJSON.number(exactly: text) == nil)
    }

    @Test func truncatedDocumentsSayTheyAreCutShort() throws {
        for text in [#"{"value":[{"name":"a""#, #"{"value":[1,2"#, #"{"a":"unterminated"#, "[tru", #"{"a""#] {
            do {
                _ = try ODataJSON.parse(text)
                Issue.record("\(text) parsed")
            } catch {
                #expect(error.isTruncated, "\(text): \(error)")
            }
        }
    }

    @Test func malformedDocumentsAreRefused() {
        for text in ["{\"a\":1,}", "[1 2]", "{\"a\" 1}", "\"\u{01}\"", "\"\\x\"", "\"\\ud800\"", "{} {}", "nul", "", "{'a':1}"] {
            #expect(throws: ODataJSONSyntaxError.self, "\(text)") { try ODataJSON.parse(text) }
        }
    }

    @Test func nestingIsBounded() {
        let deep = String(repeating: "[", count: 300) + String(repeating: "]", count: 300)
        #expect(throws: ODataJSONSyntaxError.self) { try ODataJSON.parse(deep) }
        #expect(throws: Never.self) { try ODataJSON.parse(deep, maximumDepth: 400) }
    }

    @Test func controlCharactersAreEscapedOnOutput() {
        #expect(ODataJSON.string("a\u{01}b\tc\\").jsonText == #""a\u0001b\tc\\""#)
    }
}
