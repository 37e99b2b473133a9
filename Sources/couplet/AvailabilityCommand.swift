import ArgumentParser
import CommandSupport
import Foundation
import Logging
import Postgres
import SalesIntegration
import Sync

/// `couplet availability ITEM [--live]`: an item's inventory, reserved and available quantities —
/// what the CRM's product availability user may ask the ERP.
struct AvailabilityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "availability",
        abstract: "Show an item's inventory, reserved and available quantities.",
        discussion: """
            By default the figures are those the availability.items job last recorded, read through \
            couplet.item_availability(item_no), the one function the product availability user \
            (couplet_availability) may call. With --live they are computed now on the ERP endpoint \
            (COUPLET_ENDPOINT_ERP_URL): inventory is the item ledger's quantity, reserved the \
            outstanding quantity on sales orders, available the difference.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The item's number, e.g. 1000.")
    var item: String

    @Flag(help: "Compute the figures now on the ERP endpoint instead of reading the recorded ones.")
    var live = false

    /// The ERP endpoint `--live` computes on.
    private static let erpEndpoint = "erp"

    func run() async throws {
        let logger = try global.makeLogger("couplet.availability")
        let availability = try await live ? computeLive() : readRecorded(logger)
        for line in Self.lines(availability, source: live ? "live, from endpoint \(Self.erpEndpoint)" : "by the availability.items job") {
            print(line)
        }
    }

    /// The figures recorded in the coordination database; a clear failure when there are none.
    private func readRecorded(_ logger: Logger) async throws -> ItemAvailability {
        let db = try await global.connect(logger, applicationName: "couplet availability")
        defer { db.close() }
        guard let recorded = try await ItemAvailability.recorded(for: item, on: db) else {
            throw CommandFailure(description: """
                no availability is recorded for item "\(item)": it is not a coupled item (mapping ITEM-PRODUCT), or the \
                availability.items job has not run since it was coupled; --live computes it now on the ERP
                """)
        }
        return recorded
    }

    /// The figures computed now on the ERP; a clear failure when the item does not exist there.
    private func computeLive() async throws -> ItemAvailability {
        let directory = EndpointDirectory()
        let erp: PostgresConnection
        do {
            erp = try await directory.connect(Self.erpEndpoint)
        } catch let failure as SyncFailure {
            throw CommandFailure(description: failure.message)
        }
        defer { erp.close() }
        guard let computed = try await ItemAvailability.compute(for: [item], on: erp).first else {
            throw CommandFailure(description: "there is no item \"\(item)\" on endpoint \(Self.erpEndpoint)")
        }
        return computed
    }

    /// The figures, one labelled line each.
    static func lines(_ availability: ItemAvailability, source: String) -> [String] {
        [
            ("item", availability.itemNo),
            ("inventory", availability.inventory),
            ("reserved", availability.reserved),
            ("available", availability.available),
            ("computed", "\(availability.computedAt.formatted(.iso8601))  (\(source))"),
        ].map(JobFields.line)
    }
}
