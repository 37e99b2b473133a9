import Postgres

/// Couplet's coordination schema: the numbered SQL files of `Schema/`, embedded at build time.
///
/// Embedding (rather than shipping the files as resources) means the `couplet` binary migrates
/// correctly wherever it is copied, and the SQL it applies is exactly the SQL it was tested with.
public enum CoupletSchema {
    /// The name of the ledger table that records applied migrations.
    public static let ledger = try! PostgresIdentifier("schema_migrations", schema: "couplet")

    /// A migrator for Couplet's schema.
    public static var migrator: SchemaMigrator {
        SchemaMigrator(migrations: migrations, ledger: ledger)
    }
}
