import Foundation
import YAMLFile
import Yams

/// The schedules file: the YAML a person keeps in version control and applies with
/// `couplet schedules apply`.
///
/// ```yaml
/// schedules:
///   - name: customer-delta
///     cron: "*/5 * * * *"        # quote expressions that start with *
///     timezone: Europe/Oslo      # default UTC, or the expression's CRON_TZ=
///     job: sync.delta
///     args: {mapping: CUSTOMER}  # default {}
///     queue: sync                # default default
///     priority: 3                # 0-9, default 5
///     max_attempts: 3            # default 5
///     concurrency_key: sync:CUSTOMER  # default none: one job per key runs at a time
///     misfire: run_once          # or skip (default)
///     catch_up_window: 2h        # default 1h
///     no_overlap: true           # default false
///     retry_delay: 30s           # default none: the job kind's retry policy
///     inactivity_timeout: 24h    # default none: hold after an idle job (0s: until woken)
///     enabled: true              # default true
/// ```
///
/// Only `name`, `cron` and `job` are required. In `args`, only `true` and `false` are booleans:
/// `NO` (Norway) and `on` stay strings.
public enum ScheduleFile {
    /// Reads every schedule in `yaml`, the text of the file named `file`.
    ///
    /// - Throws: `ScheduleFileError` with every problem in the file, each at the line and column
    ///   of the node it concerns, when there is any.
    public static func parse(_ yaml: String, file: String) throws(ScheduleFileError) -> [ScheduleDefinition] {
        var reader = ScheduleFileReader(file: file)
        let definitions = reader.read(yaml)
        if let error = reader.problems.error { throw error }
        return definitions
    }
}

/// Why a schedules file was rejected: every problem found, each with its place in the file.
public typealias ScheduleFileError = FileProblems

/// Walks the YAML tree of a schedules file, collecting definitions and located problems.
private struct ScheduleFileReader {
    typealias Field = ScheduleDefinition.Field

    var problems: ProblemCollector
    /// The line where each schedule name was first defined.
    private var names: [String: Int] = [:]

    init(file: String) {
        problems = ProblemCollector(file: file)
    }

    mutating func read(_ yaml: String) -> [ScheduleDefinition] {
        let root = problems.compose(yaml)
        guard !problems.hasErrors else { return [] }
        guard let root else {
            report(at: nil, "the file is empty: expected a mapping with the key schedules and a list of schedules")
            return []
        }
        guard let list = scheduleList(in: root) else { return [] }
        return list.compactMap { definition(from: $0) }
    }

    // MARK: - The document

    /// The items of the top-level `schedules:` list.
    private mutating func scheduleList(in root: Node) -> [Node]? {
        guard case .mapping(let mapping) = root else {
            report(at: root, "expected a mapping with the key schedules and a list of schedules")
            return nil
        }
        var list: [Node]?
        var hasKey = false
        for (key, value) in mapping {
            guard key.string == "schedules" else {
                report(at: key, "unknown key \(key.summary) at the top level; expected schedules")
                continue
            }
            hasKey = true
            guard case .sequence(let items) = value else {
                report(at: value, "schedules must be a list of schedules (write schedules: [] for none)")
                continue
            }
            list = Array(items)
        }
        if !hasKey {
            report(at: root, "missing the key schedules: expected a list of schedules")
        }
        return list
    }

    // MARK: - One schedule

    private mutating func definition(from item: Node) -> ScheduleDefinition? {
        guard case .mapping(let mapping) = item else {
            report(at: item, "each schedule must be a mapping with the keys name, cron and job")
            return nil
        }
        let nodes = fieldNodes(of: mapping)
        problems.require([Field.name, .expression, .jobKind], in: nodes, at: item, what: "schedule")
        var fields = ScheduleFieldReader(nodes: nodes, item: item)
        let definition = fields.definition()
        for failure in fields.failures { report(failure.error, at: failure.node) }
        if let name = fields.name, let node = nodes[.name] { noteName(name, at: node) }
        return definition
    }

    /// The value node of each known key; unknown keys are reported.
    private mutating func fieldNodes(of mapping: Node.Mapping) -> [Field: Node] {
        problems.values(of: mapping, keys: Field.self)
    }

    /// Remembers where `name` was defined, reporting a second definition.
    private mutating func noteName(_ name: String, at node: Node) {
        if let line = names[name] {
            report(at: node, "duplicate schedule name \"\(name)\": first defined at line \(line)")
        } else {
            names[name] = node.mark?.line ?? 1
        }
    }

    // MARK: - Reporting

    private mutating func report(at node: Node?, _ message: String) {
        problems.report(at: node, message)
    }

    /// Reports a field's problem where it is: deep inside the value when known, else at the value.
    private mutating func report(_ error: any Error, at node: Node) {
        let place = (error as? InvalidField)?.place.map { FilePlace(line: $0.line, column: $0.column) }
        problems.report(at: place ?? node.place, InvalidField.message(of: error))
    }
}

/// Reads the fields of one schedule, each checked by the rules of `ScheduleDefinition`, and
/// collects every failure with the node it concerns.
private struct ScheduleFieldReader {
    typealias Field = ScheduleDefinition.Field

    let nodes: [Field: Node]
    /// The schedule's mapping, where problems without a field of their own are reported.
    let item: Node
    /// Every field that failed, with its error.
    private(set) var failures: [(error: any Error, node: Node)] = []
    /// The schedule's name, when it is valid.
    private(set) var name: String?

    /// Defaults for absent keys: those of `ScheduleDefinition.init`, so they are written down once.
    /// (The literal arguments are valid, so this cannot fail.)
    private static let defaults = try! ScheduleDefinition(name: "defaults", expression: "@daily", jobKind: "defaults")

    init(nodes: [Field: Node], item: Node) {
        self.nodes = nodes
        self.item = item
    }

    /// The definition, or nil when a field failed or a required one is missing.
    mutating func definition() -> ScheduleDefinition? {
        name = value(.name) { try ScheduleDefinition.validName(Self.text($0, .name)) }
        let expression = value(.expression) { try ScheduleDefinition.validExpression(Self.text($0, .expression)) }
        let zone = value(.timeZone) { try ScheduleDefinition.validTimeZone(Self.text($0, .timeZone), for: expression) }
        let kind = value(.jobKind) { try ScheduleDefinition.validJobKind(Self.text($0, .jobKind)) }
        let arguments = value(.arguments) { try Self.arguments($0) }
        let queue = value(.queue) { try ScheduleDefinition.validQueue(Self.text($0, .queue)) }
        let priority = value(.priority) { try ScheduleDefinition.validPriority(Self.integer($0, .priority)) }
        let attempts = value(.maxAttempts) { try ScheduleDefinition.validMaxAttempts(Self.integer($0, .maxAttempts)) }
        let key = value(.concurrencyKey) { try ScheduleDefinition.validConcurrencyKey(Self.text($0, .concurrencyKey)) }
        let misfire = value(.misfirePolicy) { try Self.misfirePolicy($0) }
        let window = value(.catchUpWindow) { try Self.duration($0, .catchUpWindow) }
        let noOverlap = value(.noOverlap) { try Self.boolean($0, .noOverlap) }
        let delay = value(.retryDelay) { try Self.duration($0, .retryDelay) }
        let timeout = value(.inactivityTimeout) { try Self.duration($0, .inactivityTimeout) }
        let enabled = value(.isEnabled) { try Self.boolean($0, .isEnabled) }
        guard failures.isEmpty, let name, let expression, let kind else { return nil }
        let defaults = Self.defaults
        do {
            return try ScheduleDefinition(
                name: name, expression: expression.description, timeZone: zone, jobKind: kind,
                arguments: arguments ?? defaults.arguments, queue: queue ?? defaults.queue, priority: priority ?? defaults.priority,
                maxAttempts: attempts ?? defaults.maxAttempts, concurrencyKey: key ?? defaults.concurrencyKey,
                isEnabled: enabled ?? defaults.isEnabled, misfirePolicy: misfire ?? defaults.misfirePolicy,
                catchUpWindow: window ?? defaults.catchUpWindow, noOverlap: noOverlap ?? defaults.noOverlap,
                retryDelay: delay ?? defaults.retryDelay, inactivityTimeout: timeout ?? defaults.inactivityTimeout)
        } catch {
            failures += error.problems.map { (InvalidField($0.message), nodes[$0.field] ?? item) }
            return nil
        }
    }

    /// The field's value read by `read`, or nil when it is absent or fails (the failure is kept).
    private mutating func value<T>(_ field: Field, _ read: (Node) throws -> T) -> T? {
        guard let node = nodes[field] else { return nil }
        do { return try read(node) } catch {
            failures.append((error, node))
            return nil
        }
    }

    // MARK: - Typed values

    private static func text(_ node: Node, _ field: Field) throws(NodeValueError) -> String {
        try node.text(field.rawValue)
    }

    private static func integer(_ node: Node, _ field: Field) throws(NodeValueError) -> Int {
        try node.integer(field.rawValue)
    }

    private static func boolean(_ node: Node, _ field: Field) throws(NodeValueError) -> Bool {
        try node.boolean(field.rawValue)
    }

    private static func duration(_ node: Node, _ field: Field) throws -> Duration {
        let text = try text(node, field)
        do { return try Duration(parsing: text) } catch { throw InvalidField("\(field.rawValue): \(error)") }
    }

    private static func misfirePolicy(_ node: Node) throws -> MisfirePolicy {
        let text = try text(node, .misfirePolicy)
        guard let policy = MisfirePolicy(rawValue: text) else {
            throw InvalidField("misfire must be skip or run_once, not \"\(text)\"")
        }
        return policy
    }

    private static func arguments(_ node: Node) throws(InvalidField) -> String {
        guard case .mapping = node else {
            throw InvalidField("args must be a mapping, such as {mapping: CUSTOMER}, not \(node.summary)")
        }
        return try JSONValue(yaml: node).jsonText()
    }
}
