@testable import Engine
import Foundation
import Testing
import TestSupport

/// The static checks of generated JavaScript and Go, and the reading of frozen test files.
@Suite(.dedicatedThreads) struct StackChecksTests {
    @Test func javaScriptImportsResolveToProjectFilesAndBuiltins() {
        let source = """
            "use strict";
            const http = require("node:http");
            const fs = require('fs');
            const { createStore } = require("./store.js");
            const util = require("../lib/util");
            // const ignored = require("./commented-out.js");
            import("./lazy.mjs");
            const _ = require("lodash");
            const evil = require("../../../etc/passwd");
            """
        let files: Set<String> = ["src/store.js", "lib/util.js", "src/lazy.mjs"]
        let findings = JavaScriptChecks.importFindings(path: "src/app.js", content: source) { files.contains($0) }
        #expect(findings == [
            "src/app.js: ../../../etc/passwd points outside the project",
            "src/app.js: lodash is an npm package, and MasterPlan installs no npm packages; use Node's standard library instead of lodash",
        ])
        let esm = "import { add } from \"./calc\";\nexport { add } from './calc/index.mjs';\nimport \"./side-effect.js\";\n"
        let missing = JavaScriptChecks.importFindings(path: "main.mjs", content: esm) { $0 == "calc.js" || $0 == "calc/index.mjs" }
        #expect(missing.count == 1)
        #expect(missing.first?.hasPrefix("main.mjs: ./side-effect.js does not resolve") == true, "\(missing)")
    }

    @Test func javaScriptThatReachesForTheRunnerOrTheProcessIsRefused() {
        let source = """
            const test = require("node:test");
            const inspector = require("inspector");
            process.binding("fs");
            const data = require("fs").readFileSync("/proc/self/environ");
            // process.reallyExit(0) in a comment is fine
            """
        let findings = JavaScriptChecks.tamperFindings(path: "src/app.js", content: source)
        #expect(findings.contains { $0.contains("imports node:test") })
        #expect(findings.contains { $0.contains("imports inspector") })
        #expect(findings.contains { $0.hasPrefix("src/app.js:3: process.binding") })
        #expect(findings.contains { $0.hasPrefix("src/app.js:4: /proc/") })
        #expect(!findings.contains { $0.contains("reallyExit") })
        #expect(JavaScriptChecks.tamperFindings(path: "src/store.js", content: NotesAPIFixture.storeSource).isEmpty)
        #expect(JavaScriptChecks.tamperFindings(path: "src/app.js", content: NotesAPIFixture.appSource(createdStatus: 201)).isEmpty)
    }

    @Test func goThatReachesForDescriptorsMemoryOrTheRuntimeIsRefused() {
        let source = """
            package convert

            import (
            \t"os"
            \t"os/exec"
            \t_ "unsafe"
            \t"syscall"
            \t"net/http/cgi"
            \t"go/build"
            )

            //go:linkname now runtime.nanotime
            func now() int64

            var f = os.NewFile(7, "secret")
            var p, _ = os.StartProcess("/bin/sh", []string{"sh", "-c", "cat <&7"}, &os.ProcAttr{})
            """
        let findings = GoChecks.tamperFindings(path: "convert/convert.go", content: source)
        for expected in ["imports os/exec", "imports unsafe", "imports syscall", "imports net/http/cgi", "imports go/build", "convert/convert.go:12: go:linkname", "convert/convert.go:15: os.NewFile", "convert/convert.go:16: os.StartProcess"] {
            #expect(findings.contains { $0.contains(expected) }, "\(expected) in \(findings)")
        }
        #expect(GoChecks.tamperFindings(path: "convert/convert_test.go", content: "package convert\n").first?.contains("must not add Go test files") == true)
        #expect(GoChecks.tamperFindings(path: "convert/convert.go", content: CSVToJSONFixture.convertSource).isEmpty)
        #expect(GoChecks.tamperFindings(path: "cmd/csv2json/main.go", content: CSVToJSONFixture.mainSource(readsFiles: true)).isEmpty)
    }

    @Test func aFrozenGoTestFileGivesItsPackageAndTopLevelTests() {
        let source = """
            // Package calc_test checks calc.
            package calc_test

            import "testing"

            func TestAdd(t *testing.T) {}
            func TestMain(m *testing.M) {}
            func Testlowercase(t *testing.T) {}
            func helper(t *testing.T) {}
            func (s suite) TestMethod(t *testing.T) {}
            func Test(t *testing.T) {}
            func BenchmarkAdd(b *testing.B) {}
            /*
            func TestCommented(t *testing.T) {}
            */
            """
        let file = GoChecks.testFile(source)
        #expect(file.package == "calc_test")
        #expect(file.tests == ["TestAdd", "Test"])
    }

    @Test func manifestsThatNamePackagesAreRead() {
        #expect(NodeStack.packages(in: #"{"dependencies": {"express": "^4"}, "devDependencies": {"jest": "29"}}"#) == ["express", "jest"])
        #expect(NodeStack.packages(in: #"{"name": "x", "scripts": {"test": "node --test"}}"#).isEmpty)
        #expect(GoStack.requiredModules(in: "module x\n\ngo 1.19\n\nrequire (\n\tgithub.com/a/b v1.0.0\n\tgolang.org/x/text v0.3.0 // indirect\n)\nrequire example.com/c v2.0.0\n")
                == ["example.com/c", "github.com/a/b", "golang.org/x/text"])
        #expect(GoStack.requiredModules(in: "module x\n\ngo 1.19\n").isEmpty)
    }

    /// What only Go's parser sees, checked in the validator box: a package-level declaration that
    /// replaces a predeclared name (`len`, `true`, `nil`, …) for every file of the package, the harness's
    /// too; a function without a body (assembly); and the assembly or C file itself.
    @Test func goValidatorsRefuseRedeclaredBuiltinsBodylessFunctionsAndNonGoSources() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try Workspace.open(at: folder.sub("workspaces/plan-1"))
        try workspace.write("module example.com/calc\n\ngo 1.19\n", to: "go.mod")
        try workspace.write("""
            package calc

            func len(b []byte) int { return 0 }

            const (
            \ttrue = false
            )

            func rawcall(trap, fd uintptr, p *byte, n uintptr) uintptr

            func Add(a, b int) int { return a - b }

            """, to: "calc/calc.go")
        try workspace.write("#include \"textflag.h\"\n\nTEXT ·rawcall(SB),NOSPLIT,$0-40\n\tSYSCALL\n\tRET\n", to: "calc/sys_amd64.s")
        var validators = Validators(sandbox: try Sandbox())
        validators.stack = .go
        let tamper = try #require(validators.validate("calc/calc.go", in: workspace).first { $0.name == TamperCheck.name })
        #expect(!tamper.passed)
        for expected in ["calc/calc.go:3: redeclares the predeclared len", "calc/calc.go:6: redeclares the predeclared true",
                         "calc/calc.go:9: func rawcall has no body"] {
            #expect(tamper.message.contains(expected), "\(expected) in \(tamper.message)")
        }
        // os under another name, or dot-imported, would hide os.NewFile from the text rules.
        try workspace.write("package calc\n\nimport (\n\to \"os\"\n)\n\nvar secret = o.NewFile(7, \"s\")\n", to: "calc/alias.go")
        try workspace.write("package calc\n\nimport . \"os\"\n\nvar report = NewFile(4, \"r\")\n", to: "calc/dot.go")
        let alias = try #require(validators.validate("calc/alias.go", in: workspace).first { $0.name == TamperCheck.name })
        #expect(alias.message.contains("calc/alias.go:4: imports os as o") && alias.message.contains("calc/alias.go:7: NewFile"), "\(alias.message)")
        let dot = try #require(validators.validate("calc/dot.go", in: workspace).first { $0.name == TamperCheck.name })
        #expect(dot.message.contains("calc/dot.go:3: imports os with a dot"), "\(dot.message)")
        let assembly = try #require(validators.validate("calc/sys_amd64.s", in: workspace).first { $0.name == TamperCheck.name })
        #expect(!assembly.passed)
        #expect(assembly.message.contains("the go tool compiles .s files"), "\(assembly.message)")

        try workspace.write(CSVToJSONFixture.convertSource, to: "convert/convert.go")
        let honest = validators.validate("convert/convert.go", in: workspace)
        #expect(honest.filter { !$0.passed }.isEmpty, "\(honest.filter { !$0.passed })")
    }
}
