extension String {
    /// This text with `escape` written before each of its scalars in `special` (`"` before `"`
    /// doubles quotes). It works scalar by scalar, as a server or parser reading bytes does: a
    /// Character-level replacement misses a quote that a combining mark follows, since Swift
    /// counts the two as one Character, and the quote would end the quoting early.
    public func escaping(_ special: Set<Unicode.Scalar>, with escape: Unicode.Scalar) -> String {
        var escaped = String.UnicodeScalarView()
        for scalar in unicodeScalars {
            if special.contains(scalar) { escaped.append(escape) }
            escaped.append(scalar)
        }
        return String(escaped)
    }
}
