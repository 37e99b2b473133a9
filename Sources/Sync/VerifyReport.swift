import Postgres

/// One field of a coupled pair whose two values disagree, seen through its field mapping.
public struct FieldDifference: Sendable, Equatable, CustomStringConvertible {
    /// The column on the local (ERP) side.
    public var localField: String
    /// The column on the integration (CRM) side.
    public var integrationField: String
    /// Which way the mapping carries this field: one way, or both (then the update-conflict policy picks the winner).
    public var travels: MappingDirection

    /// A field difference.
    public init(localField: String, integrationField: String, travels: MappingDirection) {
        self.localField = localField
        self.integrationField = integrationField
        self.travels = travels
    }

    /// `credit_limit → credit_limit`: the local column, an arrow for the way the mapping carries it, the integration column.
    public var description: String {
        let arrow = switch travels {
        case .toIntegration: "→"
        case .fromIntegration: "←"
        case .bidirectional: "↔"
        }
        return "\(localField) \(arrow) \(integrationField)"
    }
}

/// What `couplet verify` found out about one coupled pair that is not simply in step.
public enum PairState: Sendable, Equatable {
    /// Both records are as the last sync left them (by their modified-on), yet these fields
    /// disagree: drift no sync will see — an earlier bad write, a change made while a trigger was off.
    case differs([FieldDifference])
    /// These fields disagree, and the record that carries them changed since its last sync (or its
    /// last sync failed): the next run of the mapping brings them in step.
    case pending([FieldDifference])
    /// The coupling points at records that no longer exist on these sides.
    case orphaned(deleted: [SyncSide])
    /// Both records exist, but on these sides the record no longer passes the mapping's filter:
    /// the engine leaves the pair alone, so it is not a difference.
    case outsideFilter([SyncSide])
    /// The pair cannot be compared: a rule fails on a value (the engine would fail the record the
    /// same way, and this message says why).
    case notComparable(String)

    /// Whether the state needs a person or a repair (the ones `couplet verify` exits non-zero for).
    public var isProblem: Bool {
        switch self {
        case .differs, .orphaned, .notComparable: true
        case .pending, .outsideFilter: false
        }
    }
}

/// What `--repair` did with one pair.
public enum RepairResult: Sendable, Equatable {
    /// The engine wrote the winner's values (or applied the deletion policy) and the pair now checks in step.
    case repaired
    /// The mapping is bidirectional, a field carried both ways differs, and the update-conflict
    /// policy is `fail`: nothing was copied; a person decides.
    case conflict
    /// The engine ran, yet the pair still does not check in step: the sync log says why.
    case left
    /// Nothing can repair it through the engine (a pair whose rules fail).
    case notRepairable
}

/// One coupled pair that is not simply in step.
public struct VerifyFinding: Sendable, Equatable {
    /// The local (ERP) record's key.
    public var localID: String
    /// The integration (CRM) record's key.
    public var integrationID: String
    /// What is wrong, or pending.
    public var state: PairState
    /// What `--repair` did with it; nil when not repairing, or when the state needs no repair.
    public var repair: RepairResult?

    /// A finding about the pair `localID` ↔ `integrationID`.
    public init(localID: String, integrationID: String, state: PairState, repair: RepairResult? = nil) {
        self.localID = localID
        self.integrationID = integrationID
        self.state = state
        self.repair = repair
    }
}

/// The counts of a `--repair`: what the engine was asked to do and what checks in step afterwards.
public struct RepairSummary: Sendable, Equatable {
    /// Pairs the engine brought in step (checked again after its runs).
    public var repaired = 0
    /// Pairs left for a person by the update-conflict policy `fail`.
    public var conflicts = 0
    /// Pairs the engine ran for that still do not check in step, and pairs whose rules fail.
    public var left = 0
    /// What the engine's records runs logged, per direction.
    public var runs: [SyncDirection: SyncCounts] = [:]

    /// Nothing repaired yet.
    public init() {}
}

/// The outcome of verifying one mapping: every coupling checked, counted by state; the first
/// findings kept for printing (memory does not grow with the mapping).
public struct VerifyReport: Sendable, Equatable {
    /// The mapping verified.
    public var mapping: String
    /// Couplings checked.
    public var checked = 0
    /// Pairs whose mapped fields agree.
    public var inStep = 0
    /// Pairs in `PairState.differs`.
    public var differing = 0
    /// Pairs in `PairState.pending`.
    public var pending = 0
    /// Pairs in `PairState.orphaned`.
    public var orphaned = 0
    /// Pairs in `PairState.outsideFilter`.
    public var outsideFilter = 0
    /// Pairs in `PairState.notComparable`.
    public var notComparable = 0
    /// The first findings, in local-key order, at most the limit the verify was given.
    public var findings: [VerifyFinding] = []
    /// What `--repair` did; nil when not repairing.
    public var repair: RepairSummary?
    /// Whether uncoupled records were looked at: false when the mapping has no match fields.
    public var matchFieldsChecked = false
    /// Uncoupled records looked at (those passing their side's filter, on each side a pass starts from).
    public var uncoupled = 0
    /// Uncoupled records that match-based coupling would couple (a pair counted once).
    public var wouldMatch = 0
    /// Groups of records on one side sharing their match values, which matching refuses.
    public var duplicateGroups = 0
    /// The first would-match records, in key order per side, at most the limit.
    public var matchFindings: [MatchFinding] = []
    /// The first groups of duplicates, at most the limit.
    public var duplicates: [DuplicateFinding] = []

    /// An empty report for `mapping`.
    public init(mapping: String) {
        self.mapping = mapping
    }

    /// Differences, orphans, pairs that cannot be compared, uncoupled records that would couple
    /// by match, or duplicates were found: each is something for a person (or a run) to act on.
    public var foundProblems: Bool { differing + orphaned + notComparable + wouldMatch + duplicateGroups > 0 }

    /// Something found is still out of step after `--repair` (or nothing was repaired). `--repair`
    /// couples nothing, so would-match records and duplicates remain.
    public var problemsRemain: Bool { remainingProblems > 0 }

    /// How many problems are still for a person (or a run) to act on: every one found, or after
    /// `--repair` the pairs it could not settle and the would-match records and duplicates.
    public var remainingProblems: Int {
        guard let repair else { return differing + orphaned + notComparable + wouldMatch + duplicateGroups }
        return repair.conflicts + repair.left + wouldMatch + duplicateGroups
    }

    /// Takes the uncoupled records' counts and findings from `other` (a look at them made beside this one).
    mutating func take(uncoupled other: VerifyReport) {
        matchFieldsChecked = matchFieldsChecked || other.matchFieldsChecked
        uncoupled += other.uncoupled
        wouldMatch += other.wouldMatch
        duplicateGroups += other.duplicateGroups
        matchFindings += other.matchFindings
        duplicates += other.duplicates
    }

    /// Counts an uncoupled record that would couple by match, keeping it when fewer than `limit` are kept.
    mutating func count(_ finding: MatchFinding, limit: Int) {
        wouldMatch += 1
        if matchFindings.count < limit { matchFindings.append(finding) }
    }

    /// Counts a finding (nil: a pair in step), keeping it when fewer than `limit` are kept.
    mutating func count(_ finding: VerifyFinding?, limit: Int) {
        checked += 1
        guard let finding else {
            inStep += 1
            return
        }
        switch finding.state {
        case .differs: differing += 1
        case .pending: pending += 1
        case .orphaned: orphaned += 1
        case .outsideFilter: outsideFilter += 1
        case .notComparable: notComparable += 1
        }
        if findings.count < limit { findings.append(finding) }
    }
}

extension VerifyReport {
    /// Keeps the report as its mapping's latest verify in `couplet.verify_results`, for the
    /// processes' `/metrics` (`couplet_verify_problems`) and their alerts.
    func save(on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            INSERT INTO couplet.verify_results (mapping, checked, differing, orphaned, not_comparable, would_match, duplicate_groups,
                                                repaired, problems_remaining)
            VALUES (\(mapping), \(checked), \(differing), \(orphaned), \(notComparable), \(wouldMatch), \(duplicateGroups),
                    \(repair?.repaired), \(remainingProblems))
            ON CONFLICT (mapping) DO UPDATE SET verified_at = now(), checked = excluded.checked, differing = excluded.differing,
                orphaned = excluded.orphaned, not_comparable = excluded.not_comparable, would_match = excluded.would_match,
                duplicate_groups = excluded.duplicate_groups, repaired = excluded.repaired, problems_remaining = excluded.problems_remaining
            """, name: "save verify result")
    }
}
