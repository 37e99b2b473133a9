import Foundation
import Sync
import Testing

/// The reference integration against Business Central's defaults (`BusinessCentralDefaults`), row
/// by row: a setting is Business Central's, or docs/business-central.md lists it as a deliberate
/// difference with its reason.
@Suite("The reference integration is Business Central's default setup, or says where it is not")
struct BusinessCentralFidelityTests {
    @Test("the data covers every mapping of the reference file, and its dependencies name mappings of it")
    func dataCoversTheReferenceFile() throws {
        let reference = try BusinessCentralFidelity.reference()
        let names = BusinessCentralDefaults.tableMappings.map(\.couplet)
        #expect(Set(names) == Set(reference.mappings.keys))
        let unknown = BusinessCentralDefaults.tableMappings.flatMap(\.dependencies).filter { !names.contains($0) }
        #expect(unknown.isEmpty, "\(unknown)")
        for (mapping, _, _) in BusinessCentralDefaults.fieldMappings { #expect(names.contains(mapping)) }
    }

    @Test("every setting that differs from Business Central's is in the documented differences")
    func differencesAreDocumented() throws {
        let doc = try BusinessCentralDoc.read()
        let undocumented = try BusinessCentralFidelity.reference().comparisons
            .filter { comparison in !comparison.identical && !doc.differences.contains { $0.covers(comparison) } }
        #expect(undocumented.isEmpty, "not Business Central's and not in docs/business-central.md:\n\(lines(undocumented))")
    }

    @Test("every documented difference is still a difference")
    func documentedDifferencesExist() throws {
        let differing = try BusinessCentralFidelity.reference().comparisons.filter { !$0.identical }
        let stale = try BusinessCentralDoc.read().differences.filter { row in !differing.contains(where: row.covers) }
        #expect(stale.isEmpty, "documented, but the files now match Business Central:\n\(lines(stale))")
    }

    @Test("a documented difference of one setting shows both values as they are")
    func documentedValuesAreCurrent() throws {
        let comparisons = try BusinessCentralFidelity.reference().comparisons
        for row in try BusinessCentralDoc.read().differences where row.isSpecific {
            guard let comparison = comparisons.first(where: row.covers) else { continue }
            #expect(row.businessCentral == comparison.businessCentral, "\(row): Business Central")
            #expect(row.couplet == comparison.couplet, "\(row): Couplet")
        }
    }

    @Test("the counts in docs/business-central.md are the comparison's")
    func countsAreCurrent() throws {
        let comparisons = try BusinessCentralFidelity.reference().comparisons
        let doc = try BusinessCentralDoc.read()
        let expected = Self.counts(comparisons, documentedRows: doc.differences.count)
        for (label, count) in expected { #expect(doc.counts[label] == count, "\(label): \(count)") }
        #expect(Set(doc.counts.keys) == Set(expected.keys), "\(doc.counts.keys.sorted())")
    }

    @Test("the opinionated profile is the reference file with only the coupling and conflict settings changed")
    func opinionatedProfileOnlyChangesPolicies() throws {
        let reference = try parse("mappings.yaml"), opinionated = try parse("mappings-opinionated.yaml")
        #expect(reference.map(\.name) == opinionated.map(\.name))
        var changed = 0
        for (base, profile) in zip(reference, opinionated) {
            var expected = base
            expected.syncOnlyCoupled = profile.syncOnlyCoupled
            expected.updateConflict = profile.updateConflict
            expected.deletionConflict = profile.deletionConflict
            #expect(profile == expected, "\(base.name): only sync_only_coupled, update_conflict and deletion_conflict may differ")
            if profile != base { changed += 1 }
        }
        #expect(changed > 0, "the profile changes nothing")
    }

    /// Settings one side has and the other has not: Business Central's field validation, Couplet's
    /// scheduled full sync.
    static let oneSided: Set = ["validate field", "scheduled full sync"]

    /// The counts table's rows, by label.
    static func counts(_ comparisons: [SettingComparison], documentedRows: Int) -> [String: Int] {
        let mappingNames = Set(BusinessCentralDefaults.tableMappings.map(\.couplet))
        let tables = Dictionary(grouping: comparisons.filter { $0.field == nil && mappingNames.contains($0.subject) }, by: \.subject)
        // Rows of Business Central's field mappings (not of fields only the reference file maps), by field.
        let fieldRows = comparisons.filter { $0.field != nil && !($0.setting == "field" && $0.businessCentral == "not mapped") }
        let fields = Dictionary(grouping: fieldRows, by: { "\($0.subject) \($0.field ?? "")" })
        func identical(_ rows: [SettingComparison]) -> Bool { rows.allSatisfy { $0.identical || oneSided.contains($0.setting) } }
        return [
            "Table mappings compared": tables.count,
            "Table mappings identical in every setting both have": tables.values.filter(identical).count,
            "Field mappings compared": fields.count,
            "Field mappings identical in every setting both have": fields.values.filter(identical).count,
            "Settings identical to Business Central's": comparisons.filter(\.identical).count,
            "Settings that differ, each documented": comparisons.filter { !$0.identical }.count,
            "Rows in the table of differences": documentedRows,
            "Business Central field mappings the demo has no columns for": BusinessCentralFidelity.missing.count,
        ]
    }

    private func parse(_ file: String) throws -> [MappingRow] {
        try MappingFile.parse(String(contentsOfFile: deployFile(file), encoding: .utf8), file: file).mappings.map(MappingRow.init)
    }

    private func lines<T: CustomStringConvertible>(_ items: [T]) -> String {
        items.map(\.description).joined(separator: "\n")
    }
}
