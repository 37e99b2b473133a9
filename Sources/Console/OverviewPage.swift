import Cron
import Foundation
import Postgres
import Queue
import Sync

/// The overview: each queue's depth by state and its last hour, the workers, the scheduler leader,
/// and every mapping's health at a glance.
enum OverviewPage {
    /// Reads every section in one read-only transaction without parallel workers: each statement
    /// scans at most a backlog's or an hour's index entries, where starting workers costs more than
    /// it saves (tens of milliseconds on a busy server).
    static func load(_ context: PageContext, _ connection: PostgresConnection) async throws -> Page {
        let (queues, throughput, workers, leader, health) = try await connection.withTransaction { tx in
            try await tx.runScript("SET TRANSACTION READ ONLY; SET LOCAL max_parallel_workers_per_gather = 0", name: "overview settings")
            return (
                try await QueueStatus.queues(on: tx),
                try await QueueStatus.throughput(buckets: BarChart.buckets, bucketMinutes: BarChart.bucketMinutes, on: tx),
                try await QueueStatus.workers(on: tx), try await ScheduleStore.leader(on: tx), try await MappingStore.health(on: tx)
            )
        }
        let main: HTML = """
            <h2>Queues</h2>\(queueTable(queues, throughput))
            <h2>Workers</h2>\(workerTable(workers))
            <h2>Scheduler</h2>\(leaderLine(leader))
            <h2>Mappings</h2>\(mappingCards(health))
            """
        return Page(title: "Overview", main: main)
    }

    private static func queueTable(_ queues: [QueueLine], _ throughput: [ThroughputBucket]) -> HTML {
        let newest = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 / Double(BarChart.bucketMinutes * 60)).rounded(.down)
            * Double(BarChart.bucketMinutes * 60))
        let names = Set(queues.map(\.queue)).union(throughput.map(\.queue)).sorted()
        let rows = names.map { name -> [HTML] in
            let line = queues.first { $0.queue == name }
            let chart = BarChart(queue: name, counts: throughput.filter { $0.queue == name }, newestStart: newest)
            let failed = line?.failed ?? 0
            let failedCell: HTML = failed > 0
                ? "<a href=\"/jobs\(Layout.query([("state", "failed"), ("queue", name)]))\">\(Layout.badge("failed")) \(failed)</a>" : "0"
            return [
                "<a href=\"/jobs\(Layout.query([("queue", name)]))\">\(name)</a>", "\(line?.waiting ?? 0)", "\(line?.scheduled ?? 0)",
                "\(line?.running ?? 0)", "\(line?.onHold ?? 0)", failedCell,
                "\(line?.oldestWaiting.map(Layout.duration) ?? "-")", chart.svg,
            ]
        }
        return Layout.table(
            ["Queue", "Waiting", "Scheduled", "Running", "On hold", "Failed", "Oldest waiting", "Finished, last hour"], rows,
            empty: "No jobs yet.")
    }

    private static func workerTable(_ workers: [WorkerLine]) -> HTML {
        let rows = workers.map { worker -> [HTML] in
            [
                "\(worker.hostname):\(worker.pid)", Layout.badge(worker.isLive ? (worker.isStopping ? "stopping" : "live") : "stale"),
                "\(worker.queues.isEmpty ? "every queue" : worker.queues.joined(separator: ", "))", "\(worker.running) of \(worker.concurrency)",
                "\(Layout.duration(worker.heartbeatAge)) ago",
            ]
        }
        return Layout.table(["Worker", "State", "Queues", "Running", "Heartbeat"], rows, empty: "No worker has been heard of in 24 hours.")
    }

    private static func leaderLine(_ leader: SchedulerLeaderRecord?) -> HTML {
        guard let leader else { return "<p class=\"empty\">No scheduler has led yet.</p>" }
        let state = leader.isCurrent ? Layout.badge("live") : Layout.badge("stale")
        return "<p>Leader \(state) \(leader.hostname):\(leader.pid), since \(Layout.moment(leader.acquiredAt)); lease until \(Layout.moment(leader.expiresAt)).</p>"
    }

    private static func mappingCards(_ health: [String: MappingHealth]) -> HTML {
        guard !health.isEmpty else { return "<p class=\"empty\">No mappings. Apply a mappings file with couplet mappings apply FILE.</p>" }
        let cards = health.sorted { $0.key < $1.key }.map { name, health -> HTML in
            """
            <div class="card"><h3><a href="/mapping\(Layout.query([("name", name)]))">\(name)</a></h3>\
            <div class="figures">\(MappingsPage.figures(health))</div>\
            <div>last delta \(MappingsPage.lastRun(health.lastDelta)) · last full \(MappingsPage.lastRun(health.lastFull))</div></div>
            """
        }
        return "<div class=\"cards\">\(cards)</div>"
    }
}
