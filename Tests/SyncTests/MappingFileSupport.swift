import Foundation
import YAMLFile

@testable import Sync

/// A mappings file with two endpoints and two mappings, every key used at least once.
let goodMappingsFile = """
    endpoints:
      - name: erp            # connection string from COUPLET_ENDPOINT_ERP_URL
      - name: crm
        description: the CRM
    mappings:
      - name: SALESPEOPLE
        direction: from_integration
        local: {endpoint: erp, table: salesperson, key: code, modified: modified_at}
        integration: {endpoint: crm, table: systemuser, key: id, modified: modified_at, filter: "active"}
        fields:
          - {local: code, integration: user_code}
          - {local: name, integration: full_name}
      - name: CUSTOMER
        direction: bidirectional
        local:       {endpoint: erp, table: public.customer, key: no, modified: modified_at, filter: "blocked = false"}
        integration: {endpoint: crm, table: account, key: id, modified: modified_at}
        sync_only_coupled: false
        allow_insert: true
        update_conflict: get_from_integration
        deletion_conflict: remove_coupling
        depends_on: [SALESPEOPLE]
        batch_size: 500
        enabled: true
        fields:
          - {local: no, integration: account_number}
          - {local: name, integration: name, to_integration: "trim", comparison: text}
          - {local: salesperson_code, integration: owner_id, direction: to_integration, to_integration: "lookup(SALESPEOPLE)", not_null: true}
          - {local: credit_limit, integration: credit_limit, comparison: numeric, clear_on_failure: true, constant: null}
          - {local: city, integration: city, direction: from_integration, from_integration: "trim | uppercase", constant: NO}
    """

/// The problems `MappingFile.parse` reports for `yaml`, as `line:column: message` (empty when it parses).
func mappingFileProblems(_ yaml: String, others: [String: [String]] = [:]) -> [String] {
    do {
        _ = try MappingFile.parse(yaml, file: "m.yaml", otherMappings: others)
        return []
    } catch {
        return error.problems.map { "\($0.line):\($0.column): \($0.message)" }
    }
}

/// A file with the endpoints erp and crm and one mapping whose extra lines are `lines`, indented under it.
func oneMapping(name: String = "CUSTOMER", direction: String = "bidirectional", fields: [String]? = nil, _ lines: String...) -> String {
    let fieldLines = (fields ?? ["{local: no, integration: account_number}"]).map { "      - \($0)" }
    return (["endpoints:", "  - name: erp", "  - name: crm", "mappings:",
             "  - name: \(name)",
             "    direction: \(direction)",
             "    local: {endpoint: erp, table: customer, key: no, modified: modified_at}",
             "    integration: {endpoint: crm, table: account, key: id, modified: modified_at}"]
        + lines.map { "    \($0)" } + ["    fields:"] + fieldLines).joined(separator: "\n") + "\n"
}
