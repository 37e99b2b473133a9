import Foundation
import Queue

/// One cron schedule as a person declares it: when to fire, and the job to enqueue each time.
///
/// A value is always valid: the initialiser checks every field the way the CHECK constraints of
/// `couplet.schedules` do, and more (the expression parses and can fire, the zone exists), so a
/// definition that was created can be stored, and the scheduler can use it.
public struct ScheduleDefinition: Sendable, Equatable {
    /// The schedule's unique name: 1-100 letters, digits and `_ . : -`.
    public let name: String
    /// When it fires.
    public let expression: CronExpression
    /// The IANA zone the expression is evaluated in, e.g. `Europe/Oslo` (default `UTC`).
    public let timeZone: String
    /// The kind of job each tick enqueues, e.g. `sync.delta`.
    public let jobKind: String
    /// The job's arguments, as the text of a JSON object.
    public let arguments: String
    /// The queue the jobs go to.
    public let queue: String
    /// The jobs' priority: 0 runs first, 9 last.
    public let priority: Int
    /// Attempts each job gets before it fails for good.
    public let maxAttempts: Int
    /// The jobs' concurrency key: at most one job with the key runs at a time (Business Central's
    /// job queue category), or nil for none.
    public let concurrencyKey: String?
    /// Whether the scheduler fires it.
    public let isEnabled: Bool
    /// What happens to ticks missed while no scheduler ran.
    public let misfirePolicy: MisfirePolicy
    /// How far back a missed tick may be for `runOnce` to catch up with it.
    public let catchUpWindow: Duration
    /// Whether a tick is skipped while the schedule's previous job is pending or running.
    public let noOverlap: Bool
    /// How long after a failed attempt of a job the next runs (Business Central's rerun delay); nil:
    /// the job kind's retry policy decides.
    public let retryDelay: Duration?
    /// After a job that found nothing to do, how long the schedule holds its ticks unless a probe
    /// or a person wakes it (Business Central's inactivity timeout); zero holds until woken, nil never holds.
    public let inactivityTimeout: Duration?

    /// Validates and creates a definition.
    ///
    /// `timeZone` nil means the expression's `CRON_TZ=` zone if it has one, else `UTC`; a
    /// `timeZone` that differs from a `CRON_TZ=` zone is an error.
    ///
    /// - Throws: `ScheduleDefinitionError` listing every field that is wrong, not only the first.
    public init(
        name: String, expression: String, timeZone: String? = nil, jobKind: String, arguments: String = "{}",
        queue: String = "default", priority: Int = 5, maxAttempts: Int = 5, concurrencyKey: String? = nil,
        isEnabled: Bool = true, misfirePolicy: MisfirePolicy = .skip, catchUpWindow: Duration = .seconds(3600), noOverlap: Bool = false,
        retryDelay: Duration? = nil, inactivityTimeout: Duration? = nil
    ) throws(ScheduleDefinitionError) {
        var problems: [ScheduleDefinitionError.Problem] = []
        func check<Value>(_ field: Field, _ validate: () throws -> Value) -> Value? {
            do { return try validate() } catch {
                problems.append(.init(field: field, message: InvalidField.message(of: error)))
                return nil
            }
        }
        let name = check(.name) { try Self.validName(name) }
        let cron = check(.expression) { try Self.validExpression(expression) }
        let zone = check(.timeZone) { try Self.validTimeZone(timeZone, for: cron) }
        let kind = check(.jobKind) { try Self.validJobKind(jobKind) }
        let arguments = check(.arguments) { try Self.validArguments(arguments) }
        let queue = check(.queue) { try Self.validQueue(queue) }
        let priority = check(.priority) { try Self.validPriority(priority) }
        let attempts = check(.maxAttempts) { try Self.validMaxAttempts(maxAttempts) }
        let key = check(.concurrencyKey) { try concurrencyKey.map(Self.validConcurrencyKey) }
        let window = check(.catchUpWindow) { try Self.validCatchUpWindow(catchUpWindow) }
        let delay = check(.retryDelay) { try retryDelay.map(Self.validRetryDelay) }
        let timeout = check(.inactivityTimeout) { try inactivityTimeout.map(Self.validInactivityTimeout) }
        guard let name, let cron, let zone, let kind, let arguments, let queue, let priority, let attempts, let key, let window,
            let delay, let timeout
        else { throw ScheduleDefinitionError(problems: problems) }
        self.name = name
        self.expression = cron
        self.timeZone = zone
        self.jobKind = kind
        self.arguments = arguments
        self.queue = queue
        self.priority = priority
        self.maxAttempts = attempts
        self.concurrencyKey = key
        self.isEnabled = isEnabled
        self.misfirePolicy = misfirePolicy
        self.catchUpWindow = window
        self.noOverlap = noOverlap
        self.retryDelay = delay
        self.inactivityTimeout = timeout
    }

    /// The zone the schedule fires in (validated when the definition was created).
    public var zone: TimeZone { TimeZone(identifier: timeZone) ?? TimeZone(secondsFromGMT: 0)! }

    /// The fields of a definition, named as in a schedules file.
    public enum Field: String, Sendable, CaseIterable {
        /// `name`, required.
        case name
        /// `cron`, required: the expression.
        case expression = "cron"
        /// `timezone`: the IANA zone.
        case timeZone = "timezone"
        /// `job`, required: the job kind.
        case jobKind = "job"
        /// `args`: the job's arguments.
        case arguments = "args"
        /// `queue`.
        case queue
        /// `priority`.
        case priority
        /// `max_attempts`.
        case maxAttempts = "max_attempts"
        /// `concurrency_key`: the jobs' concurrency key.
        case concurrencyKey = "concurrency_key"
        /// `misfire`: `skip` or `run_once`.
        case misfirePolicy = "misfire"
        /// `catch_up_window`: a duration such as `2h`.
        case catchUpWindow = "catch_up_window"
        /// `no_overlap`.
        case noOverlap = "no_overlap"
        /// `retry_delay`: a duration such as `30s`.
        case retryDelay = "retry_delay"
        /// `inactivity_timeout`: a duration such as `24h`, `0s` to hold until woken.
        case inactivityTimeout = "inactivity_timeout"
        /// `enabled`.
        case isEnabled = "enabled"
    }
}

/// Why a schedule definition was rejected: one problem per wrong field.
public struct ScheduleDefinitionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong with one field.
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        /// The field.
        public var field: ScheduleDefinition.Field
        /// What is wrong, in words a person can act on.
        public var message: String

        /// Creates a problem with `field`.
        public init(field: ScheduleDefinition.Field, message: String) {
            self.field = field
            self.message = message
        }

        /// `field: message`.
        public var description: String { "\(field.rawValue): \(message)" }
    }

    /// Every problem found, in field order.
    public var problems: [Problem]

    /// Creates an error listing `problems`.
    public init(problems: [Problem]) {
        self.problems = problems
    }

    /// The problems, separated by semicolons.
    public var description: String { problems.map(\.description).joined(separator: "; ") }
}

/// A field value that breaks a rule; the message names the value and the rule.
struct InvalidField: Error {
    var message: String
    /// Where in a file the problem is, when that is more precise than the field's own place
    /// (a value deep inside `args`).
    var place: (line: Int, column: Int)?

    init(_ message: String, at place: (line: Int, column: Int)? = nil) {
        self.message = message
        self.place = place
    }

    /// The message of an `InvalidField`, else the error's description.
    static func message(of error: any Error) -> String {
        (error as? InvalidField)?.message ?? "\(error)"
    }
}

// MARK: - Field rules, shared by the initialiser and the schedules file

extension ScheduleDefinition {
    /// Characters allowed in names, job kinds and queues (the CHECK constraints of `couplet.schedules`).
    private static let identifierCharacters = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-")

    private static func validIdentifier(_ text: String, _ what: String, maxLength: Int) throws(InvalidField) -> String {
        guard (1...maxLength).contains(text.count), text.allSatisfy(identifierCharacters.contains) else {
            throw InvalidField("\(what) \"\(text)\" must be 1-\(maxLength) letters, digits, '_', '.', ':' or '-'")
        }
        return text
    }

    static func validName(_ text: String) throws(InvalidField) -> String {
        try validIdentifier(text, "name", maxLength: 100)
    }

    static func validJobKind(_ text: String) throws(InvalidField) -> String {
        try validIdentifier(text, "job kind", maxLength: 200)
    }

    static func validQueue(_ text: String) throws(InvalidField) -> String {
        try validIdentifier(text, "queue", maxLength: 100)
    }

    /// The expression parses, and some instant matches it.
    static func validExpression(_ text: String) throws(InvalidField) -> CronExpression {
        let expression: CronExpression
        do { expression = try CronExpression(text) } catch { throw InvalidField(error.description) }
        guard expression.canEverFire else {
            throw InvalidField("cron expression \"\(text)\" can never fire: no date matches it")
        }
        return expression
    }

    /// The zone exists and agrees with the expression's `CRON_TZ=`; nil takes that zone, else UTC.
    static func validTimeZone(_ name: String?, for expression: CronExpression?) throws(InvalidField) -> String {
        guard let expression else {
            guard let name else { return "UTC" }
            guard TimeZone(identifier: name) != nil else { throw InvalidField(unknownZone(name)) }
            return name
        }
        do { return try expression.scheduleZone(named: name).name } catch {
            throw InvalidField(error.problems.first?.message ?? error.description)
        }
    }

    fileprivate static func unknownZone(_ name: String) -> String {
        "unknown time zone \"\(name)\"; expected an IANA name such as Europe/Oslo or UTC"
    }

    /// A JSON object within the limits every job's arguments keep.
    static func validArguments(_ json: String) throws(InvalidField) -> String {
        do { try JobArgumentLimits().check(json) } catch { throw InvalidField(error.message) }
        let object = try? JSONSerialization.jsonObject(with: Data(json.utf8))
        guard object is [String: Any] else { throw InvalidField("args must be a JSON object, such as {\"mapping\": \"CUSTOMER\"}") }
        return json
    }

    static func validPriority(_ value: Int) throws(InvalidField) -> Int {
        guard (0...9).contains(value) else { throw InvalidField("priority \(value) is out of range 0-9 (0 runs first)") }
        return value
    }

    static func validMaxAttempts(_ value: Int) throws(InvalidField) -> Int {
        guard value >= 1 else { throw InvalidField("max_attempts \(value) is out of range: it must be at least 1") }
        guard value <= Int32.max else { throw InvalidField("max_attempts \(value) is out of range: it must be at most \(Int32.max)") }
        return value
    }

    /// Any text of 1-200 characters, counted as PostgreSQL's `length` counts them (the CHECK
    /// constraint of `couplet.schedules.concurrency_key`).
    static func validConcurrencyKey(_ text: String) throws(InvalidField) -> String {
        guard (1...200).contains(text.unicodeScalars.count) else {
            throw InvalidField("concurrency_key \"\(text)\" must be 1-200 characters, such as sync:CUSTOMER")
        }
        return text
    }

    static func validCatchUpWindow(_ value: Duration) throws(InvalidField) -> Duration {
        guard value >= .zero else { throw InvalidField("catch_up_window must not be negative") }
        return value
    }

    static func validRetryDelay(_ value: Duration) throws(InvalidField) -> Duration {
        guard value >= .zero else { throw InvalidField("retry_delay must not be negative") }
        return value
    }

    static func validInactivityTimeout(_ value: Duration) throws(InvalidField) -> Duration {
        guard value >= .zero else { throw InvalidField("inactivity_timeout must not be negative (0s holds until woken)") }
        return value
    }
}

extension CronExpression {
    /// The zone a schedule with this expression fires in when it names the zone `name`: the
    /// `CRON_TZ=` zone, else the named zone, else UTC; with the name to store for it.
    ///
    /// - Throws: `ScheduleDefinitionError` (field `timezone`) when `name` is not a zone, or names
    ///   a zone other than the expression's `CRON_TZ=`.
    public func scheduleZone(named name: String?) throws(ScheduleDefinitionError) -> (name: String, zone: TimeZone) {
        func problem(_ message: String) -> ScheduleDefinitionError {
            ScheduleDefinitionError(problems: [.init(field: .timeZone, message: message)])
        }
        let cronZone = timeZone.map { zone in (name: writtenZoneName ?? zone.identifier, zone: zone) }
        guard let name else { return cronZone ?? ("UTC", TimeZone(identifier: "UTC")!) }
        guard let zone = TimeZone(identifier: name) else { throw problem(ScheduleDefinition.unknownZone(name)) }
        if let cronZone, cronZone.zone != zone {
            throw problem("timezone \"\(name)\" differs from the expression's CRON_TZ=\(cronZone.name); give the zone once")
        }
        return (name, zone)
    }

    /// The zone name exactly as written after `CRON_TZ=` (the parser has checked it).
    private var writtenZoneName: String? {
        let text = description.drop { $0.isWhitespace }
        guard timeZone != nil, text.hasPrefix("CRON_TZ=") else { return nil }
        return String(text.dropFirst("CRON_TZ=".count).prefix { !$0.isWhitespace })
    }
}
