/// A PostgreSQL type, identified by its OID, as reported for result columns and sent with parameters.
public struct PostgresDataType: Hashable, Sendable, CustomStringConvertible {
    /// The type's OID in `pg_type`.
    public let oid: UInt32

    /// Wraps a raw OID.
    public init(oid: UInt32) { self.oid = oid }

    /// Let the server infer the parameter's type from context (OID 0).
    public static let unknown = PostgresDataType(oid: 0)
    public static let bool = PostgresDataType(oid: 16)
    public static let bytea = PostgresDataType(oid: 17)
    public static let name = PostgresDataType(oid: 19)
    public static let int8 = PostgresDataType(oid: 20)
    public static let int2 = PostgresDataType(oid: 21)
    public static let int4 = PostgresDataType(oid: 23)
    public static let text = PostgresDataType(oid: 25)
    public static let oidType = PostgresDataType(oid: 26)
    public static let json = PostgresDataType(oid: 114)
    public static let float4 = PostgresDataType(oid: 700)
    public static let float8 = PostgresDataType(oid: 701)
    public static let bpchar = PostgresDataType(oid: 1042)
    public static let varchar = PostgresDataType(oid: 1043)
    public static let date = PostgresDataType(oid: 1082)
    public static let timestamp = PostgresDataType(oid: 1114)
    public static let timestamptz = PostgresDataType(oid: 1184)
    public static let interval = PostgresDataType(oid: 1186)
    public static let numeric = PostgresDataType(oid: 1700)
    public static let uuid = PostgresDataType(oid: 2950)
    public static let jsonb = PostgresDataType(oid: 3802)
    public static let boolArray = PostgresDataType(oid: 1000)
    public static let int2Array = PostgresDataType(oid: 1005)
    public static let int4Array = PostgresDataType(oid: 1007)
    public static let textArray = PostgresDataType(oid: 1009)
    public static let varcharArray = PostgresDataType(oid: 1015)
    public static let int8Array = PostgresDataType(oid: 1016)
    public static let float8Array = PostgresDataType(oid: 1022)
    public static let timestamptzArray = PostgresDataType(oid: 1185)
    public static let intervalArray = PostgresDataType(oid: 1187)
    public static let numericArray = PostgresDataType(oid: 1231)
    public static let uuidArray = PostgresDataType(oid: 2951)
    public static let jsonbArray = PostgresDataType(oid: 3807)

    private static let names: [UInt32: String] = [
        0: "unknown", 16: "bool", 17: "bytea", 19: "name", 20: "int8", 21: "int2", 23: "int4",
        25: "text", 26: "oid", 114: "json", 700: "float4", 701: "float8", 1042: "bpchar",
        1043: "varchar", 1082: "date", 1114: "timestamp", 1184: "timestamptz", 1186: "interval",
        1700: "numeric", 2950: "uuid", 3802: "jsonb", 1000: "bool[]", 1005: "int2[]",
        1007: "int4[]", 1009: "text[]", 1015: "varchar[]", 1016: "int8[]", 1022: "float8[]",
        1185: "timestamptz[]", 1187: "interval[]", 1231: "numeric[]", 2951: "uuid[]", 3807: "jsonb[]",
    ]

    /// Element type → array type, for the types this client binds.
    private static let arrayTypes: [PostgresDataType: PostgresDataType] = [
        .unknown: .textArray, .text: .textArray, .varchar: .varcharArray, .bool: .boolArray,
        .int2: .int2Array, .int4: .int4Array, .int8: .int8Array, .float8: .float8Array,
        .timestamptz: .timestamptzArray, .interval: .intervalArray, .numeric: .numericArray, .uuid: .uuidArray,
        .jsonb: .jsonbArray,
    ]

    /// The type of a one-dimensional array of this type, or `unknown` when this client has no OID for it.
    public var arrayType: PostgresDataType { Self.arrayTypes[self] ?? .unknown }

    /// The element type when this is an array type this client knows.
    public var elementType: PostgresDataType? {
        Self.arrayTypes.first { $0.value == self && $0.key != .unknown }?.key
    }

    /// The type's SQL name, or `oid N` for types this client does not name.
    public var description: String { Self.names[oid] ?? "oid \(oid)" }

    /// True for the integer types.
    public var isInteger: Bool { self == .int2 || self == .int4 || self == .int8 || self == .oidType }
    /// True for text-like types.
    public var isText: Bool { self == .text || self == .varchar || self == .bpchar || self == .name || self == .unknown }
}
