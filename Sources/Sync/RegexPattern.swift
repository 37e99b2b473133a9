import Foundation

/// A regular expression compiled once, when the rule is parsed, and applied to many values.
///
/// Uses `NSRegularExpression` (ICU syntax), within a step limit per value. Equal when the pattern
/// texts are equal.
public struct RegexPattern: Sendable, Equatable, CustomStringConvertible {
    /// The pattern as written.
    public let pattern: String
    private let expression: NSRegularExpression

    /// The longest pattern compiled, in UTF-16 code units: Foundation on Linux leaks a copy of every
    /// longer pattern it compiles, and a worker compiles a mapping's rules again for every job.
    static let maximumLength = 256

    /// Compiles `pattern`; throws `invalidPattern` when it is longer than `maximumLength`, or with the
    /// compiler's message when it does not compile.
    public init(_ pattern: String) throws(TransformationError) {
        guard pattern.utf16.count <= Self.maximumLength else {
            throw TransformationError(code: .invalidPattern,
                                      message: "the regular expression \(quoted(pattern)) is longer than \(Self.maximumLength) characters")
        }
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

    /// The steps of matching one value may take beyond trying each of its positions once: a
    /// pattern that backtracks without end (`(x+x+)+y` on forty x's takes billions) fails the value
    /// in well under a second instead of holding the worker.
    static let stepLimit = 1_000_000

    /// ICU reports progress after every 10,000 steps of matching, and at each position where it
    /// tries a match.
    private static let stepsPerProgressReport = 10_000

    /// Matching a value took more than `stepLimit` steps.
    struct StepLimitExceeded: Error {}

    /// `text` with every match replaced by `template`, in which `$1` stands for group 1.
    func replacingMatches(in text: String, with template: String) throws(StepLimitExceeded) -> String {
        let result = NSMutableString(string: text)
        for match in try matches(in: text, firstOnly: false).reversed() {
            let replacement = expression.replacementString(for: match, in: text, offset: 0, template: template)
            result.replaceCharacters(in: match.range, with: replacement)
        }
        return String(result)
    }

    /// Group 1 of the first match when the pattern has groups, else the whole first match;
    /// `nil` when nothing matches or group 1 did not take part in the match.
    func firstMatch(in text: String) throws(StepLimitExceeded) -> String? {
        guard let match = try matches(in: text, firstOnly: true).first else { return nil }
        let group = expression.numberOfCaptureGroups > 0 ? 1 : 0
        return Range(match.range(at: group), in: text).map { String(text[$0]) }
    }

    /// The matches in `text`, in order, found within the step limit.
    private func matches(in text: String, firstOnly: Bool) throws(StepLimitExceeded) -> [NSTextCheckingResult] {
        var found: [NSTextCheckingResult] = []
        var reportsLeft = text.utf16.count + Self.stepLimit / Self.stepsPerProgressReport
        expression.enumerateMatches(in: text, options: .reportProgress, range: NSRange(text.startIndex..., in: text)) {
            match, _, stop in
            if let match {
                found.append(match)
                if firstOnly { stop.pointee = true }
            } else {
                reportsLeft -= 1
                if reportsLeft < 0 { stop.pointee = true }
            }
        }
        guard reportsLeft >= 0 else { throw StepLimitExceeded() }
        return found
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
