import Foundation
import Testing
import TestSupport

/// Only the three wrapper modules import the C modules, and every module imports exactly the package's
/// modules the README's module table says it does.
@Suite(.dedicatedThreads) struct ModuleBoundaryTests {
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

    /// The package's modules each source folder imports (other packages and the system are left out).
    static func packageImports() throws -> [String: Set<String>] {
        let sources = TestDatabase.repositoryRoot + "/Sources"
        let modules = Set(try FileManager.default.contentsOfDirectory(atPath: sources))
        var imports: [String: Set<String>] = [:]
        for module in modules {
            imports[module] = []
            guard let enumerator = FileManager.default.enumerator(atPath: sources + "/" + module) else { continue }
            while let relative = enumerator.nextObject() as? String {
                guard relative.hasSuffix(".swift") || relative.hasSuffix(".modulemap") else { continue }
                let text = try String(contentsOfFile: "\(sources)/\(module)/\(relative)", encoding: .utf8)
                for line in text.split(separator: "\n") {
                    let words = line.split(separator: " ")
                    guard let i = words.firstIndex(of: "import"), i + 1 < words.count, i == 0 || words[i - 1].hasPrefix("@") || ["internal", "public", "package", "private", "fileprivate"].contains(String(words[i - 1])) else { continue }
                    let name = String(words[i + 1])
                    if modules.contains(name) { imports[module, default: []].insert(name) }
                }
            }
        }
        return imports
    }

    /// The README's module table: module name (the first in a row that names several) → its imports.
    static func documentedImports() throws -> [String: Set<String>] {
        let readme = try String(contentsOfFile: TestDatabase.repositoryRoot + "/README.md", encoding: .utf8)
        let table = try #require(readme.components(separatedBy: "### Modules").dropFirst().first)
        var documented: [String: Set<String>] = [:]
        for line in table.split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 3 else { continue }
            let names = cells[0].split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "` ")) }
            let imports = cells[2] == "—" ? [] : cells[2].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            for name in names { documented[name] = Set(imports) }
        }
        return documented
    }

    @Test func everyModuleImportsWhatTheREADMESays() throws {
        let actual = try Self.packageImports()
        var documented = try Self.documentedImports()
        // The executable's row says "all of the above": it may import any module of the package.
        #expect(documented["masterplan"] != nil, "the README's module table has no row for masterplan")
        documented["masterplan"] = actual["masterplan"]
        #expect(Set(documented.keys) == Set(actual.keys), "modules in the README's table vs Sources/")
        for (module, imports) in actual.sorted(by: { $0.key < $1.key }) {
            #expect(documented[module] == imports, "\(module) imports \(imports.sorted()); the README says \(documented[module]?.sorted() ?? [])")
        }
    }

    /// Every suite of a test module that can block (one that depends on TestSupport, which starts
    /// servers and processes) runs off Swift's cooperative pool; see `DedicatedThreadsTrait` for the
    /// starvation this prevents. The pure modules' tests (PlanCore, JSON) need not, nor the suites
    /// with a time limit: those are asynchronous and never block, and a time limit would count the
    /// wait for a turn on the dedicated threads.
    @Test func everySuiteThatCanBlockRunsOnDedicatedThreads() throws {
        let root = TestDatabase.repositoryRoot
        let manifest = try String(contentsOfFile: root + "/Package.swift", encoding: .utf8)
        let blocking = manifest.split(separator: "\n").compactMap { line -> String? in
            guard line.contains(".testTarget(name: \""), line.contains("\"TestSupport\"") else { return nil }
            return line.components(separatedBy: "name: \"").dropFirst().first?.components(separatedBy: "\"").first
        }
        #expect(Set(blocking).isSuperset(of: ["APITests", "EngineTests", "masterplanTests"]), "\(blocking)")
        var untagged: [String] = []
        for module in blocking {
            let folder = root + "/Tests/" + module
            let enumerator = try #require(FileManager.default.enumerator(atPath: folder))
            while let relative = enumerator.nextObject() as? String {
                guard relative.hasSuffix(".swift") else { continue }
                let text = try String(contentsOfFile: folder + "/" + relative, encoding: .utf8)
                for line in text.split(separator: "\n") where line.trimmingCharacters(in: .whitespaces).hasPrefix("@Suite")
                    && line.contains(".dedicatedThreads") == line.contains(".timeLimit") {
                    untagged.append("\(module)/\(relative): \(line.trimmingCharacters(in: .whitespaces))")
                }
            }
        }
        #expect(untagged.isEmpty, "suites with neither or both of .dedicatedThreads and .timeLimit:\n\(untagged.joined(separator: "\n"))")
    }
}
