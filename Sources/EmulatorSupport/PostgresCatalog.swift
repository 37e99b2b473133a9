import Foundation
import Postgres

/// One column of a served table, as the Postgres catalog describes it.
public struct CatalogColumn: Sendable {
    /// The column name.
    public var name: String
    /// The type's name (`pg_type.typname`: `text`, `varchar`, `numeric`, `int4`, an enum's name, …).
    public var type: String
    /// True when the type is an enum (`pg_type.typtype = 'e'`).
    public var isEnum: Bool
    /// NOT NULL.
    public var notNull: Bool
    /// True when the column has a default (or is an identity column).
    public var hasDefault: Bool
    /// True for a generated column, which no client writes.
    public var isGenerated: Bool
    /// The column comment, empty for none.
    public var comment: String
    /// The most characters a `varchar(n)`/`char(n)` column holds.
    public var maxLength: Int?
    /// A `numeric(p,s)` column's precision.
    public var precision: Int?
    /// A `numeric(p,s)` column's scale.
    public var scale: Int?
}

/// A table whose primary key is one `uuid` column.
public struct KeyedTable: Sendable {
    /// The table's name.
    public var name: String
    /// The primary key column.
    public var key: String
    /// The table comment, empty for none.
    public var comment: String
}

/// Reads what the emulators serve from the Postgres catalog.
public enum PostgresCatalog {
    /// The tables of `schema` whose primary key is a single `uuid` column.
    public static func uuidKeyedTables(schema: String, connection: PostgresConnection) async throws -> [KeyedTable] {
        let rows = try await connection.query(
            """
            SELECT c.relname, a.attname, coalesce(obj_description(c.oid, 'pg_class'), '')
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary AND i.indnatts = 1
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0]
            WHERE n.nspname = \(schema) AND c.relkind IN ('r', 'p') AND a.atttypid = 'uuid'::regtype
            ORDER BY c.relname
            """, name: "emulator catalog tables")
        return try rows.map { row in
            let (name, key, comment) = try row.decode((String, String, String).self)
            return KeyedTable(name: name, key: key, comment: comment)
        }
    }

    /// The columns of `tables` of `schema`, in table order, by table.
    public static func columns(schema: String, of tables: Set<String>, connection: PostgresConnection) async throws -> [String: [CatalogColumn]] {
        let rows = try await connection.query(
            """
            SELECT c.relname, a.attname, t.typname, t.typtype = 'e', a.attnotnull, a.atthasdef OR a.attidentity <> '',
                   a.attgenerated <> '', coalesce(col_description(c.oid, a.attnum), ''),
                   CASE WHEN t.typname IN ('varchar', 'bpchar') AND a.atttypmod > 4 THEN a.atttypmod - 4 END,
                   CASE WHEN t.typname = 'numeric' AND a.atttypmod > 4 THEN ((a.atttypmod - 4) >> 16) & 65535 END,
                   CASE WHEN t.typname = 'numeric' AND a.atttypmod > 4 THEN (a.atttypmod - 4) & 65535 END
            FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_type t ON t.oid = a.atttypid
            WHERE n.nspname = \(schema) AND a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p')
            ORDER BY c.relname, a.attnum
            """, name: "emulator catalog columns")
        var columnsByTable: [String: [CatalogColumn]] = [:]
        for row in rows {
            let (table, name, type, isEnum, notNull, hasDefault) = try row.decode((String, String, String, Bool, Bool, Bool).self)
            guard tables.contains(table) else { continue }
            let isGenerated = try row.decode(Bool.self, at: 6)
            let comment = try row.decode(String.self, at: 7)
            let (length, precision, scale) = (try row.decode(Int?.self, at: 8), try row.decode(Int?.self, at: 9), try row.decode(Int?.self, at: 10))
            columnsByTable[table, default: []].append(
                CatalogColumn(
                    name: name, type: type, isEnum: isEnum, notNull: notNull, hasDefault: hasDefault, isGenerated: isGenerated,
                    comment: comment, maxLength: length, precision: precision, scale: scale))
        }
        return columnsByTable
    }

    /// The labels of every enum type, in their order, by type name.
    public static func enumLabels(connection: PostgresConnection) async throws -> [String: [String]] {
        let rows = try await connection.query(
            "SELECT t.typname, e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid ORDER BY t.typname, e.enumsortorder",
            name: "emulator catalog enums")
        var labels: [String: [String]] = [:]
        for row in rows {
            let (type, label) = try row.decode((String, String).self)
            labels[type, default: []].append(label)
        }
        return labels
    }

    /// Single-column foreign keys of `schema`: `table.column` → the referenced table.
    public static func foreignKeys(schema: String, connection: PostgresConnection) async throws -> [String: String] {
        let rows = try await connection.query(
            """
            SELECT c.relname, a.attname, rc.relname
            FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class rc ON rc.oid = k.confrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
            WHERE k.contype = 'f' AND cardinality(k.conkey) = 1 AND n.nspname = \(schema)
            """, name: "emulator catalog foreign keys")
        var references: [String: String] = [:]
        for row in rows {
            let (table, column, target) = try row.decode((String, String, String).self)
            references[table + "." + column] = target
        }
        return references
    }

    /// The columns of each CHECK, foreign key, unique and primary key constraint of `schema`, by constraint name.
    public static func constraintColumns(schema: String, connection: PostgresConnection) async throws -> [String: [String]] {
        let rows = try await connection.query(
            """
            SELECT k.conname, a.attname FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace
            JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = ANY(k.conkey)
            WHERE n.nspname = \(schema) AND k.contype IN ('c', 'f', 'u', 'p') ORDER BY k.conname, a.attnum
            """, name: "emulator catalog constraints")
        var columns: [String: [String]] = [:]
        for row in rows {
            let (constraint, column) = try row.decode((String, String).self)
            columns[constraint, default: []].append(column)
        }
        return columns
    }
}
