import Testing

@testable import Console

@Suite("HTML escaping")
struct HTMLEscapingTests {
    @Test("the five characters that end text or an attribute become references; everything else stays")
    func escapes() {
        #expect(escapeHTML(#"<script>alert("x&y")</script> it's"#) == "&lt;script&gt;alert(&quot;x&amp;y&quot;)&lt;/script&gt; it&#39;s")
        #expect(escapeHTML("Ærø 10000 — ✓") == "Ærø 10000 — ✓")
        #expect(escapeHTML("") == "")
    }

    @Test("text interpolated into HTML is escaped, HTML interpolated stays markup")
    func interpolation() {
        let name = "<b onmouseover='x'>"
        let bold: HTML = "<b>\(name)</b>"
        #expect(bold.markup == "<b>&lt;b onmouseover=&#39;x&#39;&gt;</b>")
        let nested: HTML = "<p>\(bold) \(42)</p>"
        #expect(nested.markup == "<p><b>&lt;b onmouseover=&#39;x&#39;&gt;</b> 42</p>")
        let attribute: HTML = "<input value=\"\(#"" autofocus onfocus="x"#)\">"
        #expect(attribute.markup == #"<input value="&quot; autofocus onfocus=&quot;x">"#)
    }
}
