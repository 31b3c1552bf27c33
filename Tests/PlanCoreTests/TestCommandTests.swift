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
    ])
    func readsKnownRunners(command: String, expected: TestCommand) throws {
        #expect(try TestCommand(parsing: command) == expected)
    }

    @Test(arguments: ["npm test", "go test ./...", "pytest -q; rm -rf /", "python3 -m pytest $(cat x)", "python3 -c 'print(1)'",
                      "python3 -m nose"])
    func refusesEverythingElse(command: String) {
        #expect(throws: TestCommand.Unsupported.self) { try TestCommand(parsing: command) }
    }
}
