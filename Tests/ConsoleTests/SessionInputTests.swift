import Testing

@testable import Console

@Suite("Session tokens and form input")
struct SessionInputTests {
    @Test("tokens are 64 hex digits (256 bits) and differ each time")
    func tokens() {
        let tokens = (0..<100).map { _ in SecretToken.make() }
        #expect(tokens.allSatisfy { $0.count == 64 && $0.allSatisfy(\.isHexDigit) })
        #expect(Set(tokens).count == 100)
    }

    @Test("token comparison: equal only when every byte and the length agree")
    func comparison() {
        let token = SecretToken.make()
        #expect(SecretToken.equal(token, token))
        #expect(!SecretToken.equal(token, String(token.dropLast())))
        #expect(!SecretToken.equal(token, token + "0"))
        #expect(!SecretToken.equal(token, String(token.dropLast()) + (token.last == "0" ? "1" : "0")))
        #expect(!SecretToken.equal("", token))
        #expect(SecretToken.equal("", ""))
    }

    @Test("form fields decode + and %XX, keep the first of a repeated field, and are bounded")
    func formFields() {
        let fields = FormFields(urlEncoded: "user=ana+b%C3%A6k&csrf=1&csrf=2&empty=&bad=%ZZ&flag")
        #expect(fields["user"] == "ana bæk")
        #expect(fields["csrf"] == "1")
        #expect(fields["empty"] == "" && fields.nonEmpty("empty") == nil)
        #expect(fields["bad"] == nil, "a value that does not decode is dropped")
        #expect(fields["flag"] == "")
        let long = FormFields(urlEncoded: "kind=" + String(repeating: "x", count: 5_000))
        #expect(long["kind"]?.count == FormFields.maximumValueLength)
        let many = FormFields(urlEncoded: (0..<100).map { "f\($0)=v" }.joined(separator: "&"))
        #expect(many["f31"] == "v" && many["f32"] == nil)
    }
}
