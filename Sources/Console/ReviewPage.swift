import Postgres
import Sync

/// The full synchronization review (`couplet review`): each mapping in dependency order with its
/// recommendation and state, refreshing while it runs.
enum ReviewPage {
    static func load(_ context: PageContext, _ connection: PostgresConnection) async throws -> Page {
        let lines = try await SyncReview.lines(countingRecords: false, on: connection)
        let rows = lines.map { line -> [HTML] in
            [
                "<a href=\"/mapping\(Layout.query([("name", line.mapping)]))\">\(line.mapping)</a>", "\(line.direction)",
                "\(line.dependsOn.isEmpty ? "-" : line.dependsOn.joined(separator: ", "))", "\(line.couplings)",
                "\(line.recommendation.rawValue)", Layout.badge(line.stateText, coloured: line.review ?? "none"),
            ]
        }
        let start = context.actionForm(
            "/review/start", [], button: "Run the review", style: "primary",
            confirm: "Run every enabled mapping's full sync, in dependency order?")
        let main: HTML = """
            <p>Every enabled mapping's full sync, each once the mappings it depends on have finished. Records on each side
            are counted by couplet review, which reaches the endpoints; here the recommendation assumes both sides hold records.</p>
            <p>\(start)</p>
            \(Layout.table(["Mapping", "Direction", "Depends on", "Coupled", "Recommendation", "State"], rows, empty: "No mappings."))
            """
        return Page(title: "Synchronization review", main: main)
    }
}
