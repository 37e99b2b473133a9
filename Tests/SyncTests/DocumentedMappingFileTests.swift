import PostgresTestSupport
import Testing

@testable import Sync

@Suite("The documentation's mappings files")
struct DocumentedMappingFileTests {
    @Test("every mappings file a page shows parses without a problem (SALESPEOPLE, which they look up, stored already)")
    func everyMappingsFileParses() throws {
        let blocks = try DocumentationPage.all().flatMap(\.codeBlocks).filter {
            $0.language == "yaml" && $0.text.split(separator: "\n").contains("mappings:")
        }
        #expect(blocks.count >= 3, "the examples are found: \(blocks.map(\.location))")
        for block in blocks {
            #expect(throws: Never.self, "\(block.location)") {
                try MappingFile.parse(block.text, file: block.location, otherMappings: ["SALESPEOPLE": []])
            }
        }
    }
}
