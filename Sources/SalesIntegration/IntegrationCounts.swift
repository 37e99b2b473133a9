/// What one run of an integration job did, record by record.
public struct IntegrationCounts: Sendable, Equatable, CustomStringConvertible {
    /// Coupled records whose CRM figures differed and were written.
    public var refreshed = 0
    /// Coupled records whose CRM figures were already right: nothing was written.
    public var unchanged = 0
    /// Changed ERP records without a coupling: not pushed.
    public var uncoupled = 0
    /// Coupled records whose CRM counterpart no longer exists.
    public var counterpartMissing = 0

    /// No records yet.
    public init() {}

    /// Adds one batch: `candidates` ERP records, of which `coupled` are coupled, and what writing them did.
    mutating func add(candidates: Int, coupled: Int, _ write: BatchWrite) {
        refreshed += write.written
        unchanged += write.computed - write.written - write.missing
        uncoupled += candidates - coupled
        counterpartMissing += write.missing
    }

    public var description: String {
        "\(refreshed) refreshed, \(unchanged) unchanged, \(uncoupled) skipped (not coupled), \(counterpartMissing) counterpart missing"
    }
}
