import YAMLFile

/// One problem with a mapping, at one of its parts.
struct MappingFinding: Sendable, Equatable {
    /// The part of the mapping it concerns (its place in the file).
    var part: MappingPart
    /// An error or a warning.
    var severity: FileProblem.Severity
    /// What is wrong, naming the mapping, the side and the column.
    var message: String
}

/// The checks of one mapping against its tables as the endpoints' catalogs describe them: what
/// exists, what the sync role may do, and whether paired columns take each other's values.
/// Pure code; `MappingEndpointCheck` reads the catalogs.
struct MappingCatalogCheck {
    let definition: TableMappingDefinition
    /// The tables found, by side (a side whose table is missing is reported on its own).
    let tables: [SyncSide: CatalogTable]

    private var mapping: MappingDefinition { definition.mapping }

    /// Every finding, side by side, then field by field.
    func findings() -> [MappingFinding] {
        var findings: [MappingFinding] = []
        for (side, table) in tables.sorted(by: { $0.key == .local && $1.key != .local }) {
            findings += relationFindings(side, table) + columnFindings(side, table) + fieldColumnFindings(side, table)
        }
        for (index, field) in mapping.fields.enumerated() {
            findings += typeFindings(index, field)
        }
        return findings
    }

    private func subject(_ side: SyncSide, column: String? = nil) -> String {
        definition.subject(side, column: column)
    }

    /// Whether a pass of the mapping writes `side`.
    private func isWritten(_ side: SyncSide) -> Bool {
        mapping.settings.direction.passes.contains { $0.target == side }
    }

    // MARK: - The relation

    private func relationFindings(_ side: SyncSide, _ table: CatalogTable) -> [MappingFinding] {
        var findings: [MappingFinding] = []
        func error(_ message: String) { findings.append(MappingFinding(part: .table(side), severity: .error, message: "\(subject(side)): \(message)")) }
        if !["r", "p", "v", "m", "f"].contains(table.kind) { error("\(mapping.side(side).table) is a \(table.kindName), not a table or view") }
        if !table.canSelect { error("the sync role may not SELECT from it") }
        guard isWritten(side) else { return findings }
        if table.kind == "m" { error("a materialized view cannot be written, and a \(passNames(writing: side)) pass writes this side") }
        if !table.canUpdate { error("the sync role may not UPDATE it, and a \(passNames(writing: side)) pass writes this side") }
        if mapping.settings.allowInsert, !table.canInsert {
            error("the sync role may not INSERT into it, and allow_insert is true (set it to false, or grant INSERT)")
        }
        return findings
    }

    private func passNames(writing side: SyncSide) -> String {
        mapping.settings.direction.passes.filter { $0.target == side }.map(\.storedName).joined(separator: " and ")
    }

    // MARK: - Key and modified-on

    private func columnFindings(_ side: SyncSide, _ table: CatalogTable) -> [MappingFinding] {
        let configured = mapping.side(side)
        var findings = [missing(configured.key.description, in: table, side: side, part: .key(side))].compactMap { $0 }
        if let modifiedBy = configured.modifiedBy {
            findings += [missing(modifiedBy.description, in: table, side: side, part: .modified(side))].compactMap { $0 }
        }
        let modified = configured.modified.description
        guard let column = table.column(modified) else {
            return findings + [missing(modified, in: table, side: side, part: .modified(side))].compactMap { $0 }
        }
        switch column.baseType {
        case "timestamp with time zone":
            break
        case "timestamp without time zone":
            findings.append(MappingFinding(
                part: .modified(side), severity: .warning,
                message: "\(subject(side, column: modified)): timestamp without time zone is read as UTC; timestamptz says which instant it is"))
        default:
            findings.append(MappingFinding(
                part: .modified(side), severity: .error,
                message: "\(subject(side, column: modified)): the modified-on column must be a timestamp (timestamptz), not \(column.type)"))
        }
        return findings
    }

    /// A finding when `name` is not a column of `table`, listing the columns it has.
    private func missing(_ name: String, in table: CatalogTable, side: SyncSide, part: MappingPart) -> MappingFinding? {
        guard table.column(name) == nil else { return nil }
        let names = table.columns.map(\.name)
        let listed = names.prefix(12).joined(separator: ", ") + (names.count > 12 ? ", …" : "")
        return MappingFinding(
            part: part, severity: .error,
            message: "\(subject(side, column: name)): no such column (\(mapping.side(side).table) has \(listed.isEmpty ? "no columns" : listed))")
    }

    // MARK: - Fields

    /// The passes in which the field is copied: the mapping's and the field's directions both include them.
    private func passes(of field: FieldMapping) -> [SyncDirection] {
        mapping.settings.direction.passes.filter(field.direction.includes)
    }

    private func fieldColumnFindings(_ side: SyncSide, _ table: CatalogTable) -> [MappingFinding] {
        mapping.fields.enumerated().compactMap { index, field in
            // A constant replaces the source column's value, so only a written column must exist.
            let needed = passes(of: field).contains { $0.target == side || field.constant == nil }
            guard needed else { return nil }
            return missing(field.field(on: side), in: table, side: side, part: .column(field: index, side: side))
        }
    }

    /// `mapping CUSTOMER, local column public.customer.name → integration column account.name (to_integration)`.
    private func pairing(_ field: FieldMapping, _ pass: SyncDirection) -> String {
        func column(_ side: SyncSide) -> String { "\(side.rawValue) column \(mapping.side(side).table).\(field.field(on: side))" }
        return "mapping \(definition.name), \(column(pass.source)) → \(column(pass.target)) (\(pass.storedName))"
    }

    /// Type findings of a field's passes; a pass through `lookup(…)` writes the referenced mapping's
    /// key rather than the source value, so its source column's type says nothing and is not compared.
    private func typeFindings(_ index: Int, _ field: FieldMapping) -> [MappingFinding] {
        guard field.constant == nil else { return [] }
        return passes(of: field).compactMap { pass in
            guard field.transformation(for: pass).referencedMappings.isEmpty,
                let source = tables[pass.source]?.column(field.field(on: pass.source)),
                let target = tables[pass.target]?.column(field.field(on: pass.target))
            else { return nil }
            let transformed = !field.transformation(for: pass).rules.isEmpty
            let part = MappingPart.column(field: index, side: pass.target)
            switch ColumnCompatibility.of(source: source, target: target, transformed: transformed) {
            case .compatible: return nil
            case .doubtful(let reason): return MappingFinding(part: part, severity: .warning, message: "\(pairing(field, pass)): \(reason)")
            case .incompatible(let reason): return MappingFinding(part: part, severity: .error, message: "\(pairing(field, pass)): \(reason)")
            }
        }
    }
}

extension TableMappingDefinition {
    /// `mapping CUSTOMER, local side (erp public.customer)`, with `, column x` when given: how a
    /// problem names what it concerns.
    func subject(_ side: SyncSide, column: String? = nil) -> String {
        let configured = mapping.side(side)
        return "mapping \(name), \(side.rawValue) side (\(configured.endpoint) \(configured.table))"
            + (column.map { ", column \($0)" } ?? "")
    }
}
