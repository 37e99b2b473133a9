import Foundation
import Logging
import Postgres
import PostgresTestSupport
import Testing

@testable import Sync

/// Mapping settings drawn from the real option space.
struct ConvergenceSettings: CustomStringConvertible {
    var direction: String
    var updateConflict: String
    var deletionConflict: String
    var matchName: Bool
    /// A one-way mapping whose target side nobody edits: the target must then mirror the source exactly.
    var pure: Bool

    init(_ rng: inout SplitMix64) {
        direction = rng.pick(["bidirectional", "to_integration", "from_integration"])
        updateConflict = rng.pick(["fail", "send_to_integration", "get_from_integration"])
        deletionConflict = rng.pick(["fail", "remove_coupling", "propagate"])
        matchName = rng.chance(50)
        pure = direction != "bidirectional" && rng.chance(50)
    }

    var description: String {
        "direction \(direction), update_conflict \(updateConflict), deletion_conflict \(deletionConflict), match \(matchName ? "name" : "none")\(pure ? ", source side edited only" : "")"
    }

    /// The side a one-way mapping reads, nil for bidirectional.
    var oneWaySource: SyncSide? {
        switch direction {
        case "to_integration": .local
        case "from_integration": .integration
        default: nil
        }
    }
}

/// One seeded round: random edits on both sides with syncs between them, then quiescence and the invariants.
struct ConvergenceRound {
    let seed: UInt64
    let f: OwnSchemaFixture
    var rng: SplitMix64
    let settings: ConvergenceSettings
    var log: [String] = []
    var problems: [String] = []
    var clock = 0
    /// What the round ended with, for the log.
    var summary = ""
    var nameCounter = 0
    /// Records a person inserted, per side.
    var personIDs: [SyncSide: Set<String>] = [.local: [], .integration: []]
    /// Trimmed names a person wrote, per side.
    var personNames: [SyncSide: Set<String>] = [.local: [], .integration: []]
    /// CRM numbers a person typed in.
    var personNumbers: Set<String> = []
    var deletedIDs: [SyncSide: Set<String>] = [.local: [], .integration: []]
    /// Deleted source records' keys (ERP id, CRM number), for the exact oracle.
    var deletedKeys: [SyncSide: Set<String>] = [.local: [], .integration: []]
    var deletedNames: [(side: SyncSide, name: String, heldBy: Set<String>)] = []
    /// The step of a person's last write to each record.
    var lastEdit: [SyncSide: [String: Int]] = [.local: [:], .integration: [:]]

    static let quiet: Logger = {
        var logger = Logger(label: "convergence")
        logger.logLevel = .critical
        return logger
    }()

    static let countries: [String?] = [nil, "DE", "GB", "US", "FR"]
    static let credits: [String?] = [nil, "0", "100.50", "2500", "99999.99"]
    static let managers: [String?] = [nil, "ANNA", "BOB", "CARL"]

    init(seed: UInt64, fixture: OwnSchemaFixture) {
        self.seed = seed
        f = fixture
        var generator = SplitMix64(seed: seed)
        settings = ConvergenceSettings(&generator)
        rng = generator
    }

    mutating func fail(_ message: String) {
        problems.append(message)
    }

    mutating func check(_ condition: Bool, _ message: String) {
        if !condition { fail(message) }
    }

    // MARK: the round

    mutating func run() async throws {
        try await f.reset()
        try await f.addMapping(direction: settings.direction, updateConflict: settings.updateConflict,
                               deletionConflict: settings.deletionConflict, match: settings.matchName ? "name" : nil)
        let steps = 8 + rng.below(8)
        for step in 1...steps {
            clock = step
            log.append("step \(step):")
            for _ in 0...rng.below(3) { try await randomOperation() }
            let late = rng.chance(20) ? try await beginLateEdit() : nil
            try await sync(rng.chance(75) ? .delta : .full)
            try await late?.value
        }
        clock += 1
        log.append("quiesce:")
        var quiet = false
        for _ in 1...6 {
            let full = try await sync(.full)
            let delta = try await sync(.delta)
            if !(full.values.contains { $0.changedAnything } || delta.values.contains { $0.changedAnything }) {
                quiet = true
                break
            }
        }
        check(quiet, "no quiescence: six full + delta rounds still wrote or (un)coupled records")
        let last = try await sync(.delta)
        for (direction, counts) in last {
            check(counts.inserted == 0 && counts.modified == 0 && counts.deleted == 0,
                  "(5) a final delta sync wrote \(direction): \(counts.brief) (echo or no convergence)")
        }
        try await checkInvariants()
    }

    /// Runs a sync and checks that no blocked debtor (outside the filter) was touched by it.
    @discardableResult
    mutating func sync(_ kind: SyncKind) async throws -> [SyncDirection: SyncCounts] {
        let before = try await f.blockedRows()
        let counts = try await SyncEngine(coordination: f.coordination, endpoints: f.endpoints, logger: Self.quiet)
            .run(mapping: "DEBTOR", kind: kind)
        let after = try await f.blockedRows()
        for (id, row) in before where after[id] != row {
            fail("(3) the \(kind) sync changed blocked debtor \(id), outside the filter: \(row) → \(after[id] ?? "deleted or unblocked")")
        }
        log.append("  \(kind) sync: " + counts.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key) \($0.value.brief)" }.joined(separator: "; "))
        return counts
    }

    // MARK: operations

    /// Client ids in an order that does not depend on the random uuids, so that a seed replays the same choices.
    static func ordered(_ clients: [String: ClientRow]) -> [String] {
        clients.values.sorted {
            let a = ($0.name.trimmingCharacters(in: .whitespaces), $0.number ?? "", $0.country ?? "", $0.manager ?? "")
            let b = ($1.name.trimmingCharacters(in: .whitespaces), $1.number ?? "", $1.country ?? "", $1.manager ?? "")
            return a != b ? a < b : ($0.credit ?? -1, $0.id) < ($1.credit ?? -1, $1.id)
        }.map(\.id)
    }

    mutating func freshName() -> String {
        nameCounter += 1
        return rng.pick(["", " ", "  "]) + "Acme \(nameCounter)" + rng.pick(["", " ", "   "])
    }

    func trimmed(_ name: String) -> String { name.trimmingCharacters(in: .whitespaces) }

    mutating func randomOperation() async throws {
        let sides: [SyncSide] = settings.pure ? [settings.oneWaySource!] : [.local, .integration]
        let roll = rng.below(100)
        switch roll {
        case 0..<22: try await insert(on: rng.pick(sides))
        case 22..<27 where !settings.pure: try await insertTwins()
        case 27..<57: try await update(on: rng.pick(sides))
        case 57..<65 where !settings.pure: try await updateBothOfAPair()
        case 65..<83: try await delete(on: rng.pick(sides))
        case 83..<88 where !settings.pure: try await negativeCredit()
        case 88..<91 where !settings.pure: try await blockACoupledDebtor()
        case 91..<95 where !settings.pure: try await claimBlockedNumber()
        case 95..<100 where !settings.pure: try await takeBlockedName()
        default: try await insert(on: rng.pick(sides))
        }
    }

    mutating func insert(on side: SyncSide, name given: String? = nil) async throws {
        let name = given ?? freshName()
        let (country, credit, manager) = (rng.pick(Self.countries), rng.pick(Self.credits), rng.pick(Self.managers))
        let id: String
        if side == .local {
            let blocked = settings.oneWaySource != .integration && !settings.pure && rng.chance(20)
            id = try await f.erp.query(
                """
                INSERT INTO debtor (name, country, credit_limit, manager, blocked)
                VALUES (\(name), \(country), \(credit)::numeric, \(manager), \(blocked)) RETURNING id::text
                """).single().decode(String.self, at: 0)
            log.append("  insert debtor \(id) '\(name)' \(country ?? "-") \(credit ?? "-") \(manager ?? "-")\(blocked ? " BLOCKED" : "")")
        } else {
            id = try await f.crm.query(
                "INSERT INTO client (name, country, credit, manager) VALUES (\(name), \(country), \(credit)::numeric, \(manager)) RETURNING id::text"
            ).single().decode(String.self, at: 0)
            log.append("  insert client \(id) '\(name)' \(country ?? "-") \(credit ?? "-") \(manager ?? "-")")
        }
        personIDs[side, default: []].insert(id)
        personNames[side, default: []].insert(trimmed(name))
        lastEdit[side, default: [:]][id] = clock
    }

    mutating func insertTwins() async throws {
        let name = freshName()
        log.append("  twins '\(name)' on both sides:")
        try await insert(on: .local, name: name)
        try await insert(on: .integration, name: name)
    }

    /// A person's edit in a transaction that started before the sync reads and commits while it
    /// runs (its modified-on is older than rows the sync sees): a delta must still carry it later.
    mutating func beginLateEdit() async throws -> Task<Void, any Error>? {
        let side = settings.oneWaySource ?? rng.pick([SyncSide.local, .integration])
        // Not a blocked debtor: the round checks that nothing writes those during a sync.
        let ids = side == .local ? try await f.debtors().values.filter { !$0.blocked }.map(\.id).sorted() : Self.ordered(try await f.clients())
        guard let id = rng.any(of: ids) else { return nil }
        let manager = rng.pick(Self.managers)
        log.append("  late edit of \(side == .local ? "debtor" : "client") \(id): manager = \(manager ?? "NULL"), committed during the sync")
        let writer = try await PostgresConnection.connect(f.endpoints.configuration(of: side == .local ? "erp" : "crm"))
        try await writer.runScript("BEGIN", name: "late edit")
        if side == .local {
            try await writer.query("UPDATE debtor SET manager = \(manager) WHERE id = \(id)::int")
        } else {
            try await writer.query("UPDATE client SET manager = \(manager) WHERE id = \(id)::uuid")
        }
        lastEdit[side, default: [:]][id] = clock
        return Task {
            defer { writer.close() }
            try await Task.sleep(for: .milliseconds(150))
            try await writer.runScript("COMMIT", name: "late commit")
        }
    }

    mutating func update(on side: SyncSide, id given: String? = nil) async throws {
        let debtorIDs = try await f.debtors().keys.sorted(), clientIDs = Self.ordered(try await f.clients())
        let ids = side == .local ? debtorIDs : clientIDs
        guard let id = given ?? rng.any(of: ids) else { return try await insert(on: side) }
        var fields = [0, 1, 2, 3].filter { _ in rng.chance(50) }
        if fields.isEmpty { fields = [rng.below(4)] }
        for field in fields {
            switch field {
            case 0:
                let name = freshName()
                personNames[side, default: []].insert(trimmed(name))
                try await write(side, id, column: "name", name)
            case 1: try await write(side, id, column: "country", rng.pick(Self.countries))
            case 2: try await write(side, id, column: "credit", rng.pick(Self.credits))
            default: try await write(side, id, column: "manager", rng.pick(Self.managers))
            }
        }
        lastEdit[side, default: [:]][id] = clock
    }

    mutating func write(_ side: SyncSide, _ id: String, column: String, _ value: String?) async throws {
        log.append("  set \(side == .local ? "debtor" : "client") \(id) \(column) = \(value.map { "'\($0)'" } ?? "NULL")")
        switch (side, column) {
        case (.local, "name"): try await f.erp.query("UPDATE debtor SET name = \(value ?? "") WHERE id = \(id)::int")
        case (.local, "country"): try await f.erp.query("UPDATE debtor SET country = \(value) WHERE id = \(id)::int")
        case (.local, "credit"): try await f.erp.query("UPDATE debtor SET credit_limit = \(value)::numeric WHERE id = \(id)::int")
        case (.local, _): try await f.erp.query("UPDATE debtor SET manager = \(value) WHERE id = \(id)::int")
        case (.integration, "name"): try await f.crm.query("UPDATE client SET name = \(value ?? "") WHERE id = \(id)::uuid")
        case (.integration, "country"): try await f.crm.query("UPDATE client SET country = \(value) WHERE id = \(id)::uuid")
        case (.integration, "credit"): try await f.crm.query("UPDATE client SET credit = \(value)::numeric WHERE id = \(id)::uuid")
        case (.integration, "number"): try await f.crm.query("UPDATE client SET number = \(value) WHERE id = \(id)::uuid")
        case (.integration, _): try await f.crm.query("UPDATE client SET manager = \(value) WHERE id = \(id)::uuid")
        }
    }

    /// Both records of a coupled pair edited in one step: an update conflict when the mapping is bidirectional.
    mutating func updateBothOfAPair() async throws {
        let pairs = try await f.couplingRows().sorted { $0.localID < $1.localID }
        guard let pair = rng.any(of: pairs) else { return try await insert(on: .local) }
        let debtors = try await f.debtors(), clients = try await f.clients()
        guard debtors[pair.localID] != nil, clients[pair.integrationID] != nil else { return }
        log.append("  both records of pair \(pair.localID) ↔ \(pair.integrationID):")
        try await update(on: .local, id: pair.localID)
        try await update(on: .integration, id: pair.integrationID)
    }

    mutating func delete(on side: SyncSide) async throws {
        if side == .local {
            let debtors = try await f.debtors()
            guard let id = rng.any(of: debtors.keys.sorted()), let record = debtors[id] else { return }
            let name = trimmed(record.name)
            let holders = Set(debtors.values.filter { $0.id != id && trimmed($0.name) == name }.map(\.id))
            try await f.erp.query("DELETE FROM debtor WHERE id = \(id)::int")
            deletedIDs[.local, default: []].insert(id)
            deletedKeys[.local, default: []].insert(id)
            deletedNames.append((.local, name, holders))
            log.append("  delete debtor \(id) '\(record.name)'\(record.blocked ? " (blocked)" : "")")
        } else {
            let clients = try await f.clients()
            guard let id = rng.any(of: Self.ordered(clients)), let record = clients[id] else { return }
            let name = trimmed(record.name)
            let holders = Set(clients.values.filter { $0.id != id && trimmed($0.name) == name }.map(\.id))
            try await f.crm.query("DELETE FROM client WHERE id = \(id)::uuid")
            deletedIDs[.integration, default: []].insert(id)
            if let number = record.number { deletedKeys[.integration, default: []].insert(number) }
            deletedNames.append((.integration, name, holders))
            log.append("  delete client \(id) '\(record.name)' number \(record.number ?? "-")")
        }
    }

    /// A value that fails on its own data: the ERP's CHECK refuses a negative credit limit.
    mutating func negativeCredit() async throws {
        let clientIDs = Self.ordered(try await f.clients())
        guard let id = rng.any(of: clientIDs) else { return try await insert(on: .integration) }
        try await write(.integration, id, column: "credit", "-5")
        lastEdit[.integration, default: [:]][id] = clock
    }

    /// A person blocks a debtor (maybe coupled): from now on it is outside the filter and the engine must leave it alone.
    mutating func blockACoupledDebtor() async throws {
        let open = try await f.debtors().values.filter { !$0.blocked }.map(\.id).sorted()
        guard let id = rng.any(of: open) else { return try await insert(on: .local) }
        try await f.erp.query("UPDATE debtor SET blocked = true WHERE id = \(id)::int")
        log.append("  block debtor \(id)")
        lastEdit[.local, default: [:]][id] = clock
    }

    /// A CRM record typed in with the number of a blocked debtor: inserting it must not overwrite the debtor.
    mutating func claimBlockedNumber() async throws {
        let blockedIDs = try await f.debtors().values.filter(\.blocked).map(\.id).sorted()
        guard let blocked = rng.any(of: blockedIDs) else {
            return try await insert(on: .local)
        }
        try await insert(on: .integration)
        let id = try await f.value(f.crm, "SELECT id::text FROM client ORDER BY modified_at DESC, id LIMIT 1", as: String.self)
        guard personIDs[.integration]?.contains(id) == true else { return }
        personNumbers.insert(blocked)
        try await write(.integration, id, column: "number", blocked)
    }

    /// A CRM record named like a blocked debtor: matching by name must not couple it to (and write) the debtor.
    mutating func takeBlockedName() async throws {
        let blockedDebtors = try await f.debtors().values.filter(\.blocked).sorted { $0.id < $1.id }
        guard let blocked = rng.any(of: blockedDebtors) else {
            return try await insert(on: .integration)
        }
        log.append("  client named like blocked debtor \(blocked.id):")
        try await insert(on: .integration, name: " " + trimmed(blocked.name))
    }

    // MARK: invariants

    mutating func checkInvariants() async throws {
        let debtors = try await f.debtors()
        let clients = try await f.clients()
        let couplings = try await f.couplingRows()
        let remembered = try await f.rememberedDeletions()
        let policy = settings.deletionConflict
        summary = "\(debtors.count) debtors (\(debtors.values.filter(\.blocked).count) blocked), \(clients.count) clients, \(couplings.count) couplings (\(couplings.filter(\.hasOpenFailure).count) failing), \(deletedIDs.values.map(\.count).reduce(0, +)) deleted"

        // (1) one record per counterpart: no record in two couplings, no two CRM records claiming one debtor,
        // no record the engine created left without its coupling (unless remembered as a deleted counterpart's survivor).
        for (id, count) in Dictionary(grouping: couplings, by: \.localID).mapValues(\.count) where count > 1 {
            fail("(1) debtor \(id) is in \(count) couplings")
        }
        for (id, count) in Dictionary(grouping: couplings, by: \.integrationID).mapValues(\.count) where count > 1 {
            fail("(1) client \(id) is in \(count) couplings")
        }
        let numbered = Dictionary(grouping: clients.values.filter { $0.number != nil }, by: { $0.number! })
        for (number, holders) in numbered where holders.count > 1 && !personNumbers.contains(number) {
            fail("(1) \(holders.count) clients carry number \(number): \(holders.map(\.id).sorted())")
        }
        let coupledLocal = Set(couplings.map(\.localID)), coupledIntegration = Set(couplings.map(\.integrationID))
        for id in debtors.keys where !(personIDs[.local]?.contains(id) ?? false) {
            check(coupledLocal.contains(id) || remembered[.local]?.contains(id) == true,
                  "(1) debtor \(id) was created by the engine but is coupled to nothing (a duplicate?)")
        }
        for id in clients.keys where !(personIDs[.integration]?.contains(id) ?? false) {
            check(coupledIntegration.contains(id) || remembered[.integration]?.contains(id) == true,
                  "(1) client \(id) was created by the engine but is coupled to nothing (a duplicate?)")
        }

        // (2) couplings point at existing records, or carry the failure that keeps them (never under remove_coupling unless skipped).
        for coupling in couplings {
            let debtor = debtors[coupling.localID], client = clients[coupling.integrationID]
            guard debtor == nil || client == nil else { continue }
            let what = "(2) coupling \(coupling.localID) ↔ \(coupling.integrationID) points at a deleted \(debtor == nil ? "debtor" : "")\(debtor == nil && client == nil ? " and " : "")\(client == nil ? "client" : "")"
            if debtor?.blocked == true, settings.direction == "to_integration" {
                continue  // the only pass reads debtors, and this one is outside the filter: the pair is dormant until it passes again
            } else if policy == "remove_coupling" {
                check(coupling.skipped, what + " under remove_coupling, and it is not skipped")
            } else {
                check(coupling.hasOpenFailure, what + " with no failure logged")
            }
        }

        // (4) coupled pairs without an open failure agree in the mapped fields.
        for coupling in couplings where !coupling.hasOpenFailure {
            guard let debtor = debtors[coupling.localID], let client = clients[coupling.integrationID], !debtor.blocked else { continue }
            if let source = settings.oneWaySource {
                let (sourceID, targetID) = source == .local ? (debtor.id, client.id) : (client.id, debtor.id)
                let targetEdit = lastEdit[source.opposite]?[targetID] ?? -1, sourceEdit = lastEdit[source]?[sourceID] ?? -1
                if targetEdit > sourceEdit { continue }  // a person edited the target last: a one-way mapping leaves it
            }
            let differences = self.differences(debtor, client, exactNames: false)
            check(differences.isEmpty, "(4) coupled pair debtor \(debtor.id) ↔ client \(client.id) has no failure but differs in \(differences): \(debtor) vs \(client)")
        }

        // (6) nothing a person deleted comes back.
        for id in deletedIDs[.local] ?? [] where debtors[id] != nil && !personNumbers.contains(id) {
            fail("(6) debtor \(id) was deleted by a person and exists again: \(debtors[id]!)")
        }
        for id in deletedIDs[.integration] ?? [] where clients[id] != nil {
            fail("(6) client \(id) was deleted by a person and exists again")
        }
        for deleted in deletedNames where !(personNames[deleted.side.opposite]?.contains(deleted.name) ?? false) {
            // A record a person made with that name again (on the same side) is theirs, not a resurrection.
            let theirs = personIDs[deleted.side] ?? []
            let back: [String] = deleted.side == .local
                ? debtors.values.filter { trimmed($0.name) == deleted.name && !deleted.heldBy.contains($0.id) && !theirs.contains($0.id) }.map(\.id)
                : clients.values.filter { trimmed($0.name) == deleted.name && !deleted.heldBy.contains($0.id) && !theirs.contains($0.id) }.map(\.id)
            check(back.isEmpty, "(6) '\(deleted.name)' was deleted from the \(deleted.side) side and came back as \(back.sorted())")
        }

        if settings.pure { checkMirror(debtors, clients, couplings, remembered) }
    }

    /// The mapped fields in which a debtor and a client differ (names compared trimmed unless `exactNames`).
    func differences(_ debtor: DebtorRow, _ client: ClientRow, exactNames: Bool) -> [String] {
        var fields: [String] = []
        if settings.direction == "from_integration" {
            if client.number != nil && client.number != debtor.id { fields.append("number") }
        } else if client.number != debtor.id {
            fields.append("number")
        }
        let names = exactNames && settings.direction == "to_integration" ? (debtor.name, client.name)
            : exactNames ? (debtor.name, trimmed(client.name)) : (trimmed(debtor.name), trimmed(client.name))
        if names.0 != names.1 { fields.append("name") }
        if debtor.country != client.country { fields.append("country") }
        if debtor.credit != client.credit { fields.append("credit") }
        if debtor.manager != client.manager { fields.append("manager") }
        return fields
    }

    /// The exact oracle of a one-way mapping whose target nobody edits: the target mirrors the source
    /// (names exactly as the rules write them); the only other target records survive deleted sources,
    /// and none does under propagate.
    mutating func checkMirror(_ debtors: [String: DebtorRow], _ clients: [String: ClientRow], _ couplings: [CouplingRow],
                              _ remembered: [SyncSide: Set<String>]) {
        let source = settings.oneWaySource!
        let bySource = Dictionary(couplings.map { (source == .local ? $0.localID : $0.integrationID, $0) }, uniquingKeysWith: { a, _ in a })
        let byTarget = Dictionary(couplings.map { (source == .local ? $0.integrationID : $0.localID, $0) }, uniquingKeysWith: { a, _ in a })
        let sourceIDs = source == .local ? debtors.values.filter { !$0.blocked }.map(\.id) : Array(clients.keys)
        let targetIDs = source == .local ? Array(clients.keys) : Array(debtors.keys)
        for id in sourceIDs.sorted() {
            guard let coupling = bySource[id], !coupling.hasOpenFailure else {
                fail("(oracle) \(source) record \(id) has no clean coupling: \(String(describing: bySource[id]))")
                continue
            }
            guard let debtor = debtors[coupling.localID], let client = clients[coupling.integrationID] else {
                fail("(oracle) \(source) record \(id) is coupled to a missing record")
                continue
            }
            let differences = self.differences(debtor, client, exactNames: true)
            check(differences.isEmpty, "(oracle) \(debtor) and \(client) differ in \(differences)")
        }
        for id in targetIDs.sorted() {
            let coupling = byTarget[id]
            let counterpart = coupling.map { source == .local ? $0.localID : $0.integrationID }
            if let counterpart, sourceIDs.contains(counterpart) { continue }
            if settings.deletionConflict == "propagate" {
                fail("(oracle) target record \(id) outlives its deleted source \(counterpart ?? "?") under propagate")
            } else if let counterpart {
                check(settings.deletionConflict == "fail" && (deletedIDs[source]?.contains(counterpart) ?? false),
                      "(oracle) target record \(id) is coupled to \(counterpart), which is no source record")
            } else {
                check(remembered[source.opposite]?.contains(id) == true,
                      "(oracle) target record \(id) is coupled to nothing and not remembered as a deleted source's survivor")
            }
        }
    }
}

@Suite("Seeded model-based convergence of the sync engine")
struct ConvergenceTests {
    /// Fixed seeds for CI; COUPLET_SEED replays one; COUPLET_SOAK_SECONDS keeps drawing new seeds that long.
    /// Chosen to cover every direction × deletion policy (their other settings vary): bidirectional 3, 11, 12, 20;
    /// to_integration 2 (target untouched: exact oracle), 18, 26 (oracle); from_integration 6 (oracle), 15, 34.
    static let ciSeeds: [UInt64] = [3, 11, 12, 20, 2, 18, 26, 6, 15, 34]

    @Test("random edits on both sides under random mapping settings converge, with every invariant holding", arguments: CRMService.allCases)
    func convergence(crm: CRMService) async throws {
        let environment = ProcessInfo.processInfo.environment
        if let text = environment["COUPLET_SEED"] {
            let seed = try #require(UInt64(text), "COUPLET_SEED must be an unsigned integer: \(text)")
            var once: UInt64? = seed
            try await Self.rounds(crm: crm) { defer { once = nil }; return once }
        } else if let text = environment["COUPLET_SOAK_SECONDS"] {
            let seconds = try #require(Double(text), "COUPLET_SOAK_SECONDS must be a number: \(text)")
            let end = Date().addingTimeInterval(seconds)
            var seeds = SplitMix64(seed: UInt64(Date().timeIntervalSince1970 * 1000))
            var rounds = 0
            try await Self.rounds(crm: crm) {
                guard Date() < end else { return nil }
                rounds += 1
                return seeds.next() >> 16
            }
            print("convergence soak: \(rounds) rounds in \(Int(seconds)) s")
        } else {
            var pending = Self.ciSeeds[...]
            try await Self.rounds(crm: crm) { pending.popFirst() }
        }
    }

    /// Rounds share one set of databases, emptied between rounds (a fresh migrated database costs seconds).
    static func rounds(crm: CRMService, _ seeds: () -> UInt64?) async throws {
        try await OwnSchemaFixture.with(crm: crm) { f in
            while let seed = seeds() { try await round(seed: seed, f) }
        }
    }

    static func round(seed: UInt64, _ f: OwnSchemaFixture) async throws {
        var round = ConvergenceRound(seed: seed, fixture: f)
        do {
            try await round.run()
        } catch {
            round.fail("the round threw: \(String(reflecting: error))")
        }
        print("convergence seed \(seed): \(round.settings); \(round.clock - 1) steps, \(round.summary)")
        guard !round.problems.isEmpty else { return }
        for problem in round.problems {
            Issue.record("seed \(seed) (\(round.settings)): \(problem)")
        }
        Issue.record("seed \(seed): replay with COUPLET_SEED=\(seed); the scenario:\n\(round.log.joined(separator: "\n"))")
    }
}

/// The smallest scenarios behind seeds the soak profile found failing (each failed before its fix).
@Suite("Convergence findings: the smallest failing scenarios")
struct ConvergenceFindings {
    /// Soak seed 222032107333454 (invariant 4): the number stayed NULL for ever.
    @Test("a pair coupled by match where the CRM wins still gets the ERP key written back to client.number", arguments: CRMService.allCases)
    func matchedPairGetsKeyWrittenBack(crm: CRMService) async throws {
        try await OwnSchemaFixture.with(crm: crm) { f in
            try await f.addMapping(updateConflict: "get_from_integration", match: "name")
            try await f.erp.query("INSERT INTO debtor (name, manager) VALUES ('Adatum', 'ANNA')")
            try await f.crm.query("INSERT INTO client (name, manager) VALUES ('Adatum', 'BOB')")
            for _ in 1...3 { try await f.sync(.full) }
            #expect(try await f.value(f.erp, "SELECT manager FROM debtor", as: String.self) == "BOB", "the CRM won")
            #expect(try await f.value(f.crm, "SELECT number FROM client", as: String?.self) == "1", "the ERP key is written back")
        }
    }

    /// Soak seed 13405786703458 (invariant 1): the from_integration pass read its target through the
    /// filter, found the blocked debtor missing and applied the deletion policy.
    @Test("a coupled debtor that leaves the filter (blocked) is not taken for deleted: its coupling stays", arguments: CRMService.allCases)
    func blockedDebtorIsNotDeleted(crm: CRMService) async throws {
        try await OwnSchemaFixture.with(crm: crm) { f in
            try await f.addMapping(deletionConflict: "remove_coupling")
            try await f.crm.query("INSERT INTO client (name) VALUES ('Adatum')")
            try await f.sync(.full)
            try await f.erp.query("UPDATE debtor SET blocked = true")
            let counts = try await f.sync(.full)
            #expect(counts[.fromIntegration]?.uncoupled == 0, "\(counts)")
            #expect(try await f.value(f.coordination, "SELECT count(*) FROM couplet.couplings", as: Int.self) == 1)
            #expect(try await f.value(f.coordination, "SELECT count(*) FROM couplet.deleted_counterparts", as: Int.self) == 0)
        }
    }
}
