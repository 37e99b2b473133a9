import Foundation
import Postgres

/// `couplet verify --repair`: brings a page's differing pairs and orphaned couplings in step
/// through the engine, never by writing a table itself.
///
/// A differing field goes the way the mapping carries it: one way, from its source; both ways
/// (a bidirectional mapping), from the update-conflict policy's winner — and with policy `fail`
/// the pair is a conflict: nothing is copied and a person decides. The winner's side is marked
/// changed in its coupling (`CouplingStore.markChanged`) and the engine runs a records sync of
/// those pairs from that side, which writes exactly the fields that differ; fields carried only
/// the other way follow in a second records run from the other side (the shared fields agree by
/// then, so it writes only those). An orphaned coupling is handed to a records run from the
/// surviving side, where the deletion-conflict policy applies. Every repaired pair is compared
/// again afterwards: `repaired` means it checks in step.
struct PairRepair {
    let mapping: MappingDefinition
    let coordination: PostgresConnection
    let engine: SyncEngine

    private var settings: MappingSettings { mapping.settings }

    /// The page's findings with what the repair did to each; `summary` adds this page's counts.
    func repair(_ findings: [VerifyFinding?], reader: PairReader, summary: inout RepairSummary) async throws -> [VerifyFinding?] {
        var plans: [Int: Plan] = [:]
        for (index, finding) in findings.enumerated() {
            if let finding, let plan = plan(for: finding.state) { plans[index] = plan }
        }
        for direction in order {
            let chosen = plans.keys.sorted().filter { plans[$0]?.directions.contains(direction) == true }.compactMap { findings[$0] }
            guard !chosen.isEmpty else { continue }
            let drifted = chosen.filter { if case .differs = $0.state { true } else { false } }
            _ = try await CouplingStore.markChanged(
                mapping: settings.name, side: direction.source, localIDs: drifted.map(\.localID), on: coordination)
            let ids = chosen.map { direction.source == .local ? $0.localID : $0.integrationID }
            let counts = try await engine.run(mapping: settings.name, kind: .records, records: ChosenRecords(side: direction.source, ids: ids), direction: direction)
            for (pass, count) in counts { summary.runs[pass, default: SyncCounts()].add(count) }
        }
        let ran = plans.keys.sorted().filter { plans[$0]?.directions.isEmpty == false }.compactMap { findings[$0] }
        let still = try await recheck(ran, reader: reader)
        var repaired = findings
        for (index, plan) in plans {
            guard var finding = findings[index] else { continue }
            finding.repair = plan.directions.isEmpty ? plan.otherwise : (still.contains(finding.localID) ? .left : .repaired)
            summary.count(finding.repair)
            repaired[index] = finding
        }
        return repaired
    }

    /// What to do with a pair: the passes to run from, or why none runs.
    private struct Plan {
        var directions: Set<SyncDirection> = []
        var otherwise: RepairResult = .notRepairable
    }

    /// The plan for a finding; nil for one that needs no repair (pending, outside the filter).
    private func plan(for state: PairState) -> Plan? {
        switch state {
        case .differs(let fields):
            var plan = Plan()
            for field in fields {
                switch field.travels {
                case .toIntegration: plan.directions.insert(.toIntegration)
                case .fromIntegration: plan.directions.insert(.fromIntegration)
                case .bidirectional:
                    guard let winner = settings.updateConflictPolicy.winner else { return Plan(otherwise: .conflict) }
                    plan.directions.insert(winner == .local ? .toIntegration : .fromIntegration)
                }
            }
            return plan
        case .orphaned(let deleted):
            let survivor = SyncSide.allCases.first { !deleted.contains($0) } ?? .local
            let passes = settings.direction.passes
            return Plan(directions: Set([passes.first { $0.source == survivor } ?? passes.first].compactMap { $0 }))
        case .notComparable:
            return Plan()
        case .pending, .outsideFilter:
            return nil
        }
    }

    /// The passes in the order they run: the update-conflict winner's first, so that the fields both
    /// passes carry already agree when the other one runs.
    private var order: [SyncDirection] {
        let passes = settings.direction.passes
        return settings.updateConflictPolicy.winner == .integration ? passes.reversed() : passes
    }

    /// The local ids of these pairs that still do not check in step (a removed coupling is in step).
    private func recheck(_ findings: [VerifyFinding], reader: PairReader) async throws -> Set<String> {
        guard !findings.isEmpty else { return [] }
        let couplings = try await CouplingStore.load(mapping: settings.name, side: .local, ids: findings.map(\.localID), on: coordination)
        let pairs = couplings.values.map { CoupledPair(localID: $0.localID, integrationID: $0.integrationID) }
        let again = try await reader.findings(in: try await reader.read(pairs))
        return Set(again.compactMap { finding in finding.flatMap { $0.state.isProblem ? $0.localID : nil } })
    }
}

extension RepairSummary {
    /// Counts one pair's repair result.
    mutating func count(_ result: RepairResult?) {
        switch result {
        case .repaired: repaired += 1
        case .conflict: conflicts += 1
        case .left, .notRepairable: left += 1
        case nil: break
        }
    }
}

extension SyncCounts {
    /// Adds another run's counts.
    mutating func add(_ other: SyncCounts) {
        inserted += other.inserted
        modified += other.modified
        deleted += other.deleted
        unchanged += other.unchanged
        skipped += other.skipped
        failed += other.failed
        coupled += other.coupled
        uncoupled += other.uncoupled
    }
}
