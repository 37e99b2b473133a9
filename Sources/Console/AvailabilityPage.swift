import Postgres
import SalesIntegration

/// An item's availability as the `availability.items` job recorded it (`couplet availability ITEM`).
enum AvailabilityPage {
    static func load(_ context: PageContext, _ connection: PostgresConnection) async throws -> Page {
        let item = context.query.nonEmpty("item").map { String($0.prefix(100)) }
        let form: HTML = """
            <form method="get" action="/availability" class="filters"><label>Item number <input name="item" id="item" value="\(item ?? "")" maxlength="100"></label>
            <button type="submit">Show</button></form>
            """
        guard let item else { return Page(title: "Item availability", main: form) }
        guard let availability = try await ItemAvailability.recorded(for: item, on: connection) else {
            return Page(title: "Item availability", main: """
                \(form)<p class="empty">No availability is recorded for item \(item): it is not a coupled item (mapping ITEM-PRODUCT),
                or the availability.items job has not run since it was coupled.</p>
                """)
        }
        let rows: [[HTML]] = [
            ["Item", "\(availability.itemNo)"], ["Inventory", "\(availability.inventory)"], ["Reserved", "\(availability.reserved)"],
            ["Available", "\(availability.available)"], ["Computed", "\(Layout.moment(availability.computedAt))"],
        ]
        return Page(title: "Item availability", main: "\(form)\(Layout.table(["", ""], rows, empty: ""))")
    }
}
