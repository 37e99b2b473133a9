import Foundation
import Sync
import Testing
@testable import ODataConnector

/// A date (an ERP's `date` column: an order date, a due date) written to a Dataverse DateTime
/// attribute travels as the date Dataverse's DateOnly behaviour reads and writes, `2026-12-07`,
/// not refused as "not an instant"; it reads back as the same text.
@Suite struct DataverseDateOnlyTests {
    @Test("a date is written to a DateTime attribute as the date itself and reads back unchanged")
    func datesTravelAsDates() throws {
        #expect(try ODataValues.json("2026-12-07", kind: .dateTime).get() == .string("2026-12-07"))
        #expect(ODataValues.text(.string("2026-12-07"), kind: .dateTime) == "2026-12-07")
        #expect(try ODataValues.json("2026-12-07 10:00:00+00", kind: .dateTime).get() == .string("2026-12-07T10:00:00Z"))
        #expect(throws: ODataValues.ValueProblem.self) { try ODataValues.json("2026-12-7", kind: .dateTime).get() }
    }
}
