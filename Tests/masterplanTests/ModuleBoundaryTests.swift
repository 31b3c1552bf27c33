import Foundation
import Testing
import TestSupport

/// Only the three wrapper modules import the C modules.
@Suite struct ModuleBoundaryTests {
    @Test func onlyTheWrappersImportCModules() throws {
        let sources = TestDatabase.repositoryRoot + "/Sources"
        let enumerator = try #require(FileManager.default.enumerator(atPath: sources))
        var importers = Set<String>()
        while let relative = enumerator.nextObject() as? String {
            guard relative.hasSuffix(".swift") else { continue }
            let text = try String(contentsOfFile: sources + "/" + relative, encoding: .utf8)
            let importsC = text.split(separator: "\n").contains { line in
                let words = line.split(separator: " ")
                guard let i = words.firstIndex(of: "import"), i + 1 < words.count else { return false }
                return ["CJansson", "CLibPQ", "CFastCGI"].contains(String(words[i + 1]))
            }
            if importsC { importers.insert(String(relative.split(separator: "/")[0])) }
        }
        #expect(importers == ["JSON", "Postgres", "FastCGI"])
    }
}
