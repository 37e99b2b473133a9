import Cron
import Foundation
import Queue
import Sync

/// How much a piece of status text should stand out.
enum Tone {
    case plain, good, warning, bad, heading, quiet

    /// The ANSI select-graphic-rendition code, nil for plain text.
    var ansiCode: String? {
        switch self {
        case .plain: nil
        case .good: "32"
        case .warning: "33"
        case .bad: "31"
        case .heading: "1"
        case .quiet: "2"
        }
    }
}

/// Colours text with ANSI escape codes only when a person reads it on a terminal.
struct Palette {
    /// Whether escape codes are written at all.
    let usesColour: Bool

    /// Colour when standard output is a terminal and `NO_COLOR` is not set (https://no-color.org).
    static var standardOutput: Palette {
        let noColour = ProcessInfo.processInfo.environment["NO_COLOR"].map { !$0.isEmpty } ?? false
        return Palette(usesColour: isatty(STDOUT_FILENO) == 1 && !noColour)
    }

    /// `text` in `tone`; unchanged without colour.
    func paint(_ text: String, _ tone: Tone) -> String {
        guard usesColour, let code = tone.ansiCode else { return text }
        return "\u{1B}[\(code)m\(text)\u{1B}[0m"
    }
}

/// A table cell and how it stands out.
struct ToneCell {
    var text: String
    var tone: Tone = .plain
}

/// Something a person should look at, and the command that shows more or fixes it.
struct StatusProblem {
    var tone: Tone
    var text: String
    var nextStep: String
}

/// Writes a `StatusSnapshot` as the sections of `couplet status`, and the problems it shows.
struct StatusText {
    let snapshot: StatusSnapshot
    let palette: Palette

    /// A watermark older than this stands out.
    static let lagWarning: Double = 3600

    /// Every section, then what needs attention.
    func lines() -> [String] {
        [queueLines(), workerLines(), limitLines(), scheduleLines(), mappingLines(), problemLines()].filter { !$0.isEmpty }.flatMap { [""] + $0 }
    }

    /// A section's title.
    private func heading(_ text: String) -> String { palette.paint(text, .heading) }

    /// A table whose header is quiet and whose cells carry their own tone.
    private func table(_ header: [String], _ rows: [[ToneCell]]) -> [String] {
        TextTable(header: header, rows: rows.map { $0.map(\.text) }).lines(indent: "  ") { row, column, cell in
            palette.paint(cell, row == 0 ? .quiet : rows[row - 1][column].tone)
        }
    }

    /// `45s`, `3h5m`, or `-` for nothing.
    private func age(_ seconds: Double?) -> String {
        seconds.map { JobDuration(seconds: Int($0)).description } ?? "-"
    }

    /// A count that takes `tone` when it is not zero.
    private func count(_ value: Int, _ tone: Tone) -> ToneCell {
        ToneCell(text: String(value), tone: value > 0 ? tone : .plain)
    }

    // MARK: Sections

    /// Per queue: waiting, scheduled, running, on hold, failed, the oldest waiting, done lately.
    private func queueLines() -> [String] {
        guard !snapshot.queues.isEmpty else { return [heading("Queues"), "  no pending, running or failed jobs"] }
        return [heading("Queues")] + table(
            ["QUEUE", "WAITING", "SCHEDULED", "RUNNING", "ON HOLD", "FAILED", "OLDEST WAITING", "DONE IN 5M"],
            snapshot.queues.map { queue in
                [ToneCell(text: queue.queue), count(queue.waiting, unserved(queue) ? .bad : .plain), count(queue.scheduled, .plain),
                 count(queue.running, .good), count(queue.onHold, .warning), count(queue.failed, .bad),
                 ToneCell(text: age(queue.oldestWaiting)), count(queue.completedRecently, .plain)]
            })
    }

    /// Live workers and stale ones: id, host, pid, queues, running jobs, last heartbeat.
    private func workerLines() -> [String] {
        let live = snapshot.workers.filter(\.isLive).count
        guard !snapshot.workers.isEmpty else { return [heading("Workers"), "  no live worker"] }
        return [heading("Workers (\(live) live)")] + table(
            ["WORKER", "HOST", "PID", "QUEUES", "RUNNING", "HEARTBEAT"],
            snapshot.workers.map { worker in
                let state = worker.isLive ? (worker.isStopping ? ", stopping" : "") : ", stale"
                let held = snapshot.endpointsHolding(worker.id)
                return [ToneCell(text: String(worker.id.uuidString.lowercased().prefix(8))), ToneCell(text: worker.hostname),
                        ToneCell(text: String(worker.pid)), ToneCell(text: worker.queues.isEmpty ? "all" : worker.queues.joined(separator: ",")),
                        ToneCell(
                            text: "\(worker.running)/\(worker.concurrency)" + (held.isEmpty ? "" : ", waiting for \(held.joined(separator: ", "))'s API limits"),
                            tone: held.isEmpty ? .plain : .warning),
                        ToneCell(text: "\(age(worker.heartbeatAge)) ago\(state)", tone: worker.isLive ? .plain : .warning)]
            })
    }

    /// Per Web API endpoint and live worker: requests waiting for the service protection limits now,
    /// in flight, the waits so far and the 429 answers; nothing when no worker has talked to one.
    private func limitLines() -> [String] {
        guard !snapshot.endpointLimits.isEmpty else { return [] }
        return [heading("API limits")] + table(
            ["ENDPOINT", "WORKER", "WAITING NOW", "IN FLIGHT", "WAITED", "429 ANSWERS"],
            snapshot.endpointLimits.map { stored in
                let limits = stored.statistics
                let waiting = "\(limits.waiting) request(s)" + (limits.isPaused ? ", paused by Retry-After" : "")
                return [ToneCell(text: limits.endpoint), ToneCell(text: "\(stored.hostname):\(stored.pid)"),
                        ToneCell(text: waiting, tone: limits.isWaiting ? .warning : .plain), ToneCell(text: String(limits.inFlight)),
                        ToneCell(text: age(limits.waitedSeconds)), count(limits.throttled, .warning)]
            })
    }

    /// Each schedule's next fire time and its last tick's job.
    private func scheduleLines() -> [String] {
        guard !snapshot.schedules.isEmpty else { return [heading("Schedules"), "  none: couplet schedules apply FILE"] }
        return [heading("Schedules")] + table(
            ["SCHEDULE", "JOB", "NEXT FIRE", "LAST JOB"],
            snapshot.schedules.map { schedule in
                let lastJob = ScheduleText.lastJob(schedule.lastTick)
                return [ToneCell(text: schedule.name), ToneCell(text: schedule.jobKind), nextFire(schedule),
                        ToneCell(text: lastJob, tone: schedule.lastTick?.jobState == .failed ? .bad : .plain)]
            })
    }

    /// The next fire time in the schedule's zone and how far ahead it is; `invalid: …` stands out.
    private func nextFire(_ schedule: StoredSchedule) -> ToneCell {
        switch schedule.upcoming(after: snapshot.takenAt, count: 1) {
        case .fireTimes(let times, let zone):
            guard let next = times.first else { return ToneCell(text: "never", tone: .warning) }
            return ToneCell(text: "\(next.iso8601(in: zone)) (\(RelativeTime.describe(secondsFromNow: next.timeIntervalSince(snapshot.takenAt))))")
        case .disabled: return ToneCell(text: "disabled", tone: .quiet)
        case .invalid(let problems): return ToneCell(text: "invalid: \(problems)", tone: .bad)
        }
    }

    /// Per mapping: the last full and delta run, errors, skipped records, couplings, watermark lag.
    private func mappingLines() -> [String] {
        guard !snapshot.mappings.isEmpty else { return [heading("Mappings"), "  none: couplet mappings apply FILE"] }
        return [heading("Mappings")] + table(
            ["MAPPING", "LAST FULL", "LAST DELTA", "OPEN ERRORS", "SKIPPED", "COUPLINGS", "WATERMARK LAG"],
            snapshot.mappings.map { mapping in
                let health = mapping.health
                return [ToneCell(text: mapping.name), lastRun(health.lastFull), lastRun(health.lastDelta),
                        count(health.openErrors, .bad), count(health.skippedRecords, .warning),
                        ToneCell(text: String(health.couplings)), lag(health)]
            })
    }

    /// `succeeded 5m ago: → integration 120 inserted; ← integration 2 failed`; a failed run stands out.
    private func lastRun(_ run: MappingHealth.LastRun?) -> ToneCell {
        guard let run else { return ToneCell(text: "-") }
        let tone: Tone = run.state == "failed" ? .bad : run.passes.contains { $0.counts.failed > 0 } ? .warning : .plain
        return ToneCell(text: MappingText.lastRun(run, now: snapshot.takenAt), tone: tone)
    }

    /// The counts that say what a run did: the non-zero changes, else how many were unchanged.
    static func describe(_ counts: SyncCounts) -> String {
        let changes = [("inserted", counts.inserted), ("modified", counts.modified), ("deleted", counts.deleted),
                       ("failed", counts.failed), ("skipped", counts.skipped)].filter { $0.1 > 0 }
        guard !changes.isEmpty else { return "\(counts.unchanged) unchanged" }
        return changes.map { "\($0.1) \($0.0)" }.joined(separator: ", ")
    }

    /// Each side's watermark lag that a run set; over an hour stands out.
    private func lag(_ health: MappingHealth) -> ToneCell {
        let sides = [("local", health.localWatermarkLag), ("integration", health.integrationWatermarkLag)]
            .compactMap { side, lag in lag.map { (side, $0) } }
        guard !sides.isEmpty else { return ToneCell(text: "-") }
        let text = sides.map { "\($0.0) \(age($0.1))" }.joined(separator: ", ")
        return ToneCell(text: text, tone: sides.contains { $0.1 > Self.lagWarning } ? .warning : .plain)
    }

    // MARK: Problems

    /// The problems, each with its next step, or a line saying all is well.
    private func problemLines() -> [String] {
        let found = problems()
        guard !found.isEmpty else {
            return [palette.paint("All well: no failed jobs, stale workers, sync errors, skipped records or lagging watermarks.", .good)]
        }
        return [heading("Needs attention")] + found.map { problem in
            "  " + palette.paint("! \(problem.text)", problem.tone) + "\n      next: " + problem.nextStep
        }
    }

    /// Whether due jobs wait in a queue that no live worker claims from.
    private func unserved(_ queue: QueueLine) -> Bool {
        queue.waiting > 0 && !snapshot.workers.contains { $0.isLive && !$0.isStopping && ($0.queues.isEmpty || $0.queues.contains(queue.queue)) }
    }

    /// What stands out, worst first within each section.
    func problems() -> [StatusProblem] {
        queueProblems() + workerProblems() + limitProblems() + scheduleProblems() + snapshot.mappings.flatMap(mappingProblems)
    }

    /// Failed jobs, and due jobs that no live worker claims.
    private func queueProblems() -> [StatusProblem] {
        snapshot.queues.flatMap { queue in
            [queue.failed > 0
                ? StatusProblem(tone: .bad, text: "\(queue.queue): \(queue.failed) failed job(s)", nextStep: "couplet jobs list --state failed")
                : nil,
             unserved(queue)
                ? StatusProblem(tone: .bad, text: "\(queue.queue): \(queue.waiting) job(s) due and no live worker claims this queue",
                                nextStep: "couplet worker --queues \(queue.queue)")
                : nil].compactMap { $0 }
        }
    }

    /// Workers that stopped heartbeating.
    private func workerProblems() -> [StatusProblem] {
        snapshot.workers.filter { !$0.isLive }.map { worker in
            StatusProblem(
                tone: .warning,
                text: "worker \(worker.hostname):\(worker.pid) stopped heartbeating \(age(worker.heartbeatAge)) ago"
                    + (worker.running > 0 ? "; its \(worker.running) running job(s) are rescued when their leases expire" : ""),
                nextStep: "check the process on \(worker.hostname); couplet jobs list --state running")
        }
    }

    /// Web API endpoints holding back a worker's requests right now.
    private func limitProblems() -> [StatusProblem] {
        snapshot.endpointLimits.filter(\.statistics.isWaiting).map { stored in
            let limits = stored.statistics
            let cause = limits.isPaused ? "the service answered 429 Too Many Requests and asked it to wait" : "its request budget or concurrency cap is used up"
            return StatusProblem(
                tone: .warning,
                text: "\(limits.endpoint): \(limits.waiting) request(s) of worker \(stored.hostname):\(stored.pid) wait for the API's service protection limits (\(cause)); its syncs are slowed, not stuck",
                nextStep: "nothing if it passes; else fewer workers or concurrent syncs on \(limits.endpoint), or schedules spread apart (docs/connectors.md)")
        }
    }

    /// Schedules that cannot fire.
    private func scheduleProblems() -> [StatusProblem] {
        snapshot.schedules.compactMap { schedule in
            guard case .invalid(let problems) = schedule.upcoming(after: snapshot.takenAt, count: 1) else { return nil }
            return StatusProblem(
                tone: .bad, text: "schedule \(schedule.name) cannot fire: \(problems)",
                nextStep: "fix it in the schedules file, then couplet schedules apply FILE")
        }
    }

    /// Failed runs, record errors, skipped records and old watermarks of one mapping.
    private func mappingProblems(_ mapping: (name: String, health: MappingHealth)) -> [StatusProblem] {
        let (name, health) = mapping
        let show = "couplet mappings show \(name)"
        let failedRuns = [("full", health.lastFull), ("delta", health.lastDelta)].filter { $0.1?.state == "failed" }.map(\.0)
        let lagging = [health.localWatermarkLag, health.integrationWatermarkLag].compactMap { $0 }.max() ?? 0
        return [
            failedRuns.isEmpty ? nil : StatusProblem(
                tone: .bad, text: "\(name): the last \(failedRuns.joined(separator: " and ")) run failed", nextStep: show),
            health.openErrors == 0 ? nil : StatusProblem(
                tone: .bad, text: "\(name): \(health.openErrors) open error(s): records failing now, one per record and kind",
                nextStep: "couplet errors \(name)"),
            health.skippedRecords == 0 ? nil : StatusProblem(
                tone: .warning, text: "\(name): \(health.skippedRecords) record(s) skipped after failing twice",
                nextStep: "\(show), fix the cause, then couplet sync retry-skipped \(name)"),
            lagging <= Self.lagWarning ? nil : StatusProblem(
                tone: .warning, text: "\(name): a watermark is \(age(lagging)) old (fine if nothing changed since)",
                nextStep: "\(show); couplet sync \(name) runs a delta now"),
        ].compactMap { $0 }
    }
}
