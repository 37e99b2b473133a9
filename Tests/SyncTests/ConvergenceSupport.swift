import Foundation
import Postgres
import PostgresTestSupport

@testable import Sync

/// An ERP debtor as the test reads it.
struct DebtorRow: Equatable {
    var id: String, name: String, country: String?, credit: Decimal?, manager: String?, blocked: Bool
}

/// A CRM client as the test reads it.
struct ClientRow: Equatable {
    var id: String, number: String?, name: String, country: String?, credit: Decimal?, manager: String?
}

/// A coupling with the results the invariants look at.
struct CouplingRow {
    var localID: String, integrationID: String, localResult: String?, integrationResult: String?, skipped: Bool

    var hasOpenFailure: Bool { skipped || localResult == "failure" || integrationResult == "failure" }
}

extension OwnSchemaFixture {
    /// Empties both endpoints and forgets the mapping with everything the engine kept about it, for the next round.
    func reset() async throws {
        try await coordination.runScript(
            "DELETE FROM couplet.sync_runs WHERE mapping = 'DEBTOR'; DELETE FROM couplet.table_mappings WHERE name = 'DEBTOR'",
            name: "forget DEBTOR")
        try await erp.runScript("TRUNCATE debtor RESTART IDENTITY", name: "empty ERP")
        try await crm.runScript("DELETE FROM client", name: "empty CRM")
    }

    func debtors() async throws -> [String: DebtorRow] {
        var rows: [String: DebtorRow] = [:]
        for row in try await erp.query("SELECT id::text, name, country::text, credit_limit::text, manager, blocked FROM debtor") {
            let (id, name, country, credit, manager, blocked) = try row.decode((String, String, String?, String?, String?, Bool).self)
            rows[id] = DebtorRow(id: id, name: name, country: country, credit: credit.flatMap { Decimal(string: $0) },
                                 manager: manager, blocked: blocked)
        }
        return rows
    }

    func clients() async throws -> [String: ClientRow] {
        var rows: [String: ClientRow] = [:]
        for row in try await crm.query("SELECT id::text, number, name, country, credit::text, manager FROM client") {
            let (id, number, name, country, credit, manager) = try row.decode((String, String?, String, String?, String?, String?).self)
            rows[id] = ClientRow(id: id, number: number, name: name, country: country, credit: credit.flatMap { Decimal(string: $0) },
                                 manager: manager)
        }
        return rows
    }

    func couplingRows() async throws -> [CouplingRow] {
        try await coordination.query(
            "SELECT local_id, integration_id, local_result, integration_result, skipped FROM couplet.couplings WHERE mapping = 'DEBTOR'"
        ).map {
            let (local, integration, localResult, integrationResult, skipped) = try $0.decode((String, String, String?, String?, Bool).self)
            return CouplingRow(localID: local, integrationID: integration, localResult: localResult,
                               integrationResult: integrationResult, skipped: skipped)
        }
    }

    /// The remembered survivors of deleted counterparts, per side.
    func rememberedDeletions() async throws -> [SyncSide: Set<String>] {
        var remembered: [SyncSide: Set<String>] = [.local: [], .integration: []]
        for row in try await coordination.query("SELECT side, record_id FROM couplet.deleted_counterparts WHERE mapping = 'DEBTOR'") {
            let (side, id) = try row.decode((String, String).self)
            remembered[side == "local" ? .local : .integration, default: []].insert(id)
        }
        return remembered
    }

    /// Every blocked debtor as the whole row's text (modified_at included): what the engine must never change.
    func blockedRows() async throws -> [String: String] {
        var rows: [String: String] = [:]
        for row in try await erp.query("SELECT id::text, debtor::text FROM debtor WHERE blocked") {
            let (id, text) = try row.decode((String, String).self)
            rows[id] = text
        }
        return rows
    }
}

extension SyncCounts {
    /// Whether the pass wrote or (un)coupled anything.
    var changedAnything: Bool { inserted + modified + deleted + coupled + uncoupled > 0 }

    var brief: String {
        "i\(inserted) m\(modified) d\(deleted) u\(unchanged) s\(skipped) f\(failed) c\(coupled) x\(uncoupled)"
    }
}
