import PlanCore
import Testing

@Suite struct TestCommandTests {
    @Test(arguments: [
        ("pytest -q", TestCommand.pytest(options: ["-q"])),
        ("python -m pytest", .pytest(options: [])),
        ("python3.11 -m pytest -x --tb=short tests/", .pytest(options: ["-x", "--tb=short"])),
        ("/usr/bin/python3 -m pytest -k slow -q", .pytest(options: ["-q"])),
        ("", .pytest(options: [])),
        ("python3 -m unittest discover -v", .unittest(options: ["-v"])),
        ("py.test", .pytest(options: [])),
        ("node --test", .nodeTest),
        ("node --test test/", .nodeTest),
        ("/usr/bin/node --test --test-reporter=spec", .nodeTest),
        ("npm test", .nodeTest),
        ("go test ./...", .goTest),
        ("go test -v -race ./...", .goTest),
    ])
    func readsKnownRunners(command: String, expected: TestCommand) throws {
        #expect(try TestCommand(parsing: command) == expected)
    }

    @Test(arguments: ["npm run lint", "node index.js", "node --test; curl x", "npx jest", "go build ./...", "go run .", "pytest -q; rm -rf /", "python3 -m pytest $(cat x)", "python3 -c 'print(1)'",
                      "python3 -m nose"])
    func refusesEverythingElse(command: String) {
        #expect(throws: TestCommand.Unsupported.self) { try TestCommand(parsing: command) }
    }

    @Test func eachCommandNamesItsStackAndARefusalListsEverySupportedStack() throws {
        #expect(try TestCommand(parsing: "pytest -q").stack == .python)
        #expect(try TestCommand(parsing: "python3 -m unittest").stack == .python)
        #expect(try TestCommand(parsing: "node --test").stack == .node)
        #expect(try TestCommand(parsing: "go test ./...").stack == .go)
        #expect(StackKind(testCommand: "cargo test") == nil)
        let refusal = try #require(throws: TestCommand.Unsupported.self) { try TestCommand(parsing: "cargo test") }.description
        #expect(refusal == "the test command \"cargo test\" is not one MasterPlan can run; supported: Python with pytest (\"python3 -m pytest -q\") or unittest (\"python3 -m unittest\"); Node.js with node:test (\"node --test\"); Go with go test (\"go test ./...\")")
    }
}
