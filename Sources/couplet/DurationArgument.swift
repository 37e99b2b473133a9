import ArgumentParser

/// Durations on the command line: a whole number with a unit, combined largest first —
/// `500ms`, `30s`, `5m`, `1h30m`, `7d`.
extension Duration: @retroactive ExpressibleByArgument {
    public init?(argument: String) {
        let units: [(suffix: String, seconds: Double)] = [("ms", 0.001), ("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)]
        var rest = Substring(argument)
        var total = 0.0
        var lastUnit = Double.infinity
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, digits.count <= 9, let value = Double(digits) else { return nil }
            rest = rest.dropFirst(digits.count)
            guard let unit = units.first(where: { rest.hasPrefix($0.suffix) }), unit.seconds < lastUnit else { return nil }
            rest = rest.dropFirst(unit.suffix.count)
            total += value * unit.seconds
            lastUnit = unit.seconds
        }
        guard total > 0 else { return nil }
        self = .milliseconds(Int64((total * 1000).rounded()))
    }

    public static var defaultCompletionKind: CompletionKind { .default }
}
