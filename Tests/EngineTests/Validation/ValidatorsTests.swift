import Engine
import Foundation
import JSON
import Testing
import TestSupport

/// Each validator with real tools in the real sandbox: it catches the error (with its line) and passes good code.
@Suite(.dedicatedThreads) struct ValidatorsTests {
    let validators: Validators

    init() throws {
        let interpreters = Interpreters.locate()
        // Nothing is skipped: a missing tool fails here with the package to install.
        try #require(interpreters.python3 != nil, "python3 from Debian is required (make deps)")
        try #require(interpreters.node != nil, "node is required; install the Debian package nodejs (make deps)")
        try #require(interpreters.bash != nil, "bash is required")
        validators = Validators(sandbox: try Sandbox(), interpreters: interpreters)
    }

    /// Writes `content` to `path` in a fresh workspace and validates it.
    private func validate(_ path: String, _ content: String) throws -> [ValidatorResult] {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try Workspace.open(at: folder.sub("workspaces/plan"))
        try workspace.write(content, to: path)
        let results = validators.validate(path, in: workspace)
        // Validators only read: nothing new in the workspace (no __pycache__, no .pyc).
        #expect(try workspace.files() == [path])
        return results
    }

    private func result(_ name: String, in results: [ValidatorResult]) throws -> ValidatorResult {
        try #require(results.first { $0.name == name }, "no \(name) result in \(results.map(\.name))")
    }

    @Test func validPythonPassesEveryCheck() throws {
        let results = try validate("app/service.py", """
        import json


        def total(items):
            result = 0
            for item in items:
                if item > 0:
                    result += item
            return json.dumps({"total": result})
        """ + "\n")
        #expect(results.map(\.name) == ["size", "complexity", "python-syntax", "pyflakes", "tamper-check"])
        #expect(results.allSatisfy { $0.passed }, "\(results)")
    }

    @Test func aRequirementNamingALocalFolderFailsValidationWithItsLine() throws {
        let results = try validate("requirements.txt", "fastapi==0.92.0\n./vendor/evil\n")
        let check = try #require(results.first { $0.name == "requirements" })
        #expect(!check.passed)
        #expect(check.message.contains("line 2") && check.message.contains("local paths"), "\(check.message)")
        #expect(try validate("requirements.txt", "fastapi==0.92.0\nPyJWT>=2\n").first { $0.name == "requirements" }?.passed == true)
    }

    @Test func aPythonSyntaxErrorIsCaughtWithItsLine() throws {
        let results = try validate("app/broken.py", "x = 1\ny = 2\ndef broken(:\n    pass\n")
        let syntax = try result("python-syntax", in: results)
        #expect(!syntax.passed)
        #expect(syntax.message.contains("app/broken.py:3:"), "\(syntax.message)")
        #expect(syntax.message.contains("SyntaxError"))
    }

    @Test func returnOutsideAFunctionIsASyntaxErrorToo() throws {
        let syntax = try result("python-syntax", in: try validate("a.py", "x = 1\nreturn x\n"))
        #expect(!syntax.passed)
        #expect(syntax.message.contains("a.py:2:"), "\(syntax.message)")
    }

    @Test func anUndefinedNameFailsPyflakesWithItsLine() throws {
        let flakes = try result("pyflakes", in: try validate("a.py", "def f():\n    return undefined_thing + 1\n"))
        #expect(!flakes.passed)
        #expect(flakes.message.contains("a.py:2:"), "\(flakes.message)")
        #expect(flakes.message.contains("undefined name 'undefined_thing'"))
    }

    @Test func anUnusedImportIsOnlyAWarning() throws {
        let flakes = try result("pyflakes", in: try validate("a.py", "import os\nx = 1\n"))
        #expect(flakes.passed)
        #expect(flakes.message.contains("'os' imported but unused"), "\(flakes.message)")
    }

    @Test func aModuleInTheWorkspaceCannotShadowTheCheckers() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try Workspace.open(at: folder.sub("workspaces/plan"))
        // If the checker imported this json.py, the broken data file would pass.
        try workspace.write("def loads(text):\n    return None\n", to: "json.py")
        try workspace.write("{\"a\": }\n", to: "data.json")
        let parse = try result("json-parse", in: validators.validate("data.json", in: workspace))
        #expect(!parse.passed)
    }

    @Test func jsonErrorsCarryTheirLineAndValidJSONPasses() throws {
        let bad = try result("json-parse", in: try validate("config/settings.json", "{\n  \"a\": 1,\n  \"b\": \n}\n"))
        #expect(!bad.passed)
        #expect(bad.message.contains("config/settings.json:4:1: Expecting value"), "\(bad.message)")
        let good = try validate("config/settings.json", "{\"a\": [1, 2, {\"b\": null}]}\n")
        #expect(good.map(\.name) == ["size", "json-parse", "tamper-check"])
        #expect(good.allSatisfy { $0.passed }, "\(good)")
    }

    @Test func yamlAndTomlErrorsCarryTheirLine() throws {
        let yaml = try result("yaml-parse", in: try validate("ci.yml", "jobs:\n  build:\n    steps: [a, b\n  other: 1\n"))
        #expect(!yaml.passed)
        #expect(yaml.message.contains("ci.yml:"), "\(yaml.message)")
        #expect(try validate("ci.yml", "jobs:\n  build:\n    steps: [a, b]\n").allSatisfy { $0.passed })

        let toml = try result("toml-parse", in: try validate("pyproject.toml", "[project]\nname = \"x\"\nversion = \n"))
        #expect(!toml.passed)
        #expect(toml.message.contains("line 3"), "\(toml.message)")
        #expect(try validate("pyproject.toml", "[project]\nname = \"x\"\nversion = \"1.0\"\n").allSatisfy { $0.passed })
    }

    @Test func shellSyntaxErrorsCarryTheirLine() throws {
        let bad = try result("bash-syntax", in: try validate("scripts/run.sh", "#!/bin/sh\nif true; then\n  echo hi\n"))
        #expect(!bad.passed)
        #expect(bad.message.contains("scripts/run.sh: line 4"), "\(bad.message)")
        let good = try validate("scripts/run.sh", "#!/bin/sh\nif true; then\n  echo hi\nfi\n")
        #expect(good.allSatisfy { $0.passed }, "\(good)")
        // A script without an extension is recognised by its #! line.
        let shebang = try validate("bin/start", "#!/usr/bin/env bash\nfor x in; do\n")
        #expect(try !result("bash-syntax", in: shebang).passed)
    }

    @Test func javascriptSyntaxErrorsCarryTheirLine() throws {
        let bad = try result("node-check", in: try validate("web/app.js", "const a = 1;\nfunction f( {\n  return a;\n}\n"))
        #expect(!bad.passed)
        #expect(bad.message.contains("web/app.js:"), "\(bad.message)")
        #expect(bad.message.contains("SyntaxError"))
        let good = try validate("web/app.js", "const a = 1;\nfunction f() {\n  return a;\n}\nmodule.exports = { f };\n")
        #expect(good.allSatisfy { $0.passed }, "\(good)")
        let module = try validate("web/module.js", "import fs from 'node:fs';\nexport const read = (p) => fs.readFileSync(p);\n")
        #expect(module.allSatisfy { $0.passed }, "\(module)")
        let mjs = try result("node-check", in: try validate("web/bad.mjs", "export const = 1;\n"))
        #expect(!mjs.passed)
    }

    @Test func anOlderNodeThatReadsJSAsCommonJSGetsASecondLookAsAModule() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try Workspace.open(at: folder.sub("workspaces/plan"))
        // Node before 20.10 answers like this for ES-module syntax in a .js file; this stand-in does, and
        // checks .mjs files with the real node.
        let oldNode = workspace.root + "/old-node"
        try "#!/usr/bin/bash\ncase \"$2\" in\n  *.mjs) exec /usr/bin/node --check \"$2\" ;;\n  *) echo \"$2:1\"; echo \"SyntaxError: Cannot use import statement outside a module\"; exit 1 ;;\nesac\n"
            .write(toFile: oldNode, atomically: false, encoding: .utf8)
        chmod(oldNode, 0o755)
        let older = Validators(sandbox: validators.sandbox,
                               interpreters: Interpreters(python3: validators.interpreters.python3, node: oldNode, bash: "/usr/bin/bash"))
        try workspace.write("import fs from 'node:fs';\nexport const x = 1;\n", to: "good.js")
        try workspace.write("import fs from 'node:fs';\nexport const = 1;\n", to: "bad.js")
        #expect(try result("node-check", in: older.validate("good.js", in: workspace)).passed)
        let bad = try result("node-check", in: older.validate("bad.js", in: workspace))
        #expect(!bad.passed)
        #expect(bad.message.contains("bad.js:2"), "\(bad.message)")
        #expect(!bad.message.contains("masterplan-check"))
    }

    @Test func aFileNamedLikeAnOptionIsCheckedAsAFile() throws {
        let results = try validate("-m.py", "x = (\n")
        #expect(try !result("python-syntax", in: results).passed)
        #expect(try result("python-syntax", in: results).message.contains("-m.py:1:"))
    }

    @Test func markdownGetsTheSizeAndTamperChecksOnly() throws {
        let results = try validate("docs/README.md", "# Title\n\n" + String(repeating: "long words ", count: 100) + "\n")
        #expect(results.map(\.name) == ["size", "tamper-check"])
        #expect(results.allSatisfy { $0.passed })
    }

    @Test func overlongLinesAndDeepNestingFailComplexity() throws {
        let long = try result("complexity", in: try validate("a.py", "x = '" + String(repeating: "y", count: 1_000) + "'\n"))
        #expect(!long.passed)
        #expect(long.message.contains("line 1 is 1006 characters long"), "\(long.message)")

        var nested = "def f(x):\n"
        for level in 1 ... 12 { nested += String(repeating: "    ", count: level) + "if x > \(level):\n" }
        nested += String(repeating: "    ", count: 13) + "return x\n"
        let deep = try result("complexity", in: try validate("deep.py", nested))
        #expect(!deep.passed)
        #expect(deep.message.contains("nested 13 levels deep"), "\(deep.message)")
    }

    @Test func resultsSerialiseAsAJSONArray() throws {
        let results = try validate("a.py", "x = (\n")
        let json = ValidatorResult.jsonArray(results)
        let text = try json.serialized(.compact)
        let parsed = try JSONValue.parse(text)
        #expect(parsed.arrayValue?.count == results.count)
        #expect(parsed.arrayValue?.compactMap(ValidatorResult.init(json:)) == results)
    }

    @Test func aMissingFileIsAFailedCheckNotACrash() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try Workspace.open(at: folder.sub("workspaces/plan"))
        let results = validators.validate("absent.py", in: workspace)
        #expect(results.count == 1)
        #expect(results.first?.passed == false)
    }

    @Test func aMissingInterpreterFailsTheCheckWithThePackageToInstall() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try Workspace.open(at: folder.sub("workspaces/plan"))
        try workspace.write("const a = 1;\n", to: "a.js")
        let withoutNode = Validators(sandbox: validators.sandbox,
                                     interpreters: Interpreters(python3: validators.interpreters.python3, node: nil, bash: "/usr/bin/bash"))
        let check = try result("node-check", in: withoutNode.validate("a.js", in: workspace))
        #expect(!check.passed)
        #expect(check.message.contains("nodejs"))
    }
}
