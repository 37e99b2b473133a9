import Foundation
import Postgres
import Synchronization

/// A record of a `PostgresTableEndpoint` as read, before it becomes a `SyncRecord`: its mapped
/// columns' values by position, in the endpoint's `columnNames` order.
public struct ReadRow: Sendable {
    fileprivate let row: PostgresRow
    /// The key's text form.
    public let id: String
    /// Whether the record passes its side's filter.
    public let passesFilter: Bool

    /// The value of the mapped column at `position` of `columnNames` (nil: NULL).
    public func value(at position: Int) -> String? { row.values[position + 2] }

    /// Whether any column held bytes that were not valid UTF-8 (its value is then not what the database holds).
    public var hasInvalidText: Bool { row.containsInvalidText }
}

/// A table in a PostgreSQL database.
///
/// Every value travels as text and is bound as a parameter (writes go through
/// `json_populate_recordset`, so the server casts text to each column's type); identifiers from
/// the mapping are quoted, and a filter is compiled from its grammar (`RecordFilter.sql`), never
/// spliced. Reads run in read-only transactions besides.
///
/// **Delta correctness.** A writer stamps modified-on no earlier than its transaction's start
/// (`now()`, `statement_timestamp()`, `clock_timestamp()` all qualify), but its row becomes
/// visible only when it commits — possibly after a delta read newer rows. `watermarkCap()`
/// returns the start of the oldest transaction still open in the database (or now, if none):
/// every row committed later carries a modified-on at or after that instant. The engine never
/// advances a watermark past the cap, so such a row is read by the next delta; rows between the
/// cap and the newest seen are re-read, and the couplings' stored modified-on make them
/// `unchanged`. The endpoint role needs `pg_read_all_stats` to see other roles' transactions.
public struct PostgresTableEndpoint: TableEndpoint {
    private let connection: PostgresConnection
    private let side: MappingSide
    private let columns: [PostgresIdentifier]
    /// How keys of new records come about, asked of the server once per endpoint.
    private let keyKindMemo = Memo<KeyKind>()
    /// The key column's type, asked of the server once per endpoint.
    private let keyTypeMemo = Memo<KeyColumnType>()

    /// An endpoint for one side of a mapping, reading `columns` besides the key and modified-on.
    public init(connection: PostgresConnection, side: MappingSide, columns: [String]) throws {
        self.connection = connection
        self.side = side
        self.columns = try columns.map { try PostgresIdentifier($0, what: "column") }
    }

    /// The key, modified-on and columns as text, then whether the integration's login made the
    /// last change (see `MappingSide.modifiedBy`), read by position. Each output is named apart
    /// (`couplet_0`, …): a cast keeps its column's name, and `ORDER BY key` would then sort by
    /// the text (1, 10, 2) while pages continue by the key's own order, skipping records.
    private var selectList: PostgresQuery {
        let changedBy: PostgresQuery = side.modifiedBy.map { "coalesce(\($0)::text = current_user, false)" } ?? "false"
        let outputs: [PostgresQuery] = ["\(side.key)::text", "\(side.modified)"] + columns.map { "\($0)::text" } + [changedBy]
        return PostgresQuery.joined(
            outputs.enumerated().map { index, output in "\(output) AS \(PostgresQuery(unsafeSQL: "couplet_\(index)"))" }, separator: ", ")
    }

    private var filter: PostgresQuery { side.filter?.sql ?? "true" }

    public func changes(since: Date?, after cursor: ChangeCursor?, limit: Int) async throws -> [SyncRecord] {
        let since: PostgresQuery = since.map { "\(side.modified) > \($0)" } ?? "true"
        let after: PostgresQuery = cursor.map { "(\(side.modified), \(side.key)) > (\($0.modifiedOn), \($0.id))" } ?? "true"
        return try await read(
            "SELECT \(selectList) FROM \(side.table) WHERE \(filter) AND \(since) AND \(after) ORDER BY \(side.modified), \(side.key) LIMIT \(limit)")
    }

    public func records(in range: KeyRange, limit: Int) async throws -> [SyncRecord] {
        let keyType = try await keyType()
        let after: PostgresQuery = range.after.map { "\(side.key) > \(keyType.value($0))" } ?? "true"
        let upTo: PostgresQuery = range.upTo.map { "\(side.key) <= \(keyType.value($0))" } ?? "true"
        return try await read(
            "SELECT \(selectList) FROM \(side.table) WHERE \(filter) AND \(after) AND \(upTo) ORDER BY \(side.key) LIMIT \(limit)")
    }

    public func splitKeys(every size: Int) async throws -> [String] {
        try await read(
            """
            SELECT k FROM (SELECT \(side.key)::text AS k, row_number() OVER (ORDER BY \(side.key)) AS n
                           FROM \(side.table) WHERE \(filter)) AS keys
            WHERE n % \(size) = 0 ORDER BY n
            """, decode: { try $0.decode(String.self, at: 0) })
    }

    public func count() async throws -> Int {
        try await read("SELECT count(*) FROM \(side.table) WHERE \(filter)", decode: { try $0.decode(Int.self, at: 0) })[0]
    }

    public func records(ids: [String]) async throws -> [SyncRecord] {
        guard !ids.isEmpty else { return [] }
        return try await read("SELECT \(selectList) FROM \(side.table) WHERE \(filter) AND \(try await anyKey(ids))")
    }

    /// The records with these ids that exist, whatever the filter, each with whether it passes the
    /// filter: one read tells a deleted record from a filtered-out one. In no particular order.
    public func recordsWithFilterState(ids: [String]) async throws -> [(record: SyncRecord, passesFilter: Bool)] {
        try await rowsWithFilterState(ids: ids).map { (try record(from: $0), $0.passesFilter) }
    }

    /// As `recordsWithFilterState`, each record left as read (`ReadRow`): comparing many records
    /// by position costs no dictionary per record; `record(from:)` makes a `SyncRecord` of one.
    public func rowsWithFilterState(ids: [String]) async throws -> [ReadRow] {
        guard !ids.isEmpty else { return [] }
        let passes = columns.count + 3
        return try await read(
            """
            SELECT \(selectList), coalesce(\(filter), false) FROM \(side.table) WHERE \(try await anyKey(ids))
            """
        ) { row in
            ReadRow(row: row, id: try row.decode(String.self, at: 0), passesFilter: try row.decode(Bool.self, at: passes))
        }
    }

    /// The names of the columns read besides the key and modified-on, in `ReadRow` position order.
    public var columnNames: [String] { columns.map { $0.parts[0] } }

    /// The record `row` holds.
    public func record(from row: ReadRow) throws -> SyncRecord {
        try Self.record(from: row.row, columns: columnNames)
    }

    public func existingIDs(_ ids: [String]) async throws -> Set<String> {
        guard !ids.isEmpty else { return [] }
        return Set(
            try await connection.query(
                "SELECT \(side.key)::text FROM \(side.table) WHERE \(try await anyKey(ids))", name: "find \(side.table)"
            ).map { try $0.decode(String.self, at: 0) })
    }

    /// `key = ANY(ids)`, the ids bound as one array of the key column's own type, so that the
    /// comparison uses the key's index (`key::text = ANY(…)` would read the whole table).
    private func anyKey(_ ids: [String]) async throws -> PostgresQuery {
        "\(side.key) = ANY(\(try await keyType().array(ids)))"
    }

    private func read(_ query: PostgresQuery) async throws -> [SyncRecord] {
        let names = columnNames
        return try await read(query) { try Self.record(from: $0, columns: names) }
    }

    /// The record a row of `selectList` holds: key, modified-on, then `columns`' values.
    private static func record(from row: PostgresRow, columns names: [String]) throws -> SyncRecord {
        var values = FieldValues(minimumCapacity: names.count)
        var invalid: Set<String> = []
        for (index, name) in names.enumerated() {
            values[name] = row.values[index + 2]
            if row.hasInvalidText(at: index + 2) { invalid.insert(name) }
        }
        return SyncRecord(
            id: try row.decode(String.self, at: 0), modifiedOn: try row.decode(Date.self, at: 1), values: values, invalidText: invalid,
            changedByIntegration: try row.decode(Bool.self, at: names.count + 2))
    }

    /// Runs a query in a read-only transaction: reading never writes, whatever the configuration says.
    private func read<T: Sendable>(_ query: PostgresQuery, decode: @Sendable (PostgresRow) throws -> T) async throws -> [T] {
        try await connection.withTransaction { read in
            try await read.runScript("SET TRANSACTION READ ONLY", name: "read only")
            return try await read.query(query, name: "read \(side.table)").map(decode)
        }
    }

    public func assignKeys(_ records: [NewRecord]) async throws -> [NewRecord] {
        let keyName = side.key.parts[0]
        let open = records.indices.filter { (records[$0].values[keyName] ?? nil) == nil }
        guard !open.isEmpty else { return records }
        let tokens = open.map { records[$0].token }
        let keys: [String]
        switch try await keyKind() {
        case .derived:
            keys = try await connection.query(
                """
                SELECT substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-' || substr(h, 13, 4) || '-' || substr(h, 17, 4) || '-' || substr(h, 21)
                FROM unnest(\(tokens)) WITH ORDINALITY AS t(token, n), LATERAL md5(token) AS h ORDER BY n
                """, name: "derive keys"
            ).map { try $0.decode(String.self, at: 0) }
        case .sequence(let sequence, _):
            keys = try await connection.query(
                "SELECT nextval(\(sequence)::regclass)::text FROM generate_series(1, \(open.count))", name: "next keys"
            ).map { try $0.decode(String.self, at: 0) }
        case .database:
            return records
        }
        var assigned = records
        for (index, key) in zip(open, keys) {
            assigned[index].values[keyName] = key
            assigned[index].keyAssigned = true
        }
        return assigned
    }

    private func insertAll(_ records: [NewRecord]) async throws -> [InsertResult] {
        let keyName = side.key.parts[0]
        let overriding: PostgresQuery = if case .sequence(_, identityAlways: true) = try await keyKind() { "OVERRIDING SYSTEM VALUE" } else { "" }
        var results = [InsertResult?](repeating: nil, count: records.count)
        // One transaction for every column group: a group refused after another was written would
        // leave that one's records behind, and the retry record by record would find their keys taken.
        try await connection.withTransaction { connection in
            for group in Self.groupedByColumns(records.enumerated().map { ($0.offset, $0.element.values) }) {
                let columns = try group.columns.map { try PostgresIdentifier($0, what: "column") }
                let keyed = group.columns.contains(keyName)
                let onConflict: PostgresQuery = keyed ? "ON CONFLICT (\(side.key)) DO NOTHING" : ""
                let rows = try await connection.query(
                    """
                    INSERT INTO \(side.table) (\(columns)) \(keyed ? overriding : "")
                    SELECT \(columns) FROM json_populate_recordset(NULL::\(side.table), \(Self.json(group.rows.map(\.1)))::json)
                    \(onConflict) RETURNING \(side.key)::text, \(side.modified)
                    """, name: "insert into \(side.table)"
                ).map { (try $0.decode(String.self, at: 0), try $0.decode(Date.self, at: 1)) }
                if keyed {
                    // Keys are known: a record missing from RETURNING had its key taken.
                    let written = Dictionary(rows, uniquingKeysWith: { first, _ in first })
                    for (offset, values) in group.rows {
                        let key = (values[keyName] ?? nil) ?? ""
                        results[offset] = written[key].map { .inserted(id: key, stamp: RecordStamp(modifiedOn: $0)) } ?? .keyTaken(id: key)
                    }
                } else {
                    // Without ON CONFLICT every row comes back, in the order the SELECT produced them.
                    for ((id, modifiedOn), (offset, _)) in zip(rows, group.rows) {
                        results[offset] = .inserted(id: id, stamp: RecordStamp(modifiedOn: modifiedOn))
                    }
                }
            }
        }
        return results.compactMap { $0 }
    }

    public func insert(_ records: [NewRecord]) async throws -> WriteResults<InsertResult> {
        try await eachAlone(records, values: \.values) { try await insertAll($0) }
    }

    public func update(_ changes: [RecordChange]) async throws -> WriteResults<RecordStamp?> {
        try await eachAlone(changes, values: \.values) { batch in
            let written = try await updateAll(batch)
            return batch.map { written[$0.id].map { RecordStamp(modifiedOn: $0) } }
        }
    }

    public func delete(_ records: [RecordDeletion]) async throws -> WriteResults<Bool> {
        try await eachAlone(records, values: { _ in [:] }) { batch in
            let gone = try await deleteAll(batch)
            return batch.map { gone.contains($0.id) }
        }
    }

    /// Writes all items in one transaction; if the server refuses it, writes them one at a time so
    /// that only the refused ones fail. A lost connection is the endpoint failing, and throws.
    private func eachAlone<Item, Written>(
        _ items: [Item], values: (Item) -> FieldValues, _ write: ([Item]) async throws -> [Written]
    ) async throws -> WriteResults<Written> {
        guard !items.isEmpty else { return [] }
        do {
            return try await write(items).map { .success($0) }
        } catch let error as PostgresError where !error.isConnectionLoss {
            var results: WriteResults<Written> = []
            for item in items {
                do {
                    results += try await write([item]).map { .success($0) }
                } catch let error as PostgresError where !error.isConnectionLoss {
                    results.append(.failure(try await refusal(error, writing: values(item))))
                }
            }
            return results
        }
    }

    /// How keys of new records come about.
    private enum KeyKind: Sendable {
        /// A uuid or text key: Couplet derives one from the source's token.
        case derived
        /// A serial or identity key: Couplet takes the sequence's next value.
        case sequence(String, identityAlways: Bool)
        /// The database assigns the key some other way, on insert.
        case database
    }

    private func keyKind() async throws -> KeyKind {
        if let known = keyKindMemo.value { return known }
        let (type, sequence, identity) = try await connection.query(
            """
            SELECT format_type(a.atttypid, a.atttypmod), pg_get_serial_sequence(\(side.table.quoted), a.attname), a.attidentity::text
            FROM pg_attribute a WHERE a.attrelid = \(side.table.quoted)::regclass AND a.attname = \(side.key.parts[0])
            """, name: "key kind"
        ).single().decode((String, String?, String).self)
        let kind: KeyKind = if let sequence {
            .sequence(sequence, identityAlways: identity == "a")
        } else if type == "uuid" || type == "text" || type.hasPrefix("character varying") {
            .derived
        } else {
            .database
        }
        keyKindMemo.value = kind
        return kind
    }

    private func updateAll(_ changes: [RecordChange]) async throws -> [String: Date] {
        var written: [String: Date] = [:]
        let keyName = side.key.parts[0]
        let modifiedName = side.modified.parts[0]
        let keyed = changes.map { change in
            var values = change.values
            values[keyName] = change.id
            values[modifiedName] = change.expected.flatMap(\.modifiedOn.postgresText)
            return (change.id, values)
        }
        // One transaction for every column group, as for inserts: all written, or none.
        try await connection.withTransaction { connection in
            for group in Self.groupedByColumns(keyed) {
                let columns = try group.columns.filter { $0 != keyName && $0 != modifiedName }.map { try PostgresIdentifier($0, what: "column") }
                guard !columns.isEmpty else { continue }
                let assignments = PostgresQuery.joined(columns.map { "\($0) = r.\($0)" }, separator: ", ")
                let rows = try await connection.query(
                    """
                    UPDATE \(side.table) AS t SET \(assignments)
                    FROM json_populate_recordset(NULL::\(side.table), \(Self.json(group.rows.map(\.1)))::json) AS r
                    WHERE t.\(side.key) = r.\(side.key) AND (r.\(side.modified) IS NULL OR t.\(side.modified) = r.\(side.modified))
                    RETURNING t.\(side.key)::text, t.\(side.modified)
                    """, name: "update \(side.table)")
                for row in rows { written[try row.decode(String.self, at: 0)] = try row.decode(Date.self, at: 1) }
            }
        }
        return written
    }

    private func deleteAll(_ records: [RecordDeletion]) async throws -> Set<String> {
        guard !records.isEmpty else { return [] }
        let keyName = side.key.parts[0]
        let rows = try await connection.query(
            """
            DELETE FROM \(side.table) AS t
            USING json_populate_recordset(NULL::\(side.table), \(Self.json(records.map { [keyName: $0.id] }))::json)
                  WITH ORDINALITY AS r, unnest(\(records.map(\.expected.modifiedOn))) WITH ORDINALITY AS d(modified, n)
            WHERE r.ordinality = d.n AND t.\(side.key) = r.\(side.key) AND t.\(side.modified) = d.modified
            RETURNING t.\(side.key)::text
            """, name: "delete from \(side.table)")
        return Set(try rows.map { try $0.decode(String.self, at: 0) })
    }

    public func check(_ expected: [ExpectedRecord]) async throws -> [String: ExpectationCheck] {
        var checks: [String: ExpectationCheck] = [:]
        let keyName = side.key.parts[0]
        let keyed = expected.map { record in (record.id, record.values.merging([keyName: record.id]) { _, key in key }) }
        for group in Self.groupedByColumns(keyed) {
            let columns = try group.columns.filter { $0 != keyName }.map { try PostgresIdentifier($0, what: "column") }
            let current = PostgresQuery.joined(columns.map { "t.\($0)" }, separator: ", ")
            let wanted = PostgresQuery.joined(columns.map { "r.\($0)" }, separator: ", ")
            let agrees: PostgresQuery = columns.isEmpty ? "true" : "ROW(\(current), 0) IS NOT DISTINCT FROM ROW(\(wanted), 0)"
            let rows = try await read(
                """
                SELECT t.\(side.key)::text, t.\(side.modified), \(agrees)
                FROM json_populate_recordset(NULL::\(side.table), \(Self.json(group.rows.map(\.1)))::json) AS r
                JOIN \(side.table) AS t ON t.\(side.key) = r.\(side.key)
                """, decode: { try $0.decode((String, Date, Bool).self) })
            for (id, modifiedOn, agrees) in rows { checks[id] = ExpectationCheck(stamp: RecordStamp(modifiedOn: modifiedOn), agrees: agrees) }
        }
        return checks
    }

    /// The refusal `error` is, classified by what the server says went wrong (SQLSTATE) and where
    /// (constraint, column): the column when the server names it, or a probe of `values` finds it.
    private func refusal(_ error: PostgresError, writing values: FieldValues) async throws -> RecordRefusal {
        var column = error.columnName
        if column == nil, error.sqlState?.hasPrefix("22") == true { column = try await refusedColumn(in: values) }
        if column == nil, let constraint = error.constraintName { column = try await onlyColumn(of: constraint) }
        let state = error.sqlState ?? "unknown"
        return RecordRefusal(
            detail: "SQLSTATE \(state): \(Self.withoutValues(error.message))",
            cause: [state, error.constraintName ?? column].compactMap { $0 }.joined(separator: ":"),
            column: column, constraint: error.constraintName, reason: Self.reason(state, constraint: error.constraintName),
            concern: state == "23505" || state == "23503" ? .otherRecords : .value)
    }

    /// What SQLSTATE `state` means for a person.
    private static func reason(_ state: String, constraint: String?) -> String {
        switch state {
        case "23514": "the value breaks check constraint \(constraint ?? "of the table")"
        case "23505": "another record already holds this value (unique constraint \(constraint ?? "?"))"
        case "23503": "it refers to a record that does not exist (foreign key \(constraint ?? "?"))"
        case "23502": "the value must not be empty"
        case "22001": "the value is too long for the column"
        case "22003": "the number is out of the column's range"
        case "22P02", "22007", "22008": "the value is not valid for the column's type"
        default: "the target refused the write"
        }
    }

    /// The server's message without the values it quotes after a colon (`invalid input syntax for
    /// type numeric: "lots"`); names of relations and constraints stay.
    static func withoutValues(_ message: String) -> String {
        guard let range = message.range(of: ": \"") else { return message }
        return String(message[..<range.lowerBound])
    }

    /// The one column constraint `name` of the table concerns (a CHECK on one column, say); nil for several.
    private func onlyColumn(of constraint: String) async throws -> String? {
        let columns = try await read(
            """
            SELECT a.attname::text FROM pg_constraint c
            JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey)
            WHERE c.conrelid = \(side.table.quoted)::regclass AND c.conname = \(constraint)
            """, decode: { try $0.decode(String.self, at: 0) })
        return columns.count == 1 ? columns[0] : nil
    }

    /// The column whose value in `values` the table's column type refuses (too long, not a number …),
    /// probed one column at a time; nil when each value fits on its own.
    private func refusedColumn(in values: FieldValues) async throws -> String? {
        for column in values.keys.sorted() {
            let identifier = try PostgresIdentifier(column, what: "column")
            let probe = RecordsJSON.encode([column: values[column] ?? nil])
            do {
                _ = try await read(
                    "SELECT (json_populate_record(NULL::\(side.table), \(probe)::json)).\(identifier) IS NULL",
                    decode: { _ in true })
            } catch let error as PostgresError where !error.isConnectionLoss {
                return column
            }
        }
        return nil
    }

    public func candidates(matching columns: [String], values: [[String]], caseSensitive: Bool) async throws -> [[String]] {
        guard !values.isEmpty, !columns.isEmpty else { return values.map { _ in [] } }
        let identifiers = try columns.map { try PostgresIdentifier($0, what: "match column") }
        func normalized(_ expression: PostgresQuery) -> PostgresQuery {
            let spaced: PostgresQuery = "regexp_replace(btrim(\(expression), E' \\t\\r\\n'), '\\s+', ' ', 'g')"
            return caseSensitive ? spaced : "lower(\(spaced))"
        }
        let arrays = PostgresQuery.joined(
            identifiers.indices.map { index in "\(values.map { $0[index] })::text[]" }, separator: ", ")
        let inputColumns = try identifiers.indices.map { try PostgresIdentifier("v\($0)") }
        let conditions = PostgresQuery.joined(
            zip(identifiers, inputColumns).map { column, input in "\(normalized("t.\(column)::text")) = \(normalized("i.\(input)"))" },
            separator: " AND ")
        let rows = try await read(
            """
            SELECT i.n, t.\(side.key)::text
            FROM unnest(\(arrays)) WITH ORDINALITY AS i(\(inputColumns), n)
            JOIN \(side.table) AS t ON \(conditions)
            WHERE \(filter)
            """, decode: { row in (try row.decode(Int.self, at: 0), try row.decode(String.self, at: 1)) })
        var found = values.map { _ in [String]() }
        for (ordinal, id) in rows { found[ordinal - 1].append(id) }
        return found
    }

    public func ids(whose column: String, isAnyOf values: [String]) async throws -> [String] {
        guard !values.isEmpty else { return [] }
        let column = try PostgresIdentifier(column, what: "column")
        return try await read(
            "SELECT \(side.key)::text FROM \(side.table) WHERE \(column)::text = ANY(\(values)::text[])",
            decode: { try $0.decode(String.self, at: 0) })
    }

    public func watermarkCap() async throws -> Date {
        try await Self.watermarkCap(on: connection)
    }

    /// The start of the oldest transaction still open in `connection`'s database other than its
    /// own (or now, if none): every row committed later carries a modified-on at or after it, so a
    /// delta that reads `> watermark` never advances its watermark past this instant.
    public static func watermarkCap(on connection: PostgresConnection) async throws -> Date {
        try await connection.query(
            """
            SELECT coalesce(min(xact_start), now()) FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL
            """, name: "watermark cap"
        ).single().decode(Date.self, at: 0)
    }

    /// Records grouped by the set of columns they write, so each group is one statement.
    private static func groupedByColumns<ID>(_ records: [(ID, FieldValues)]) -> [(columns: [String], rows: [(ID, FieldValues)])] {
        var groups: [[String]: [(ID, FieldValues)]] = [:]
        var order: [[String]] = []
        for record in records {
            let columns = record.1.keys.sorted()
            if groups[columns] == nil { order.append(columns) }
            groups[columns, default: []].append(record)
        }
        return order.map { ($0, groups[$0] ?? []) }
    }

    /// The records as a JSON array of objects whose values are strings or null.
    private static func json(_ records: [FieldValues]) -> String { RecordsJSON.encode(records) }
}

/// A value worked out once and shared by the copies of the struct that holds it.
final class Memo<Value: Sendable>: Sendable {
    private let storage = Mutex<Value?>(nil)

    /// The value, once someone set it.
    var value: Value? {
        get { storage.withLock { $0 } }
        set { storage.withLock { $0 = newValue } }
    }
}

/// The key column's type, as the catalog names it: what a list of ids is cast to, as one bound
/// array, so that `key = ANY(…)` compares in the key's own type and can use its index.
public struct KeyColumnType: Sendable, Equatable {
    /// The type's name as `regtype` prints it: quoted where it needs to be, schema-qualified when
    /// not on the search path, without a length or precision (a `varchar(20)` key is `character
    /// varying`, so a longer id is never cut to fit and mistaken for another).
    public let name: String

    /// The type named `name` (as the catalog printed it).
    init(name: String) {
        self.name = name
    }

    /// `ids`, bound as one text array, cast to an array of this type.
    func array(_ ids: [String]) -> PostgresQuery {
        // The type's name is the catalog's own output (regtype quotes what needs quoting), not configuration.
        "\(ids)::text[]::\(PostgresQuery(unsafeSQL: name))[]"
    }

    /// One id, bound as text, cast to this type.
    func value(_ id: String) -> PostgresQuery {
        "\(id)::text::\(PostgresQuery(unsafeSQL: name))"
    }
}

// Reads `couplet verify` uses beside the engine's: the key's type, key pages, and groups of duplicates.
extension PostgresTableEndpoint {
    /// The key column's type, asked of the server once per endpoint.
    public func keyType() async throws -> KeyColumnType {
        if let known = keyTypeMemo.value { return known }
        let name = try await read(
            "SELECT a.atttypid::regtype::text FROM pg_attribute a WHERE a.attrelid = \(side.table.quoted)::regclass AND a.attname = \(side.key.parts[0])",
            decode: { try $0.decode(String.self, at: 0) })
        guard let name = name.first else { throw SyncFailure(code: .configuration, message: "\(side.table) has no key column \(side.key)") }
        keyTypeMemo.value = KeyColumnType(name: name)
        return KeyColumnType(name: name)
    }

    /// Up to `limit` keys of records that pass the filter, after `after` (from the first when nil),
    /// in the key's order: one page of a walk over the side that holds one page in memory.
    public func keys(after: String?, limit: Int) async throws -> [String] {
        let keyType = try await keyType()
        let after: PostgresQuery = after.map { "\(side.key) > \(keyType.value($0))" } ?? "true"
        return try await read(
            "SELECT \(side.key)::text AS couplet_key FROM \(side.table) WHERE \(filter) AND \(after) ORDER BY \(side.key) LIMIT \(limit)",
            decode: { try $0.decode(String.self, at: 0) })
    }

    /// The groups of records passing the filter whose `columns` hold the same values once
    /// normalised as `candidates(matching:values:caseSensitive:)` normalises them, leaving out
    /// empty values (which never match): the first `limit` groups in value order, and how many
    /// there are. Grouped by the server: memory follows `limit`, not the table. The values are
    /// counted first and the ids gathered for duplicated ones only: an ordered `array_agg` sorts
    /// within every group, which for a table of distinct values is one sort per record.
    public func duplicateGroups(
        matching columns: [String], caseSensitive: Bool, limit: Int
    ) async throws -> (total: Int, groups: [DuplicateGroup]) {
        guard !columns.isEmpty else { return (0, []) }
        let identifiers = try columns.map { try PostgresIdentifier($0, what: "match column") }
        let names = try identifiers.indices.map { try PostgresIdentifier("v\($0)") }
        let normalised = PostgresQuery.joined(
            zip(identifiers, names).map { column, name in
                // Text without white space is its own normalisation: the regular expressions run only where they can change something.
                let spaced: PostgresQuery = """
                    CASE WHEN \(column)::text ~ '\\s' THEN regexp_replace(btrim(\(column)::text, E' \\t\\r\\n'), '\\s+', ' ', 'g') ELSE \(column)::text END
                    """
                return caseSensitive ? "\(spaced) AS \(name)" : "lower(\(spaced)) AS \(name)"
            }, separator: ", ")
        let nonEmpty = PostgresQuery.joined(names.map { "\($0) <> ''" }, separator: " AND ")
        let rows = try await read(
            """
            WITH t AS (SELECT \(side.key) AS key_value, \(side.key)::text AS k, \(normalised) FROM \(side.table) WHERE \(filter)),
                 duplicated AS (SELECT \(names) FROM t WHERE \(nonEmpty) GROUP BY \(names) HAVING count(*) > 1)
            SELECT \(names), count(*)::int8, to_json((array_agg(k ORDER BY key_value))[1:\(DuplicateGroup.idsShown)])::text, count(*) OVER ()
            FROM t JOIN duplicated USING (\(names))
            GROUP BY \(names)
            ORDER BY \(names) LIMIT \(max(limit, 1))
            """
        ) { row in
            let values = try names.indices.map { try row.decode(String.self, at: $0) }
            let group = DuplicateGroup(
                values: values, count: try row.decode(Int.self, at: names.count),
                ids: (try? JSONDecoder().decode([String].self, from: Data(try row.decode(String.self, at: names.count + 1).utf8))) ?? [])
            return (group, try row.decode(Int.self, at: names.count + 2))
        }
        return (rows.first?.1 ?? 0, Array(rows.map(\.0).prefix(limit)))
    }
}
