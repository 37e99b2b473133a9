import FuzzInput
import Sync

// The input's first line is rule text (`trim | uppercase`), the rest a value to apply the rules to.
fuzz { text in
    let parts = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
    guard let chain = try? TransformationChain(parsing: String(parts[0])) else { return }
    let reread = try? TransformationChain(parsing: chain.description)
    expect(reread == chain, "the text form \(chain) reads back to an equal chain")
    let value = parts.count > 1 ? String(parts[1]) : ""
    for input in [value, nil] {
        _ = try? chain.apply(to: input)
        _ = try? chain.apply(to: input, lookup: coupledID)
    }
}

/// A lookup resolver that couples every value but the empty one.
func coupledID(mapping: String, value: String) -> String? {
    value.isEmpty ? nil : "\(mapping):\(value)"
}
