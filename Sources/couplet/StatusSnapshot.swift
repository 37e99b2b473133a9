import Cron
import Foundation
import Postgres
import Queue
import Sync

/// What `couplet status` shows, read from the coordination database at one moment.
struct StatusSnapshot {
    var takenAt: Date
    var queues: [QueueLine]
    /// Live workers, and stale ones last heard of in the past 24 hours.
    var workers: [WorkerLine]
    var schedules: [StoredSchedule]
    /// Every mapping's health, by name.
    var mappings: [(name: String, health: MappingHealth)]
    /// How live workers' requests stand against the Web API endpoints' service protection limits.
    var endpointLimits: [StoredEndpointLimits]

    /// The Web API endpoints whose limits hold back requests of `worker` right now.
    func endpointsHolding(_ worker: UUID) -> [String] {
        endpointLimits.filter { $0.workerID == worker && $0.statistics.isWaiting }.map(\.statistics.endpoint)
    }

    /// Reads every section.
    static func load(on connection: PostgresConnection) async throws -> StatusSnapshot {
        StatusSnapshot(
            takenAt: Date(), queues: try await QueueStatus.queues(on: connection), workers: try await QueueStatus.workers(on: connection),
            schedules: try await ScheduleStore.list(on: connection),
            mappings: try await MappingStore.health(on: connection).sorted { $0.key < $1.key }.map { (name: $0.key, health: $0.value) },
            endpointLimits: try await EndpointLimitLog.live(on: connection))
    }
}
