import Foundation

/// A regular expression compiled once, when the rule is parsed, and applied to many values.
///
/// Uses `NSRegularExpression` (ICU syntax). Equal when the pattern texts are equal.
public struct RegexPattern: Sendable, Equatable, CustomStringConvertible {
    /// The pattern as written.
    public let pattern: String
    private let expression: NSRegularExpression

    /// Compiles `pattern`; throws `invalidPattern` with the compiler's message when it does not compile.
    public init(_ pattern: String) throws(TransformationError) {
        do {
            expression = try NSRegularExpression(pattern: pattern)
        } catch {
            throw TransformationError(code: .invalidPattern,
                                      message: Self.compileFailure(pattern, error))
        }
        self.pattern = pattern
    }

    /// The pattern as written.
    public var description: String { pattern }

    /// Whether both were compiled from the same pattern text.
    public static func == (left: RegexPattern, right: RegexPattern) -> Bool {
        left.pattern == right.pattern
    }

    /// `text` with every match replaced by `template`, in which `$1` stands for group 1.
    func replacingMatches(in text: String, with template: String) -> String {
        expression.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text),
                                            withTemplate: template)
    }

    /// Group 1 of the first match when the pattern has groups, else the whole first match;
    /// `nil` when nothing matches or group 1 did not take part in the match.
    func firstMatch(in text: String) -> String? {
        guard let match = expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) else {
            return nil
        }
        let group = expression.numberOfCaptureGroups > 0 ? 1 : 0
        return Range(match.range(at: group), in: text).map { String(text[$0]) }
    }

    /// The compiler's complaint. NSRegularExpression's own message on Linux is generic, so the
    /// standard library's parser is asked for a precise one as well.
    private static func compileFailure(_ pattern: String, _ error: any Error) -> String {
        let foundation = (error as NSError).localizedDescription
        var precise = ""
        do {
            _ = try Regex(pattern)
        } catch {
            precise = "\(error); "
        }
        return "the regular expression \(quoted(pattern)) does not compile: \(precise)NSRegularExpression says: \(foundation)"
    }
}
