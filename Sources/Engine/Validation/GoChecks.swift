import Foundation

/// The checks of generated Go source that need no toolchain, and the reading of a frozen Go test file.
///
/// Go has no `eval` and no monkey-patching: what a Go file can do to the process it runs in, it must
/// name — a package it imports or a call it spells out. A generated file that names what lets code
/// reach a descriptor, the process's memory or the runtime's internals (`unsafe`, `syscall`,
/// `os.NewFile`, `//go:linkname`, `os/exec`, `os.StartProcess`, …) is refused: with the acceptance tests' box showing no
/// `/proc`, that is what keeps the report's nonce (`GoHarness`) out of the code's reach, whether it
/// runs in `init`, in a package variable or in a test. They read the text and never run it.
public enum GoChecks {
    /// Imports a generated file may not have, with the reason.
    static let refusedImports: [String: String] = [
        "unsafe": "it reads and writes any memory of the process, the test harness's too",
        "syscall": "raw system calls reach the process's descriptors and the harness's report",
        "os/exec": "a started program inherits the test run's descriptors",
        "plugin": "it loads code that was not compiled with the project",
        "C": "cgo is not available; write the code in Go",
        "runtime/debug": "it changes how the runtime and the tests' process behave",
        "testing": "the test framework belongs to the acceptance tests, not to the project's code",
        "testing/quick": "the test framework belongs to the acceptance tests, not to the project's code",
        "golang.org/x/sys/unix": "raw system calls reach the process's descriptors and the harness's report",
    ]

    /// Text that honest project code never contains, with the reason.
    static let refusedText: [(text: String, reason: String)] = [
        ("os.NewFile", "it turns any descriptor number into a file, the test harness's report and secret among them"),
        ("os.StartProcess", "a started program inherits the test run's descriptors"),
        ("go:linkname", "it reaches the runtime's and the standard library's private functions"),
        ("/proc/", "the process's /proc files hold its memory, environment and descriptors"),
        ("/dev/fd", "the process's descriptors are the test harness's"),
        ("MASTERPLAN_", "MasterPlan's variables are the harness's"),
        ("masterplanHarness", "the acceptance-test harness's names are its own"),
    ]

    /// The import paths of a Go source file (single imports and import blocks), outside comments.
    static func imports(in source: String) -> [String] {
        let code = JavaScriptChecks.withoutComments(source)
        var found: [String] = []
        var inBlock = false
        for rawLine in code.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if inBlock {
                if line.hasPrefix(")") { inBlock = false; continue }
                if let path = quoted(in: line) { found.append(path) }
                continue
            }
            guard line.hasPrefix("import") else { continue }
            let rest = line.dropFirst("import".count).trimmingCharacters(in: .whitespaces)
            if rest.hasPrefix("(") {
                inBlock = true
                let inside = rest.dropFirst()
                if let path = quoted(in: String(inside)) { found.append(path) }
                if inside.contains(")") { inBlock = false }
            } else if let path = quoted(in: rest) {
                found.append(path)
            }
        }
        return found
    }

    /// The first double-quoted or back-quoted string of `line`.
    static func quoted(in line: String) -> String? {
        guard let open = line.firstIndex(where: { $0 == "\"" || $0 == "`" }) else { return nil }
        let rest = line[line.index(after: open)...]
        guard let close = rest.firstIndex(of: line[open]) else { return nil }
        return String(rest[..<close])
    }

    /// The tamper findings of a generated Go file.
    public static func tamperFindings(path: String, content: String) -> [String] {
        var findings: [String] = []
        if path.hasSuffix("_test.go") {
            findings.append("\(path): generated code must not add Go test files; the acceptance tests are the plan's and run with the engine's own TestMain")
        }
        for path in Set(imports(in: content)).sorted() {
            if let reason = refusedImports[path] { findings.append("\(path == "C" ? "import \"C\"" : "imports \(path)") — \(reason); remove it") }
        }
        let code = JavaScriptChecks.withoutComments(content)
        for (text, reason) in refusedText {
            // //go:linkname lives in a comment, so it is looked for in the whole text.
            let haystack = text == "go:linkname" ? content : code
            if let range = haystack.range(of: text) {
                let line = haystack[..<range.lowerBound].reduce(1) { $0 + ($1 == "\n" ? 1 : 0) }
                findings.append("\(path):\(line): \(text) — \(reason); project code must not use it")
            }
        }
        return findings.map { $0.hasPrefix(path) ? $0 : "\(path): " + $0 }
    }

    /// The package name and the top-level test functions (`func TestXxx(t *testing.T)`) of a frozen
    /// Go test file, in order; nil package when the file has no package clause.
    public static func testFile(_ source: String) -> (package: String?, tests: [String]) {
        let code = JavaScriptChecks.withoutComments(source)
        var package: String?
        var tests: [String] = []
        for rawLine in code.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(rawLine)
            if package == nil, line.hasPrefix("package ") {
                package = line.dropFirst("package ".count).split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == ";" }).first.map(String.init)
                continue
            }
            guard line.hasPrefix("func Test") else { continue }
            let name = line.dropFirst("func ".count).prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            // TestMain is the run's setup, not a test; TestXxx needs Xxx not to start with a lower-case letter.
            guard name != "TestMain", name.count == 4 || !(name.dropFirst(4).first?.isLowercase ?? true) else { continue }
            let rest = line.dropFirst("func ".count + name.count).drop { $0 == " " }
            guard rest.hasPrefix("("), rest.contains("*testing.T)") else { continue }
            tests.append(String(name))
        }
        return (package, tests)
    }
}
