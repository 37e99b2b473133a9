import EmulatorSupport
import Foundation
import Postgres

/// Reads records: collections with `$select`, `$filter`, `$orderby`, `$top`, `$count`, paging and
/// change tracking, and single records.
struct Reader {
    let api: WebAPI
    let entity: EntityInfo
    let connection: PostgresConnection

    /// Where a following page starts, carried in the `$skiptoken` cookie.
    struct PageState {
        var page = 1
        var offset = 0
        /// For change tracking: the database snapshot (`pg_snapshot` text) taken before the first page was read.
        var xmin: String?
        /// The sort values of the previous page's last record (its `$orderby` values, then its primary key;
        /// for a delta its row version): the next page begins after it, so records written meanwhile
        /// shift no page, as Dataverse's paging cookie does.
        var after: [String?]?
    }

    // MARK: Collections

    /// `GET <entityset>`.
    func collection(_ request: APIRequest) async throws -> APIResponse {
        let preferences = request.preferences
        if let token = request.option("$deltatoken") { return try await delta(request, token: token) }
        let tracking = preferences["odata.track-changes"] != nil
        if tracking { try rejectTrackingOptions(request) }
        let annotations = AnnotationFilter(preferences["odata.include-annotations"])
        let plan = try ReadPlan(entity: entity, select: request.option("$select"), annotations: annotations, catalog: api.catalog)
        let expansions = try Expansion.parse(request.option("$expand"), entity: entity)
        let condition = try filterCondition(request)
        let terms = try orderTerms(request.option("$orderby"))
        let requestedPageSize = preferences["odata.maxpagesize"].flatMap { Int($0) }
        let pageSize = min(max(requestedPageSize ?? api.settings.pageSize, 1), api.settings.maximumPageSize)
        let top = requestedPageSize == nil ? try request.option("$top").map(Self.top) : nil
        var state = try request.option("$skiptoken").map(Self.pageState) ?? PageState()
        if tracking, state.xmin == nil { state.xmin = try await currentXmin() }
        let remaining = top.map { max($0 - state.offset, 0) }
        let limit = min(remaining ?? pageSize, pageSize)
        let sortValues = Keyset.sortValues(terms)
        let rows = try await connection.query(
            """
            SELECT \(plan.selectList), \(sortValues) FROM \(entity.table) t \(versionJoin(entity))
            WHERE \(condition) AND \(Keyset.after(state.after, terms: terms)) ORDER BY \(Keyset.orderClause(terms)) LIMIT \(limit + 1)
            """, name: "emulator read")
        let hasMore = rows.count > limit && (remaining.map { $0 > limit } ?? true)
        let context = api.serviceRoot + "$metadata#\(entity.entitySetName)\(Self.contextSelection(plan, expansions))"
        var members: [(String, JSONValue)] = [("@odata.context", .string(context))]
        members += try await countMembers(request, condition: condition, annotations: annotations)
        if tracking, !hasMore, let xmin = state.xmin {
            members.append(("@odata.deltaLink", .string(link(request, extra: "$deltatoken=" + percentEncoded(api.issueDeltaToken(xmin: xmin))))))
        }
        let records = rows.prefix(limit).map { plan.render($0) }
        members.append(("value", .array(try await Expansion.apply(expansions, to: records, entity: entity, api: api, connection: connection))))
        if hasMore {
            let last = Array(rows[limit - 1].values.suffix(terms.count))
            let next = PageState(page: state.page + 1, offset: state.offset + limit, xmin: state.xmin, after: last)
            members.append(("@odata.nextLink", .string(link(request, extra: "$skiptoken=" + percentEncoded(Self.cookie(next, tracking: tracking))))))
        }
        return .json(.ok, .object(members), headers: Self.appliedPreferences(preferences, pageSize: requestedPageSize.map { _ in pageSize }))
    }

    /// `@odata.count` under `$count=true` (at most 5000, as count-rows says), and the total record count
    /// annotations when asked for (`-1` without `$count=true`).
    private func countMembers(_ request: APIRequest, condition: PostgresQuery, annotations: AnnotationFilter) async throws
        -> [(String, JSONValue)]
    {
        let counting = request.option("$count")?.lowercased() == "true"
        let count = counting ? try await self.count(condition) : -1
        var members: [(String, JSONValue)] = counting ? [("@odata.count", .number(String(min(count, 5000))))] : []
        if annotations.includes("Microsoft.Dynamics.CRM.totalrecordcount") {
            members.append(("@Microsoft.Dynamics.CRM.totalrecordcount", .number(String(min(count, 5000)))))
        }
        if annotations.includes("Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded") {
            members.append(("@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded", .bool(count > 5000)))
        }
        return members
    }

    private func count(_ condition: PostgresQuery) async throws -> Int {
        try await connection.query("SELECT count(*) FROM \(entity.table) t WHERE \(condition)").single().decode(Int.self, at: 0)
    }

    /// `GET <entityset>/$count`: the number of records matching `$filter` as plain text; with a
    /// `$deltatoken`, the number of changes since it (records changed and deleted).
    func countOnly(_ request: APIRequest) async throws -> APIResponse {
        let number: Int
        if let token = request.option("$deltatoken") {
            let since = try api.validateDeltaToken(token)
            number = try await connection.query(
                """
                SELECT count(*) FROM dataverse_emulator.versions
                WHERE schema_name = \(entity.schema) AND entity = \(entity.logicalName)
                  AND NOT pg_visible_in_snapshot(changed_xid, \(since)::pg_snapshot)
                """, name: "emulator delta count").single().decode(Int.self, at: 0)
        } else {
            number = try await count(try filterCondition(request))
        }
        return APIResponse(status: .ok, body: String(number), contentType: "text/plain")
    }

    /// The `(a,b,nav(c))` part of an `@odata.context`: the selection and the expansions, empty for neither.
    static func contextSelection(_ plan: ReadPlan, _ expansions: [Expansion]) -> String {
        let parts = (plan.isSelected ? plan.attributes.map(\.propertyName) : []) + expansions.map(\.contextPart)
        return parts.isEmpty ? "" : "(" + parts.joined(separator: ",") + ")"
    }

    /// A `Preference-Applied` header for the preferences honoured.
    static func appliedPreferences(_ preferences: [String: String], pageSize: Int?) -> [(String, String)] {
        var applied: [String] = []
        if let pageSize { applied.append("odata.maxpagesize=\(pageSize)") }
        if preferences["odata.track-changes"] != nil { applied.append("odata.track-changes") }
        if let annotations = preferences["odata.include-annotations"] { applied.append("odata.include-annotations=\"\(annotations)\"") }
        return applied.isEmpty ? [] : [("Preference-Applied", applied.joined(separator: ","))]
    }

    private func rejectTrackingOptions(_ request: APIRequest) throws(DataverseError) {
        for option in ["$filter", "$orderby", "$expand", "$top"] where request.option(option) != nil {
            throw DataverseError(.badRequest, code: "0x0", "The \"\(option)\" query parameter isn't supported when Change Tracking is enabled.")
        }
    }

    private func filterCondition(_ request: APIRequest) throws(DataverseError) -> PostgresQuery {
        guard let text = request.option("$filter"), !text.trimmingCharacters(in: .whitespaces).isEmpty else { return "TRUE" }
        let aliases = Dictionary(request.query.filter { $0.0.hasPrefix("@") }) { first, _ in first }
        var compiler = FilterCompiler(entity: entity, text: text, aliases: aliases)
        return "coalesce(\(try compiler.compile()), false)"
    }

    /// `$orderby`: strings ignore case; nulls sort first ascending, as in Dataverse; the primary key
    /// comes last and breaks ties.
    private func orderTerms(_ text: String?) throws(DataverseError) -> [SortTerm] {
        var terms: [SortTerm] = []
        for item in (text ?? "").split(separator: ",") {
            let words = item.split(separator: " ").map(String.init).filter { !$0.isEmpty }
            guard let name = words.first, words.count <= 2, words.count == 1 || ["asc", "desc"].contains(words[1].lowercased()) else {
                throw DataverseError.badRequest("The $orderby '\(text ?? "")' is not valid.")
            }
            guard let attribute = entity.attribute(property: name), !attribute.isLookupType else {
                throw DataverseError.unknownProperty(name, entity: entity.logicalName)
            }
            let column = FilterCompiler.column(attribute)
            let key: PostgresQuery = attribute.kind == .string || attribute.kind == .memo ? "lower(\(column))" : column
            terms.append(SortTerm(key: key, descending: words.count == 2 && words[1].lowercased() == "desc"))
        }
        if let key = entity.attribute(named: entity.primaryIdAttribute) { terms.append(SortTerm(key: FilterCompiler.column(key), descending: false)) }
        return terms
    }

    private static func top(_ text: String) throws(DataverseError) -> Int {
        guard let value = Int(text), value >= 0 else { throw DataverseError.badRequest("The value '\(text)' of $top is not valid.") }
        return value
    }

    /// The current snapshot: a change is new to a delta token when its transaction is not visible in it.
    private func currentXmin() async throws -> String {
        try await connection.query("SELECT pg_current_snapshot()::text").single().decode(String.self, at: 0)
    }

    /// This request's URL with its query options but `$skiptoken`/`$deltatoken`, plus `extra`.
    private func link(_ request: APIRequest, extra: String) -> String {
        let kept = request.linkQuery(dropping: ["$skiptoken", "$deltatoken"])
        return api.serviceRoot + request.resource + "?" + (kept + [extra]).joined(separator: "&")
    }

    // MARK: Paging cookies

    /// A skip token shaped like Dataverse's paging cookie; its `pagingcookie` is the emulator's own.
    static func cookie(_ state: PageState, tracking: Bool) -> String {
        let inner = "emulator|\(state.offset)|\(state.xmin ?? "")|\(Keyset.encoded(state.after))"
        return "<cookie pagenumber=\"\(state.page)\" pagingcookie=\"\(inner)\" istracking=\"\(tracking ? "True" : "False")\" />"
    }

    static func pageState(_ token: String) throws(DataverseError) -> PageState {
        func attribute(_ name: String) -> String? {
            guard let start = token.range(of: name + "=\"") else { return nil }
            guard let end = token[start.upperBound...].firstIndex(of: "\"") else { return nil }
            return String(token[start.upperBound..<end])
        }
        let parts = (attribute("pagingcookie") ?? "").split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 4, parts[0] == "emulator", let offset = Int(parts[1]), offset >= 0,
            let page = attribute("pagenumber").flatMap({ Int($0) }), parts[2].isEmpty || WebAPI.isSnapshot(parts[2])
        else { throw DataverseError.badRequest("The $skiptoken is not valid.") }
        let after: [String?]?
        switch Keyset.decoded(parts[3]) {
        case .none: after = nil
        case .cursor(let cursor): after = cursor
        case .invalid: throw DataverseError.badRequest("The $skiptoken is not valid.")
        }
        return PageState(page: page, offset: offset, xmin: parts[2].isEmpty ? nil : parts[2], after: after)
    }

    // MARK: Change tracking

    /// Follows a delta link: records created or changed since the token, then deletions.
    private func delta(_ request: APIRequest, token: String) async throws -> APIResponse {
        let since = try api.validateDeltaToken(token)
        try rejectTrackingOptions(request)
        let preferences = request.preferences
        let annotations = AnnotationFilter(preferences["odata.include-annotations"])
        let plan = try ReadPlan(entity: entity, select: request.option("$select"), annotations: annotations, catalog: api.catalog)
        let requestedPageSize = preferences["odata.maxpagesize"].flatMap { Int($0) }
        let pageSize = min(max(requestedPageSize ?? api.settings.pageSize, 1), api.settings.maximumPageSize)
        var state = try request.option("$skiptoken").map(Self.pageState) ?? PageState()
        if state.xmin == nil { state.xmin = try await currentXmin() }
        let rows = try await connection.query(
            """
            SELECT \(plan.selectList) FROM \(entity.table) t \(versionJoin(entity))
            WHERE NOT pg_visible_in_snapshot(v.changed_xid, \(since)::pg_snapshot) AND NOT v.deleted
              AND v.version > \(Int64(state.after?.first.flatMap { $0 } ?? "") ?? 0) ORDER BY v.version LIMIT \(pageSize + 1)
            """, name: "emulator delta")
        let hasMore = rows.count > pageSize
        var values = rows.prefix(pageSize).map { plan.render($0) }
        let context = api.serviceRoot + "$metadata#\(entity.entitySetName)\(plan.contextSelection)/$delta"
        var members: [(String, JSONValue)] = [("@odata.context", .string(context))]
        if hasMore {
            let last = rows[pageSize - 1].values.first ?? nil
            let next = PageState(page: state.page + 1, offset: state.offset + pageSize, xmin: state.xmin, after: [last])
            members.append(("value", .array(values)))
            members.append(("@odata.nextLink", .string(link(request, extra: "$deltatoken=" + percentEncoded(token) + "&$skiptoken=" + percentEncoded(Self.cookie(next, tracking: true))))))
        } else {
            values += try await deletions(since: since)
            let newToken = api.issueDeltaToken(xmin: state.xmin ?? since)
            members.append(("@odata.deltaLink", .string(link(request, extra: "$deltatoken=" + percentEncoded(newToken)))))
            members.append(("value", .array(values)))
        }
        return .json(.ok, .object(members), headers: Self.appliedPreferences(preferences.filter { $0.key != "odata.track-changes" }, pageSize: requestedPageSize.map { _ in pageSize }))
    }

    /// Records deleted since the token, as `$deletedEntity` entries.
    private func deletions(since: String) async throws -> [JSONValue] {
        let rows = try await connection.query(
            """
            SELECT id::text FROM dataverse_emulator.versions
            WHERE schema_name = \(entity.schema) AND entity = \(entity.logicalName) AND deleted
              AND NOT pg_visible_in_snapshot(changed_xid, \(since)::pg_snapshot)
            ORDER BY version
            """, name: "emulator deletions")
        let context = api.serviceRoot + "$metadata#\(entity.entitySetName)/$deletedEntity"
        return try rows.map { row in
            .object([("@odata.context", .string(context)), ("id", .string(try row.decode(String.self, at: 0))), ("reason", .string("deleted"))])
        }
    }

    // MARK: Single records

    /// `GET <entityset>(<id>)`; `If-None-Match: W/"v"` answers 304 when unchanged (and no annotations asked).
    func record(_ id: String, request: APIRequest) async throws -> APIResponse {
        let preferences = request.preferences
        let annotations = AnnotationFilter(preferences["odata.include-annotations"])
        let plan = try ReadPlan(entity: entity, select: request.option("$select"), annotations: annotations, catalog: api.catalog)
        let expansions = try Expansion.parse(request.option("$expand"), entity: entity)
        guard let row = try await fetch(id, plan: plan) else { throw DataverseError.recordNotFound(entity.logicalName, id) }
        let etag = "W/\"\(row.values.first.flatMap { $0 } ?? "0")\""
        // "If the query includes $expand it will never return 304 Not Modified", nor with annotations.
        if let condition = request.header("if-none-match"), condition == etag, annotations.isEmpty, expansions.isEmpty {
            return APIResponse(status: .notModified, headers: [], body: nil, contentType: "application/json; odata.metadata=minimal")
        }
        let context = api.serviceRoot + "$metadata#\(entity.entitySetName)\(Self.contextSelection(plan, expansions))/$entity"
        let record = try await Expansion.apply(expansions, to: [plan.render(row, context: context)], entity: entity, api: api, connection: connection)
        return .json(.ok, record.first ?? .null, headers: Self.appliedPreferences(preferences, pageSize: nil))
    }

    /// `GET <entityset>(<id>)/<property>`: `{"@odata.context": …, "value": …}`; a navigation property or
    /// another unknown segment answers "Resource not found for the segment".
    func property(_ id: String, name: String) async throws -> APIResponse {
        guard let attribute = entity.attribute(property: name), !attribute.isLookupType else { throw DataverseError.segmentNotFound(name) }
        let plan = try ReadPlan(entity: entity, select: name, annotations: AnnotationFilter(nil), catalog: api.catalog)
        guard let row = try await fetch(id, plan: plan) else { throw DataverseError.recordNotFound(entity.logicalName, id) }
        let context = api.serviceRoot + "$metadata#\(entity.entitySetName)(\(id))/\(name)"
        return .json(.ok, .object([("@odata.context", .string(context)), ("value", plan.render(row)[name] ?? .null)]))
    }

    /// One record's row for `plan`, or nil.
    func fetch(_ id: String, plan: ReadPlan) async throws -> PostgresRow? {
        let key = try PostgresIdentifier(entity.primaryIdAttribute)
        let rows = try await connection.query(
            "SELECT \(plan.selectList) FROM \(entity.table) t \(versionJoin(entity)) WHERE t.\(key) = \(id)::uuid",
            name: "emulator read record")
        return rows.first
    }
}
