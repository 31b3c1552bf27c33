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
        // The standard library's other ways to start a program (they use os/exec inside).
        "net/http/cgi": "it starts programs, which inherit the test run's descriptors",
        "net/http/fcgi": "it depends on starting programs, which inherit the test run's descriptors",
        "go/build": "it starts the go command, which inherits the test run's descriptors",
        "go/importer": "it starts the go command, which inherits the test run's descriptors",
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

    /// Run as `sh -c declarationScript sh SOURCE GO FILE SHOWN` in the validator box: builds `declarationChecker`
    /// (SOURCE) with the Go toolchain and runs it on FILE, which prints `SHOWN:LINE: what — why` for each
    /// finding and exits 1, or exits 0 (also for a syntax error, which gofmt reports).
    static let declarationScript = """
        printf '%s' "$1" > /tmp/masterplan-declarations.go &&
        "$2" build -o /tmp/masterplan-declarations /tmp/masterplan-declarations.go &&
        exec /tmp/masterplan-declarations "$3" "$4"
        """

    /// What only Go's own parser tells reliably: `NewFile` and `StartProcess` however `os` is imported (an
    /// alias or a dot import is refused), and what follows. Go lets a package-level declaration replace a predeclared
    /// name (`len`, `make`, `true`, `nil`, `string`, …) for every file of the package — the acceptance-test
    /// harness's file too, which is compiled into the package — so such a declaration is refused; and
    /// a function declared without a body is implemented in assembly or linked from elsewhere, code
    /// that makes raw system calls past every other check.
    static let declarationChecker = #"""
        package main

        import (
            "fmt"
            "go/ast"
            "go/parser"
            "go/token"
            "os"
            "strings"
        )

        var predeclared = map[string]bool{}

        func init() {
            for _, name := range []string{"any", "append", "bool", "byte", "cap", "clear", "close", "comparable", "complex",
                "complex128", "complex64", "copy", "delete", "error", "false", "float32", "float64", "imag", "int", "int16",
                "int32", "int64", "int8", "iota", "len", "make", "max", "min", "new", "nil", "panic", "print", "println",
                "real", "recover", "rune", "string", "true", "uint", "uint16", "uint32", "uint64", "uint8", "uintptr"} {
                predeclared[name] = true
            }
        }

        func main() {
            files := token.NewFileSet()
            file, err := parser.ParseFile(files, os.Args[1], nil, parser.SkipObjectResolution)
            if err != nil {
                os.Exit(0)
            }
            shown := os.Args[2]
            var findings []string
            report := func(at token.Pos, what string) {
                findings = append(findings, fmt.Sprintf("%s:%d: %s", shown, files.Position(at).Line, what))
            }
            // Names must say which package they come from, and os's must be called os: NewFile and
            // StartProcess are refused wherever they come from, and an alias or a dot import would hide them.
            for _, spec := range file.Imports {
                if spec.Name == nil {
                    continue
                }
                path := strings.Trim(spec.Path.Value, "\"`")
                if spec.Name.Name == "." {
                    report(spec.Pos(), "imports "+path+" with a dot — every name must show which package it comes from; import it by name")
                } else if path == "os" && spec.Name.Name != "os" && spec.Name.Name != "_" {
                    report(spec.Pos(), "imports os as "+spec.Name.Name+" — import os under its own name")
                }
            }
            ast.Inspect(file, func(node ast.Node) bool {
                if selector, ok := node.(*ast.SelectorExpr); ok && (selector.Sel.Name == "NewFile" || selector.Sel.Name == "StartProcess") {
                    report(selector.Pos(), selector.Sel.Name+" — it reaches the test run's descriptors (a started program inherits them); project code must not use it")
                }
                return true
            })
            redeclared := func(name *ast.Ident) {
                if predeclared[name.Name] {
                    report(name.Pos(), "redeclares the predeclared "+name.Name+" — every file of the package, the test harness's too, would use this one instead; choose another name")
                }
            }
            for _, declaration := range file.Decls {
                switch declaration := declaration.(type) {
                case *ast.FuncDecl:
                    if declaration.Recv == nil {
                        redeclared(declaration.Name)
                    }
                    if declaration.Body == nil {
                        report(declaration.Pos(), "func "+declaration.Name.Name+" has no body — it would be implemented in assembly or linked from elsewhere; write it in Go")
                    }
                case *ast.GenDecl:
                    for _, spec := range declaration.Specs {
                        switch spec := spec.(type) {
                        case *ast.ValueSpec:
                            for _, name := range spec.Names {
                                redeclared(name)
                            }
                        case *ast.TypeSpec:
                            redeclared(spec.Name)
                        }
                    }
                }
            }
            for _, finding := range findings {
                fmt.Println(finding)
            }
            if len(findings) > 0 {
                os.Exit(1)
            }
        }
        """#

    /// Files the go tool compiles besides `.go` (assembly, cgo's C and C++, system objects): in a Go
    /// project they could make raw system calls past every check of Go source.
    static let compiledExtensions: Set<String> = ["s", "S", "sx", "syso", "c", "h", "cc", "cpp", "cxx", "hh", "hpp", "hxx", "m",
                                                  "f", "F", "for", "f90", "swig", "swigcxx"]

    /// The finding for a generated file of a Go project that the go tool would compile though it is not Go.
    public static func compiledFileFinding(path: String) -> String? {
        guard let dot = path.lastIndex(of: "."), !path[dot...].contains("/") else { return nil }
        let suffix = String(path[path.index(after: dot)...])
        guard compiledExtensions.contains(suffix) else { return nil }
        return "\(path): the go tool compiles .\(suffix) files into the package (assembly, C or objects can make raw system calls past every check of Go source) — a Go project here is Go only"
    }
}
