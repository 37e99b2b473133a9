import Foundation
import Postgres

extension EndpointDefinition {
    /// The settings as a JSON object of strings, as `couplet.endpoints.settings` stores them.
    static func settingsJSON(_ settings: [String: String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? encoder.encode(settings)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// The endpoints `couplet mappings apply` stored (all, or those named `names`). What is read
    /// back is input: a kind or a setting no longer valid fails here, naming the endpoint.
    static func stored(_ names: [String]? = nil, on connection: PostgresConnection) async throws -> [EndpointDefinition] {
        try await connection.query(
            """
            SELECT name, kind, description, settings::text FROM couplet.endpoints
            WHERE \(names)::text[] IS NULL OR name = ANY(\(names)::text[]) ORDER BY name
            """, name: "stored endpoints"
        ).map { row in
            let (name, kind, description, settings) = try row.decode((String, String, String?, String).self)
            return EndpointDefinition(name: name, kind: kind, description: description, settings: try Self.settings(settings, of: name))
        }
    }

    /// The endpoint `name` as stored, or a clear error when it is not.
    public static func stored(_ name: String, on connection: PostgresConnection) async throws -> EndpointDefinition {
        guard let endpoint = try await stored([name], on: connection).first else {
            throw SyncFailure(code: .configuration, message: "endpoint \(name) is not declared: add it to the mappings file and apply it")
        }
        return endpoint
    }

    /// Stored settings, each checked as the mappings file's are.
    private static func settings(_ json: String, of endpoint: String) throws -> [String: String] {
        let invalid = SyncFailure(
            code: .configuration,
            message: "endpoint \(endpoint)'s settings stored in couplet.endpoints are not valid; apply the mappings file again")
        guard json.utf8.count <= 16_384, let settings = try? JSONDecoder().decode([String: String].self, from: Data(json.utf8)) else { throw invalid }
        for (key, value) in settings {
            guard (try? MappingFileRules.endpointSetting(key, value)) != nil else { throw invalid }
        }
        return settings
    }
}
