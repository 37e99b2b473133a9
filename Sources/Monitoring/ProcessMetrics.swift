import Foundation
import Metrics
import Postgres

/// The process's own resources, recorded just before each scrape of `/metrics`:
/// `process_resident_memory_bytes`, `process_open_fds` (Prometheus' standard process metrics, from
/// Linux's /proc) and `couplet_postgres_connections` (libpq connections open in this process: the
/// queue's own, the job pool's and the endpoints'). Where /proc cannot be read, those gauges are left out.
enum ProcessMetrics {
    /// Records the current values.
    static func record() {
        if let resident = residentMemoryBytes() { Gauge(label: "process_resident_memory_bytes").record(resident) }
        if let descriptors = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            Gauge(label: "process_open_fds").record(descriptors.count)
        }
        Gauge(label: "couplet_postgres_connections").record(PostgresConnection.openCount)
    }

    /// Resident memory: the second field of /proc/self/statm (pages) times the page size.
    private static func residentMemoryBytes() -> Int? {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = statm.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
        let (bytes, overflow) = pages.multipliedReportingOverflow(by: sysconf(Int32(_SC_PAGESIZE)))
        return overflow ? nil : bytes
    }
}
