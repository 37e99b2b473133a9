import Foundation
import Postgres
import YAMLFile
import Yams

/// The rules a mappings file's values must follow: the CHECK constraints of `couplet.endpoints`
/// and `couplet.table_mappings`, PostgreSQL's identifier limits, and the filter rule.
enum MappingFileRules {
    private static let letters = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
    private static let digits = Set("0123456789")

    /// 1-63 ASCII letters, digits, `_` or `-` (`CUSTOMER`, `ITEM-PRODUCT`).
    static func mappingName(_ text: String) throws(NodeValueError) -> String {
        try name(text, of: "mapping")
    }

    /// A value map's name, spelled like a mapping's (`COUNTRIES`, `PAYMENT-TERMS`).
    static func valueMapName(_ text: String) throws(NodeValueError) -> String {
        try name(text, of: "value map")
    }

    /// 1-63 ASCII letters, digits, `_` or `-`; `what` says whose name it is in the error.
    private static func name(_ text: String, of what: String) throws(NodeValueError) -> String {
        let allowed = letters.union(digits).union("_-")
        guard (1...63).contains(text.count), text.allSatisfy(allowed.contains) else {
            throw NodeValueError("\(what) name \"\(text)\" must be 1-63 letters, digits, '_' or '-'")
        }
        return text
    }

    /// A letter, then up to 62 ASCII letters, digits or `_`: it becomes part of `COUPLET_ENDPOINT_<NAME>_URL`.
    static func endpointName(_ text: String) throws(NodeValueError) -> String {
        let allowed = letters.union(digits).union("_")
        guard (1...63).contains(text.count), let first = text.first, letters.contains(first), text.allSatisfy(allowed.contains) else {
            throw NodeValueError(
                "endpoint name \"\(text)\" must start with a letter and be 1-63 letters, digits or '_' (it names the variable COUPLET_ENDPOINT_<NAME>_URL)")
        }
        return text
    }

    /// The kinds of endpoint Couplet can connect to, each with the settings a mappings file must
    /// and may give it (a PostgreSQL endpoint has none: its connection string is a secret, from the environment).
    static let endpointKinds: [String: (required: [String], optional: [String])] = [
        "postgres": ([], []),
        "dataverse": (["url", "tenant", "client_id"], ["authority"]),
        "business-central": (["tenant", "environment", "company", "client_id"], ["url", "authority"]),
    ]

    static func endpointKind(_ text: String) throws(NodeValueError) -> String {
        guard endpointKinds[text] != nil else {
            throw NodeValueError("kind must be one of \(endpointKinds.keys.sorted().joined(separator: ", ")), not \"\(text)\"")
        }
        return text
    }

    /// A setting's value, checked for its key: `url` and `authority` an https URL (http only on
    /// loopback, for the emulator) without credentials, query or fragment; `client_id` and
    /// `company` a GUID; `tenant` a tenant id or domain; `environment` a Business Central environment name.
    static func endpointSetting(_ key: String, _ text: String) throws(NodeValueError) -> String {
        switch key {
        case "url", "authority":
            guard let url = URL(string: text), let host = url.host, url.user == nil, url.password == nil, url.query == nil,
                  url.fragment == nil, url.scheme == "https" || (url.scheme == "http" && ["127.0.0.1", "localhost", "::1"].contains(host))
            else {
                throw NodeValueError("\(key) must be an https URL without user, password, query or fragment (http only on loopback), not \"\(text)\"")
            }
            return text
        case "client_id", "company":
            guard UUID(uuidString: text) != nil else { throw NodeValueError("\(key) must be a GUID (its id in Entra ID or Business Central), not \"\(text)\"") }
            return text.lowercased()
        default:
            let allowed = letters.union(digits).union(".-_")
            guard (1...100).contains(text.count), text.allSatisfy(allowed.contains) else {
                throw NodeValueError("\(key) must be 1-100 letters, digits, '.', '-' or '_', not \"\(text)\"")
            }
            return text
        }
    }

    /// `name` or `schema.name`, each part 1-63 bytes without NUL.
    static func table(_ text: String) throws(NodeValueError) -> PostgresIdentifier {
        do { return try PostgresIdentifier(qualified: text, what: "table") } catch { throw NodeValueError(error.message) }
    }

    /// A column name, 1-63 bytes without NUL; `key` names it in the error.
    static func column(_ text: String, _ key: String) throws(NodeValueError) -> PostgresIdentifier {
        do { return try PostgresIdentifier(text, what: "\(key) column") } catch { throw NodeValueError(error.message) }
    }

    /// A filter in the filter grammar (see `RecordFilter`); a problem points at the character at fault.
    static func filter(_ node: Node) throws(NodeValueError) -> RecordFilter {
        let text = try node.text("filter")
        do { return try RecordFilter(parsing: text) } catch {
            throw NodeValueError("filter: \(error.message)", at: node.place(ofCharacter: error.position))
        }
    }

    /// Transformation rules (`trim | uppercase`); a problem points at the character at fault.
    static func rules(_ node: Node, _ key: String) throws(NodeValueError) -> TransformationChain {
        let text = try node.text(key)
        do { return try TransformationChain(parsing: text) } catch {
            throw NodeValueError("\(key): \(error.message)", at: node.place(ofCharacter: error.position ?? 1))
        }
    }

    /// Records per batch, within the range `couplet.table_mappings` allows.
    static func batchSize(_ value: Int) throws(NodeValueError) -> Int {
        guard (1...100_000).contains(value) else { throw NodeValueError("batch_size \(value) is out of range 1-100000") }
        return value
    }

    /// A constant's text (`0`, `NO` and `true` stay as written), or nil for `null`.
    static func constant(_ node: Node) throws(NodeValueError) -> String? {
        if node.isNull { return nil }
        guard case .scalar(let scalar) = node else { throw NodeValueError("constant must be text or null, not \(node.summary)") }
        return scalar.string
    }

    /// A match priority: 0 or more (lower is tried first).
    static func matchPriority(_ value: Int) throws(NodeValueError) -> Int {
        guard value >= 0 else { throw NodeValueError("match_priority must be 0 or more (lower is tried first), not \(value)") }
        return value
    }

    /// A template: a mapping of column names to text values (or null), e.g. {city: Unknown, country: NO}.
    static func template(_ node: Node) throws(NodeValueError) -> FieldValues {
        guard case .mapping(let pairs) = node else {
            throw NodeValueError("template must be a mapping of columns to values, such as {country: NO}, not \(node.summary)")
        }
        var values: FieldValues = [:]
        for (key, value) in pairs {
            guard let column = key.scalar?.string, !column.isEmpty else { throw NodeValueError("a template column must be a name") }
            guard value.isNull || value.scalar != nil else {
                throw NodeValueError("the template value of \(column) must be text or null, not \(value.summary)")
            }
            values[column] = value.isNull ? nil : value.scalar?.string
        }
        return values
    }
}

extension Node {
    /// The case of `T` whose snake_case name the scalar is; the error lists the valid names.
    func choice<T: CaseIterable & RawRepresentable>(_ key: String, _ type: T.Type) throws(NodeValueError) -> T
    where T.RawValue == String {
        let text = try text(key)
        guard let value = T(snakeCaseName: text) else {
            throw NodeValueError("\(key) must be one of \(T.snakeCaseNames.joined(separator: ", ")), not \"\(text)\"")
        }
        return value
    }
}

extension CaseIterable where Self: RawRepresentable, RawValue == String {
    /// The case named `text` in snake_case (`get_from_integration`), as files and tables write it.
    init?(snakeCaseName text: String) {
        guard let value = Self.allCases.first(where: { $0.rawValue.snakeCased == text }) else { return nil }
        self = value
    }

    /// Every case's snake_case name, in declaration order.
    static var snakeCaseNames: [String] { allCases.map(\.rawValue.snakeCased) }

    /// The case's snake_case name.
    var snakeCaseName: String { rawValue.snakeCased }
}
