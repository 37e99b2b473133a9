/// Everything one field says, gathered item by item. Only the day fields use the
/// special parts; plain values of every field go to `values`.
struct FieldSpec {
    var values = CronBitSet()
    var monthDays = DayOfMonthRule()
    var weekDays = DayOfWeekRule()

    var dayOfMonthRule: DayOfMonthRule {
        var rule = monthDays
        rule.days = values
        return rule
    }

    /// Folds 7 (the second spelling of Sunday) into 0.
    var dayOfWeekRule: DayOfWeekRule {
        var rule = weekDays
        rule.weekdays = CronBitSet(bits: (values.bits | values.bits >> 7) & 0x7F)
        return rule
    }
}

/// Parses one field: a comma-separated list of items, each one of
///
/// - `*` or `*/step` (every value, or every step-th from the field's minimum);
/// - `?`, like `*`, in the day fields only;
/// - `value`, `start-end`, `start-end/step`, or `start/step` (start to the field's maximum),
///   where values are numbers or, in the month and day-of-week fields, names
///   (JAN-DEC, SUN-SAT, any case); day-of-week 7 is Sunday, and so is SUN at the end
///   of a range that starts later in the week (`FRI-SUN`);
/// - day-of-month only: `L` (last day), `L-n` (n days before it), `LW` (last weekday), `nW`
///   (weekday nearest day n);
/// - day-of-week only: `d#n` (the n-th weekday d of the month) and `dL` (the last one).
struct FieldParser {
    let kind: CronFieldKind
    let input: String
    let text: [Character]
    var index: Int
    let end: Int
    private(set) var spec = FieldSpec()

    init(kind: CronFieldKind, input: String, text: [Character], index: Int, end: Int) {
        self.kind = kind
        self.input = input
        self.text = text
        self.index = index
        self.end = end
    }

    mutating func parseList() throws(CronParseError) {
        while true {
            try parseItem()
            guard index < end else { return }
            guard text[index] == "," else {
                throw unexpectedCharacter(at: index)
            }
            index += 1
        }
    }

    // MARK: - Items

    private mutating func parseItem() throws(CronParseError) {
        guard index < end, text[index] != "," else {
            throw error("empty element in the \(kind.name) list", at: index)
        }
        let start = index
        if text[index] == "*" {
            index += 1
            try addValues(from: kind.bounds.lowerBound, through: kind.bounds.upperBound)
        } else if text[index] == "?" {
            guard kind == .dayOfMonth || kind == .dayOfWeek else {
                throw misplaced("?", at: index)
            }
            index += 1
            spec.values.formUnion(CronBitSet(from: kind.bounds.lowerBound, through: kind.bounds.upperBound))
        } else if let word = readWord() {
            if let value = kind.names[word] {
                try parseRest(of: value, startingAt: start)
            } else {
                try parseSpecialWord(word, startingAt: start)
            }
        } else if let digits = readDigits() {
            try parseRest(of: try checkedValue(digits, at: start), startingAt: start)
        } else {
            throw unexpectedCharacter(at: index)
        }
    }

    /// What may follow a single value: a range, a step, `#n`, `L` or `W`, or nothing.
    private mutating func parseRest(of value: Int, startingAt start: Int) throws(CronParseError) {
        switch index < end ? text[index].uppercased() : "" {
        case "-":
            index += 1
            let upper = try readRangeEnd(startValue: value)
            guard value <= upper else {
                throw error("\(kind.name) range \(String(text[start..<index])) starts after it ends", at: start)
            }
            try addValues(from: value, through: upper)
        case "/":
            try addValues(from: value, through: kind.bounds.upperBound)
        case "#" where kind == .dayOfWeek:
            index += 1
            let occurrence = try readOccurrence()
            spec.weekDays.nthWeekdays.insert(value % 7 * 8 + occurrence)
        case "L" where kind == .dayOfWeek:
            index += 1
            spec.weekDays.lastWeekdays.insert(value % 7)
        case "W" where kind == .dayOfMonth:
            index += 1
            spec.monthDays.nearestWeekdays.insert(value)
        default:
            spec.values.insert(value)
        }
    }

    /// Words that are not names: `L`, `L-n` and `LW` in day-of-month, or a mistake.
    private mutating func parseSpecialWord(_ word: String, startingAt start: Int) throws(CronParseError) {
        switch (word, kind) {
        case ("L", .dayOfMonth):
            spec.monthDays.lastDayOffsets.insert(try readLastDayOffset())
        case ("LW", .dayOfMonth):
            spec.monthDays.lastWeekday = true
        case ("L", _), ("LW", _):
            throw misplaced("L", at: start)
        case ("W", _):
            throw misplaced("W", at: start)
        case _ where kind.names.isEmpty:
            throw unexpectedCharacter(at: start)
        default:
            throw error("unknown \(kind.name) name \"\(String(text[start..<index]))\"", at: start)
        }
    }

    /// Adds `lower...upper`, or every step-th value of it when a `/step` follows.
    private mutating func addValues(from lower: Int, through upper: Int) throws(CronParseError) {
        var step = 1
        if index < end, text[index] == "/" {
            index += 1
            step = try readNumber(what: "step", range: 1...kind.maximumStep, missing: "missing step after '/'")
        }
        spec.values.formUnion(CronBitSet(from: lower, through: upper, step: step))
    }

    // MARK: - Values

    private mutating func readRangeEnd(startValue: Int) throws(CronParseError) -> Int {
        let start = index
        if let word = readWord() {
            guard let value = kind.names[word] else {
                throw error("unknown \(kind.name) name \"\(String(text[start..<index]))\"", at: start)
            }
            return kind == .dayOfWeek && value == 0 && startValue > 0 ? 7 : value
        }
        guard let digits = readDigits() else {
            throw error("missing end of range after '-' in the \(kind.name) field", at: index)
        }
        return try checkedValue(digits, at: start)
    }

    /// The `n` of `L-n`, or 0 for a bare `L`.
    private mutating func readLastDayOffset() throws(CronParseError) -> Int {
        guard index < end, text[index] == "-" else { return 0 }
        index += 1
        return try readNumber(what: "L- offset", range: 0...30, missing: "missing number after 'L-'")
    }

    /// The `n` of `d#n`.
    private mutating func readOccurrence() throws(CronParseError) -> Int {
        try readNumber(what: "occurrence", range: 1...5, missing: "missing occurrence after '#'")
    }

    private mutating func readNumber(what: String, range: ClosedRange<Int>, missing: String) throws(CronParseError) -> Int {
        let start = index
        guard let digits = readDigits() else {
            throw error("\(missing) in the \(kind.name) field", at: index)
        }
        guard let number = Int(digits), range.contains(number) else {
            throw error("\(kind.name) \(what) \(digits) is out of range \(range.lowerBound)-\(range.upperBound)", at: start)
        }
        return number
    }

    private func checkedValue(_ digits: String, at start: Int) throws(CronParseError) -> Int {
        guard let value = Int(digits), kind.bounds.contains(value) else {
            throw error("\(kind.name) value \(digits) is out of range \(kind.bounds.lowerBound)-\(kind.bounds.upperBound)", at: start)
        }
        return value
    }

    /// A run of ASCII letters, upper-cased, or nil (consuming nothing) if none starts here.
    private mutating func readWord() -> String? {
        readRun { $0.isASCII && $0.isLetter }?.uppercased()
    }

    /// A run of ASCII digits, or nil (consuming nothing) if none starts here.
    private mutating func readDigits() -> String? {
        readRun { $0.isASCII && $0.isNumber }
    }

    private mutating func readRun(_ belongs: (Character) -> Bool) -> String? {
        let start = index
        while index < end, belongs(text[index]) {
            index += 1
        }
        return index > start ? String(text[start..<index]) : nil
    }

    // MARK: - Errors

    private func unexpectedCharacter(at position: Int) -> CronParseError {
        let character = text[position]
        switch character.uppercased() {
        case "#", "L", "W":
            return misplaced(character.uppercased(), at: position)
        case "?" where kind != .dayOfMonth && kind != .dayOfWeek:
            return misplaced("?", at: position)
        default:
            return error("unexpected character '\(character)' in the \(kind.name) field", at: position)
        }
    }

    /// A special character in a field or position where it has no meaning.
    private func misplaced(_ symbol: String, at position: Int) -> CronParseError {
        let message = switch (symbol, kind) {
        case ("#", .dayOfWeek): "'#' must follow a single weekday, as in 5#2"
        case ("#", _): "'#' is only allowed in the day-of-week field"
        case ("L", .dayOfMonth): "'L' in the day-of-month field must stand alone, as in L, L-3 or LW"
        case ("L", .dayOfWeek): "'L' in the day-of-week field must follow a single weekday, as in 5L"
        case ("L", _): "'L' is only allowed in the day-of-month and day-of-week fields"
        case ("W", .dayOfMonth): "'W' must follow a single day, as in 15W"
        case ("W", _): "'W' is only allowed in the day-of-month field"
        default: "'?' is only allowed in the day-of-month and day-of-week fields"
        }
        return error(message, at: position)
    }

    private func error(_ message: String, at index: Int) -> CronParseError {
        CronParseError(message: message, position: index + 1, input: input)
    }
}
