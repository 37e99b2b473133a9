import Foundation
import Testing
@testable import Sync

@Suite("Sharing parsed rules")
struct ConcurrencyTests {
    @Test("one parsed chain gives the same results when applied from many tasks at once")
    func concurrentApply() async throws {
        let rules = try chain("regex_replace(\"T\", \" \") | format_datetime(\"dd.MM.yyyy HH:mm\", \"Europe/Berlin\")")
        let inputs = (0..<22).map { "2025-07-01T\(String(format: "%02d", $0)):00:00Z" }
        let expected = (0..<22).map { "01.07.2025 \(String(format: "%02d", $0 + 2)):00" }
        let results = await withTaskGroup(of: [String?].self) { group in
            for _ in 0..<8 {
                group.addTask {
                    (0..<20).flatMap { _ in inputs.map { try? rules.apply(to: $0) } }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 8)
        for result in results {
            #expect(result == Array((0..<20).map { _ in expected }.joined()))
        }
    }
}
