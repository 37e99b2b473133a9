/// Where a process serves its monitoring endpoints: `host:port` (`127.0.0.1:9464`, `[::1]:9464`,
/// `0.0.0.0:9464` to be scraped from other hosts; port 0 takes a free one and logs it).
public struct MonitoringAddress: Sendable, Equatable, CustomStringConvertible {
    /// The host name or address to bind.
    public let host: String
    /// The TCP port.
    public let port: Int

    /// The address `text` names; nil when it is not `host:port` with a port from 0 to 65535.
    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65_535).contains(port) else {
            return nil
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, host.count <= 255, host.allSatisfy({ $0.isLetter || $0.isNumber || ".-:".contains($0) }) else { return nil }
        self.host = host
        self.port = port
    }

    /// The address of a host name or address and a port the caller checked.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `host:port`, an IPv6 host in brackets.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
