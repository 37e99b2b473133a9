import FuzzInput
import Sync

// The input is a mappings file; SALESPEOPLE stands for a stored mapping outside it.
fuzz { text in
    do {
        _ = try MappingFile.parse(text, file: "fuzz.yaml", otherMappings: ["SALESPEOPLE": []])
    } catch {
        expect(!"\(error)".isEmpty, "a rejected file names a problem")
    }
}
