import Foundation
import Postgres
import Sync

/// The mappings: each one's health and last runs per direction; a mapping's page with its runs,
/// its open errors grouped by class with the records, and the actions sync now, full sync, retry
/// skipped and verify.
enum MappingsPage {
    /// `/mappings`: every mapping's health.
    static func list(_ context: PageContext, _ connection: PostgresConnection) async throws -> Page {
        let health = try await MappingStore.health(on: connection)
        let rows = health.sorted { $0.key < $1.key }.map { name, health -> [HTML] in
            [
                "<a href=\"/mapping\(Layout.query([("name", name)]))\">\(name)</a>", lastRun(health.lastDelta), lastRun(health.lastFull),
                "\(health.couplings)", errorsCell(health.openErrors, mapping: name), "\(health.skippedRecords)",
                "\(lag(health.localWatermarkLag)) / \(lag(health.integrationWatermarkLag))",
            ]
        }
        let table = Layout.table(
            ["Mapping", "Last delta", "Last full", "Couplings", "Open errors", "Skipped", "Watermark lag (local / integration)"], rows,
            empty: "No mappings. Apply a mappings file with couplet mappings apply FILE.")
        return Page(title: "Mappings", main: table)
    }

    /// `/mapping?name=X`: one mapping's health, actions, runs and errors.
    static func detail(_ context: PageContext, _ connection: PostgresConnection) async throws -> Page {
        guard let name = context.query.nonEmpty("name") else { throw ConsoleFailure.badRequest("Which mapping? (/mapping?name=CUSTOMER)") }
        guard let health = try await MappingStore.health(named: [name], on: connection)[name] else {
            throw ConsoleFailure.notFound("There is no mapping \(name).")
        }
        let runs = try await MappingStore.recentRuns(of: name, limit: 20, on: connection)
        let errors = try await ErrorLog.openGroups(ErrorLog.Filter(mapping: name), examples: 10, on: connection)
        let actions = [("sync", "Sync now"), ("full-sync", "Full sync"), ("retry-skipped", "Retry skipped"), ("verify", "Verify")].map { action, label in
            context.actionForm("/mappings/action", [("mapping", name), ("action", action)], button: label)
        }
        let main: HTML = """
            <div class="figures" id="health">\(figures(health))</div>
            <p>Last delta \(lastRun(health.lastDelta)) · last full \(lastRun(health.lastFull)) · watermark lag \
            local \(lag(health.localWatermarkLag)), integration \(lag(health.integrationWatermarkLag))</p>
            <p class="actions">\(HTML.joined(actions, separator: " "))</p>
            <h2>Runs</h2>\(runTable(runs))
            <h2>Open errors by class</h2><div id="errors">\(errorGroups(errors))</div>
            """
        return Page(title: "Mapping \(name)", main: main)
    }

    /// The health's counts as labelled figures.
    static func figures(_ health: MappingHealth) -> HTML {
        """
        <span>couplings <b>\(health.couplings)</b></span><span>open errors <b>\(health.openErrors)</b></span>\
        <span>skipped <b>\(health.skippedRecords)</b></span><span>errors in 24 h <b>\(health.errorsLast24Hours)</b></span>
        """
    }

    /// A last run's state and each pass's counts, or `never`.
    static func lastRun(_ run: MappingHealth.LastRun?) -> HTML {
        guard let run else { return "<span class=\"muted\">never</span>" }
        let passes = run.passes.map { direction, counts -> HTML in
            "<span class=\"pass\">\(direction == .toIntegration ? "→" : "←") \(counts.inserted) ins, \(counts.modified) mod, \(counts.failed) failed</span>"
        }
        return "\(Layout.badge(run.state)) \(HTML.joined(passes, separator: " ")) <span class=\"muted\">\(Layout.moment(run.finishedAt))</span>"
    }

    /// Passes newest first, with their counts.
    static func runTable(_ runs: [SyncRunRecord]) -> HTML {
        let rows = runs.map { run -> [HTML] in
            let counts = run.counts
            return [
                "\(run.id)", "\(run.kind)", "\(run.direction == "to_integration" ? "→ integration" : "← integration")", Layout.badge(run.state),
                "\(Layout.moment(run.startedAt))", "\(counts.inserted)", "\(counts.modified)", "\(counts.deleted)", "\(counts.unchanged)",
                "\(counts.skipped)", "\(counts.failed)", "\(counts.coupled)", "\(counts.uncoupled)", "\(run.message ?? "")",
            ]
        }
        return Layout.table(
            ["Run", "Kind", "Direction", "State", "Started", "Inserted", "Modified", "Deleted", "Unchanged", "Skipped", "Failed", "Coupled",
             "Uncoupled", "Message"], rows, empty: "No runs yet.")
    }

    private static func errorGroups(_ groups: [ErrorLog.Group]) -> HTML {
        guard !groups.isEmpty else { return "<p class=\"empty\">No open errors.</p>" }
        return HTML.joined(groups.map { group in
            let records = group.examples.map { example -> HTML in
                "<li>\(example.recordMessage ?? "local \(example.localID ?? "-"), integration \(example.integrationID ?? "-")") (\(example.occurrences) run(s))</li>"
            }
            let more = group.records > group.examples.count ? "<li class=\"muted\">… and \(group.records - group.examples.count) more</li>" as HTML : .empty
            return """
                <div class="card"><h3>\(group.direction) · \(group.failureClass)</h3>\
                <div class="figures"><span>records <b>\(group.records)</b></span><span>occurrences <b>\(group.occurrences)</b></span>\
                <span>last seen <b>\(Layout.moment(group.lastSeenAt))</b></span></div><p>\(group.message)</p><ul>\(records)\(more)</ul></div>
                """
        })
    }

    private static func errorsCell(_ count: Int, mapping: String) -> HTML {
        count == 0 ? "0" : "<a href=\"/mapping\(Layout.query([("name", mapping)]))\">\(Layout.badge("failed")) \(count)</a>"
    }

    private static func lag(_ seconds: Double?) -> String { seconds.map(Layout.duration) ?? "-" }
}
