/// One numbered SQL migration file.
public struct SchemaMigration: Sendable, Hashable {
    /// The number the file name starts with; migrations apply in ascending order.
    public var version: Int
    /// The file name, e.g. `0001_create_schema.sql`.
    public var name: String
    /// The SQL text; it must not contain transaction control (each file runs in its own transaction).
    public var sql: String

    /// Describes a migration.
    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }
}

/// Where one migration stands in a database.
public struct MigrationStatus: Sendable, Hashable {
    /// The state of a migration.
    public enum State: Sendable, Hashable {
        /// Applied, and the file is unchanged since.
        case applied(at: String)
        /// Not applied yet.
        case pending
        /// Applied, but the file has changed since: the database may not match the SQL any more.
        case changed(appliedChecksum: String, fileChecksum: String)
        /// Applied from a file this binary does not have (the database is newer than the binary).
        case unknown(name: String)
    }

    /// The migration's version.
    public var version: Int
    /// Its file name.
    public var name: String
    /// Its state.
    public var state: State
}

/// Applies numbered SQL migrations exactly once, in order, however many processes try at once.
///
/// Each migration runs in its own transaction that first takes a transaction-level advisory lock,
/// then re-reads the ledger: ten processes starting together queue on the lock, and each of them
/// finds the work of those before it already recorded. Transaction-level locks (not session-level)
/// also hold behind PgBouncer in transaction mode.
///
/// The ledger records every file's SHA-256 (computed by the server, `sha256(convert_to(sql, 'UTF8'))`,
/// so a DBA can check it in SQL). A file that changed after it was applied, or an applied version
/// this binary does not know, stops the run with a message saying which and what to do.
public struct SchemaMigrator: Sendable {
    /// The migrations, in ascending version order.
    public let migrations: [SchemaMigration]
    /// The ledger table, which the first migration must create.
    public let ledger: PostgresIdentifier

    /// Describes the migrations and their ledger table.
    public init(migrations: [SchemaMigration], ledger: PostgresIdentifier) {
        self.migrations = migrations.sorted { $0.version < $1.version }
        self.ledger = ledger
    }

    private static let lockKey = 0x636F_7570_6C65_74  // "couplet" in ASCII

    /// Applies the pending migrations and returns those this call applied, telling `applied` of each
    /// as soon as it is committed (so a migration that fails later leaves a record of those before it).
    ///
    /// Throws, applying nothing more, when an applied migration changed or is unknown, or when one fails.
    @discardableResult
    public func migrate(
        on connection: PostgresConnection, applied report: (SchemaMigration) -> Void = { _ in }
    ) async throws -> [SchemaMigration] {
        let checksums = try await fileChecksums(on: connection)
        var applied: [SchemaMigration] = []
        while let next = try await applyNext(on: connection, checksums: checksums) {
            applied.append(next)
            report(next)
        }
        return applied
    }

    /// The state of every migration the binary or the database knows, in version order.
    public func status(on connection: PostgresConnection) async throws -> [MigrationStatus] {
        let checksums = try await fileChecksums(on: connection)
        return statuses(recorded: try await recorded(on: connection), checksums: checksums)
    }

    /// The versions the binary knows that the ledger has not recorded, and those it recorded that the
    /// binary does not know: whether the schema is the one the binary was built for, from one small
    /// read of the ledger (`status` also compares checksums, which sends every file to be hashed).
    public func versionDifferences(on connection: PostgresConnection) async throws -> (unapplied: [Int], unknown: [Int]) {
        let applied = Set(try await recorded(on: connection).keys)
        let known = Set(migrations.map(\.version))
        return (known.subtracting(applied).sorted(), applied.subtracting(known).sorted())
    }

    /// In one transaction: lock, check the ledger, apply the first pending migration. Nil when none is pending.
    private func applyNext(on connection: PostgresConnection, checksums: [Int: String]) async throws -> SchemaMigration? {
        try await connection.withTransaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.lockKey))", name: "lock migrations")
            let statuses = statuses(recorded: try await recorded(on: connection), checksums: checksums)
            try Self.refuseUnsafe(statuses)
            guard let pending = statuses.first(where: { $0.state == .pending }),
                let migration = migrations.first(where: { $0.version == pending.version })
            else { return nil }
            try await connection.runScript(migration.sql, name: migration.name)
            try await connection.query(
                "INSERT INTO \(ledger) (version, name, checksum) VALUES (\(migration.version), \(migration.name), \(checksums[migration.version]!))",
                name: "record migration")
            return migration
        }
    }

    private struct Recorded {
        var name: String
        var checksum: String
        var appliedAt: String
    }

    /// The ledger's rows, or none when the ledger does not exist yet.
    private func recorded(on connection: PostgresConnection) async throws -> [Int: Recorded] {
        let exists = try await connection.query("SELECT to_regclass(\(ledger.quoted)) IS NOT NULL", name: "find ledger")
            .single().decode(Bool.self, at: 0)
        guard exists else { return [:] }
        let rows = try await connection.query(
            "SELECT version, name, checksum, to_char(applied_at, 'YYYY-MM-DD HH24:MI:SSOF') FROM \(ledger)", name: "read ledger")
        var recorded: [Int: Recorded] = [:]
        for row in rows {
            let (version, name, checksum, appliedAt) = try row.decode((Int, String, String, String).self)
            recorded[version] = Recorded(name: name, checksum: checksum, appliedAt: appliedAt)
        }
        return recorded
    }

    /// SHA-256 of each file as the server computes it.
    private func fileChecksums(on connection: PostgresConnection) async throws -> [Int: String] {
        let rows = try await connection.query(
            "SELECT encode(sha256(convert_to(sql, 'UTF8')), 'hex') FROM unnest(\(migrations.map(\.sql))::text[]) WITH ORDINALITY AS f(sql, n) ORDER BY n",
            name: "checksum migrations")
        var checksums: [Int: String] = [:]
        for (migration, row) in zip(migrations, rows) { checksums[migration.version] = try row.decode(String.self, at: 0) }
        return checksums
    }

    private func statuses(recorded: [Int: Recorded], checksums: [Int: String]) -> [MigrationStatus] {
        var statuses = migrations.map { migration in
            let state: MigrationStatus.State
            if let applied = recorded[migration.version] {
                let fileChecksum = checksums[migration.version] ?? ""
                state = applied.checksum == fileChecksum
                    ? .applied(at: applied.appliedAt)
                    : .changed(appliedChecksum: applied.checksum, fileChecksum: fileChecksum)
            } else {
                state = .pending
            }
            return MigrationStatus(version: migration.version, name: migration.name, state: state)
        }
        let known = Set(migrations.map(\.version))
        for (version, entry) in recorded where !known.contains(version) {
            statuses.append(MigrationStatus(version: version, name: entry.name, state: .unknown(name: entry.name)))
        }
        return statuses.sorted { $0.version < $1.version }
    }

    /// Throws when the database does not match the files it was built from.
    private static func refuseUnsafe(_ statuses: [MigrationStatus]) throws {
        for status in statuses {
            switch status.state {
            case .changed(let appliedChecksum, let fileChecksum):
                throw PostgresError(
                    .migration,
                    message: "migration \(status.name) was changed after it was applied "
                        + "(applied checksum \(appliedChecksum.prefix(12))…, file now \(fileChecksum.prefix(12))…); "
                        + "restore the original file and put the change in a new numbered migration")
            case .unknown(let name):
                throw PostgresError(
                    .migration,
                    message: "the database has migration \(name) (version \(status.version)), which this couplet "
                        + "binary does not know; run a couplet built from the same or a newer Schema/")
            case .applied, .pending:
                continue
            }
        }
    }
}
