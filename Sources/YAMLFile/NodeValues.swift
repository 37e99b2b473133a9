import Yams

/// A value in a YAML file that breaks a rule; the message names the key and what was expected.
public struct NodeValueError: Error, Sendable, CustomStringConvertible {
    /// What is wrong.
    public var message: String
    /// Where, when that is more precise than the value's own place (a character inside it, a nested value).
    public var place: FilePlace?

    /// An error saying `message`, optionally at a precise `place`.
    public init(_ message: String, at place: FilePlace? = nil) {
        self.message = message
        self.place = place
    }

    /// The message.
    public var description: String { message }
}

extension Node {
    /// Where the node starts in its file (the start of the file when unknown).
    public var place: FilePlace {
        mark.map { FilePlace(line: $0.line, column: $0.column) } ?? .start
    }

    /// A short description for messages: a scalar's text in quotes, else what kind of node it is.
    public var summary: String {
        switch self {
        case .scalar(let scalar): "\"\(scalar.string)\""
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }

    /// Whether the node's resolved tag is `name` (plain `3` is an int, quoted `"3"` a string).
    public func isTagged(_ name: Tag.Name) -> Bool {
        tag.rawValue == name.rawValue
    }

    /// Whether the node is YAML's null (`null`, `~` or nothing after the colon).
    public var isNull: Bool { isTagged(.null) }

    /// The scalar's text, whatever it resolves to (`no` stays "no"); `key` names the value in the error.
    public func text(_ key: String) throws(NodeValueError) -> String {
        guard case .scalar(let scalar) = self, !isNull else { throw NodeValueError("\(key) must be text") }
        return scalar.string
    }

    /// A plain whole number; `key` names the value in the error.
    public func integer(_ key: String) throws(NodeValueError) -> Int {
        guard isTagged(.int), let value = int else { throw NodeValueError("\(key) must be a whole number, not \(summary)") }
        return value
    }

    /// A boolean; `key` names the value in the error.
    public func boolean(_ key: String) throws(NodeValueError) -> Bool {
        guard isTagged(.bool), let value = bool else { throw NodeValueError("\(key) must be true or false, not \(summary)") }
        return value
    }

    /// The place of the character at 1-based `offset` in a one-line scalar's text, allowing for an
    /// opening quote; the node's own place for block scalars, whose text starts on a later line.
    public func place(ofCharacter offset: Int) -> FilePlace {
        guard case .scalar(let scalar) = self, !scalar.string.contains("\n") else { return place }
        switch scalar.style {
        case .literal, .folded: return place
        case .singleQuoted, .doubleQuoted: return FilePlace(line: place.line, column: place.column + offset)
        default: return FilePlace(line: place.line, column: place.column + offset - 1)
        }
    }
}
