import EmulatorSupport
import Foundation
import HTTPTypes
import Postgres

/// Reads an entity set: collections with `$select`, `$filter`, `$orderby`, `$top`, `$skip`, `$count`
/// and server-driven paging, single records, and `/$count`.
struct Reader {
    let api: ServiceAPI
    let set: EntitySet
    /// `companies(<id>)/customers`, or `companies`.
    let path: String
    /// The API root the client used.
    let root: String
    let connection: PostgresConnection

    // MARK: Collections

    /// Where a following page starts: how many records the earlier pages returned (for `$top`), and the
    /// sort values of the last one (the next page begins after it, so records written meanwhile shift no page).
    struct PageState: Equatable {
        var returned = 0
        var after: [String?]?
    }

    /// `GET <set>`: a page of records, `@odata.count` under `$count=true`, `@odata.nextLink` when more follow.
    func collection(_ request: EmulatorRequest) async throws -> EmulatorResponse {
        let properties = try selected(request.option("$select"))
        let condition = try filterCondition(request)
        let terms = try sortTerms(request.option("$orderby"))
        let requestedPageSize = request.preferences["odata.maxpagesize"].flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil }
        let pageSize = min(max(requestedPageSize ?? api.settings.pageSize, 1), api.settings.maximumPageSize)
        let top = try request.option("$top").map { try Self.count($0, option: "$top") }
        let skip = try request.option("$skip").map { try Self.count($0, option: "$skip") } ?? 0
        guard skip <= Self.maximumOffset else { throw BusinessCentralError.querySyntax("The value of $skip is too large.") }
        let state = try request.option("$skiptoken").map(Self.pageState) ?? PageState()
        let remaining = top.map { max($0 - state.returned, 0) }
        let limit = min(remaining ?? pageSize, pageSize)
        let rows = try await connection.query(
            """
            SELECT \(selectList(properties)), \(Keyset.sortValues(terms)) FROM \(set.source) \(versionJoin())
            WHERE \(condition) AND \(Keyset.after(state.after, terms: terms)) ORDER BY \(Keyset.orderClause(terms))
            LIMIT \(limit + 1) OFFSET \(state.after == nil ? skip : 0)
            """, name: "emulator read")
        var members: [(String, JSONValue)] = [("@odata.context", .string(root + "$metadata#" + path + Self.selection(request)))]
        if request.option("$count")?.lowercased() == "true" {
            let total = try await connection.query("SELECT count(*) FROM \(set.source) WHERE \(condition)").single().decode(Int.self, at: 0)
            members.append(("@odata.count", .number(String(total))))
        }
        members.append(("value", .array(rows.prefix(limit).map { render($0, properties: properties) })))
        if rows.count > limit, remaining.map({ $0 > limit }) ?? true {
            let next = PageState(returned: state.returned + limit, after: Array(rows[limit - 1].values.suffix(terms.count)))
            members.append(("@odata.nextLink", .string(nextLink(request, next: next))))
        }
        let applied = requestedPageSize.map { _ in [("Preference-Applied", "odata.maxpagesize=\(pageSize)")] } ?? []
        return .json(.ok, .object(members), headers: applied)
    }

    /// `GET <set>/$count`: the number of records matching `$filter`, as plain text.
    func count(_ request: EmulatorRequest) async throws -> EmulatorResponse {
        let condition = try filterCondition(request)
        let total = try await connection.query("SELECT count(*) FROM \(set.source) WHERE \(condition)").single().decode(Int.self, at: 0)
        return EmulatorResponse(status: .ok, body: String(total), contentType: "text/plain")
    }

    // MARK: Records

    /// `GET <set>(<id>)`, with `$select`.
    func record(_ id: String, request: EmulatorRequest) async throws -> EmulatorResponse {
        let properties = try selected(request.option("$select"))
        guard let entity = try await fetch(id, properties: properties, context: root + "$metadata#" + path + Self.selection(request) + "/$entity")
        else { throw BusinessCentralError.notFound }
        return Self.entityResponse(.ok, entity)
    }

    /// One record as JSON with its `@odata.context`, or nil when it is not there.
    func fetch(_ id: String, properties: [Property]? = nil, context: String) async throws -> JSONValue? {
        let properties = properties ?? set.properties
        let rows = try await connection.query(
            "SELECT \(selectList(properties)) FROM \(set.source) \(versionJoin()) WHERE t.id = \(id)::uuid", name: "emulator read record")
        guard let row = rows.first else { return nil }
        guard case .object(let members) = render(row, properties: properties) else { return nil }
        return .object([("@odata.context", .string(context))] + members)
    }

    /// A 200 or 201 carrying one entity, with its etag also in the `ETag` header.
    static func entityResponse(_ status: HTTPResponse.Status, _ entity: JSONValue, headers: [(String, String)] = []) -> EmulatorResponse {
        let etag = entity["@odata.etag"]?.stringValue.map { [("ETag", $0)] } ?? []
        return .json(status, entity, headers: headers + etag)
    }

    // MARK: Rows

    /// The etag's row version (for versioned sets), then each property's text.
    private func selectList(_ properties: [Property]) -> PostgresQuery {
        let version: [PostgresQuery] = set.isVersioned ? ["coalesce(v.version, 0)::text"] : []
        return PostgresQuery.joined(version + properties.map(Values.readExpression), separator: ", ")
    }

    /// Joins the bookkeeping's row version (alias `v`).
    private func versionJoin() throws -> PostgresQuery {
        guard set.isVersioned else { return "" }
        return ServiceAPI.rowVersions.join(schema: set.schema, entity: set.name, key: try PostgresIdentifier("id"))
    }

    /// A row as the entity's JSON: `@odata.etag` first, then the properties in table order.
    private func render(_ row: PostgresRow, properties: [Property]) -> JSONValue {
        var members: [(String, JSONValue)] = []
        var values = row.values[...]
        if set.isVersioned { members.append(("@odata.etag", .string(Self.etag(values.popFirst() ?? nil)))) }
        for property in properties {
            members.append((property.name, Values.json(values.popFirst() ?? nil, kind: property.kind)))
        }
        return .object(members)
    }

    /// The weak etag of a row version, opaque as the service's are (base64 of `'<version>;00;'`).
    static func etag(_ version: String?) -> String {
        "W/\"" + Data("'\(version ?? "0");00;'".utf8).base64EncodedString() + "\""
    }

    // MARK: Query options

    /// The properties `$select` names, in table order; all of them without `$select`.
    private func selected(_ select: String?) throws(BusinessCentralError) -> [Property] {
        guard let select, !select.isEmpty else { return set.properties }
        let names = select.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        for name in names where set.property(name) == nil { throw .unknownProperty(name, type: set.typeName) }
        return set.properties.filter { names.contains($0.name) }
    }

    /// The `(a,b)` of an `@odata.context` for `$select`.
    private static func selection(_ request: EmulatorRequest) -> String {
        guard let select = request.option("$select"), !select.isEmpty else { return "" }
        return "(" + select.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ",") + ")"
    }

    private func filterCondition(_ request: EmulatorRequest) throws(BusinessCentralError) -> PostgresQuery {
        guard let text = request.option("$filter"), !text.trimmingCharacters(in: .whitespaces).isEmpty else { return "TRUE" }
        var compiler = FilterCompiler(entitySet: set, text: text, allowsNestedCalls: !Self.schemaVersion(request).lexicographicallyPrecedes([2, 1]))
        return "coalesce(\(try compiler.compile()), false)"
    }

    /// `$schemaversion` as numbers (`2.1` → `[2, 1]`); `[1, 0]` without it.
    static func schemaVersion(_ request: EmulatorRequest) -> [Int] {
        guard let text = request.option("$schemaversion") else { return [1, 0] }
        return text.split(separator: ".").map { Int($0) ?? 0 }
    }

    /// `$orderby`: properties, each `asc` (the default) or `desc`; the set's key last breaks ties.
    private func sortTerms(_ text: String?) throws(BusinessCentralError) -> [SortTerm] {
        var terms: [SortTerm] = []
        for item in (text ?? "").split(separator: ",") {
            let words = item.split(separator: " ").map(String.init)
            guard let name = words.first, words.count <= 2, words.count == 1 || ["asc", "desc"].contains(words[1]) else {
                throw .querySyntax("Syntax error in $orderby '\(text ?? "")'.")
            }
            guard let property = set.property(name) else { throw .unknownProperty(name, type: set.typeName) }
            terms.append(SortTerm(key: property.column, descending: words.count == 2 && words[1] == "desc"))
        }
        terms.append(SortTerm(key: set.keyOrder, descending: false))
        return terms
    }

    /// A non-negative whole number option.
    private static func count(_ text: String, option: String) throws(BusinessCentralError) -> Int {
        guard let value = Int(text), value >= 0 else { throw .querySyntax("Invalid value '\(text)' for \(option); a non-negative integer is expected.") }
        return value
    }

    // MARK: Paging

    /// This request's URL with its options but `$skiptoken`, and a skip token for the page after this one.
    private func nextLink(_ request: EmulatorRequest, next: PageState) -> String {
        let kept = request.linkQuery(dropping: ["$skiptoken"])
        return root + request.resource + "?" + (kept + ["$skiptoken=" + Self.skipToken(next)]).joined(separator: "&")
    }

    /// The most records a skip token may say were returned, and the largest `$skip` (far from overflow).
    static let maximumOffset = 1 << 40

    /// An opaque skip token: base64url of `emulator:<records returned>:<cursor>`.
    static func skipToken(_ state: PageState) -> String {
        Data("emulator:\(state.returned):\(Keyset.encoded(state.after))".utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func pageState(_ token: String) throws(BusinessCentralError) -> PageState {
        let invalid = BusinessCentralError.querySyntax("The $skiptoken '\(token)' is not valid.")
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8) else { throw invalid }
        let parts = text.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, parts[0] == "emulator", let returned = Int(parts[1]), (0...maximumOffset).contains(returned),
            case .cursor(let cursor) = Keyset.decoded(parts[2])
        else { throw invalid }
        return PageState(returned: returned, after: cursor)
    }
}
