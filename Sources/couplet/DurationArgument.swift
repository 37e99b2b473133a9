import ArgumentParser
import Cron

/// Durations on the command line, in the syntax of `Duration(parsing:)`: whole numbers with units,
/// largest first — `500ms`, `30s`, `5m`, `1h30m`, `7d`. Options take positive durations only.
extension Duration: @retroactive ExpressibleByArgument {
    public init?(argument: String) {
        guard let duration = try? Duration(parsing: argument), duration > .zero else { return nil }
        self = duration
    }

    public static var defaultCompletionKind: CompletionKind { .default }
}
