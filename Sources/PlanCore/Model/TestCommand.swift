/// The runner the plan's test command (`tech_stack.test_command`) names.
///
/// Only known runners are accepted; the command itself never runs. Every acceptance test file runs
/// under the engine's own harness (pytest also runs `unittest.TestCase` classes), because a command
/// from the plan — its options, plugins or configuration — would let the plan steer the run.
/// Supported: pytest (`pytest`, `py.test`, `python -m pytest`) and unittest (`python -m unittest`) for
/// Python, Node.js's built-in runner (`node --test`, `npm test`) and Go's (`go test ./...`). The plan validator refuses any
/// other command when a plan is generated or edited, so a plan for a stack MasterPlan cannot run never
/// reaches approval.
public enum TestCommand: Sendable, Hashable {
    /// `python3 -m pytest` with the plan's self-contained options (`-q`, `-x`, `--tb=short`, …).
    case pytest(options: [String])
    /// `python3 -m unittest` with the plan's self-contained options (`-v`, `-f`, …).
    case unittest(options: [String])
    /// `node --test`: Node.js's built-in runner (`node:test`), whatever the plan's options.
    case nodeTest
    /// `go test ./...`: Go's `testing` package, whatever the plan's options.
    case goTest

    /// The command is not one the runner can run.
    public struct Unsupported: Error, Sendable, CustomStringConvertible {
        public var command: String
        public var description: String {
            "the test command \"\(command)\" is not one MasterPlan can run; supported: \(StackKind.supportedList)"
        }
    }

    /// The stack whose harness runs the tests.
    public var stack: StackKind {
        switch self {
        case .pytest, .unittest: return .python
        case .nodeTest: return .node
        case .goTest: return .go
        }
    }

    /// Reads a plan's test command; an empty command means pytest.
    public init(parsing command: String) throws(Unsupported) {
        var words = command.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        if words.isEmpty {
            self = .pytest(options: [])
            return
        }
        // Shell syntax (pipes, quotes, variables, `&&`) is not interpreted; refuse rather than misread it.
        if command.contains(where: { "|&;<>()$`'\"\\*?".contains($0) }) { throw Unsupported(command: command) }
        let program = words.removeFirst().split(separator: "/").last.map(String.init) ?? ""
        if program == "node" || program == "nodejs" {
            // `node --test [files…]`: the harness runs each acceptance test file itself.
            guard words.first == "--test" else { throw Unsupported(command: command) }
            self = .nodeTest
            return
        }
        if program == "npm", words == ["test"] || words == ["run", "test"] || words == ["t"] {
            self = .nodeTest
            return
        }
        if program == "go" {
            // `go test [flags] [packages]`: the harness builds and runs each acceptance test's package itself.
            guard words.first == "test" else { throw Unsupported(command: command) }
            self = .goTest
            return
        }
        let module: String
        if program == "pytest" || program == "py.test" {
            module = "pytest"
        } else if program.hasPrefix("python"), program.dropFirst("python".count).allSatisfy({ $0.isNumber || $0 == "." }),
                  words.first == "-m", words.count >= 2 {
            module = words[1]
            words.removeFirst(2)
        } else {
            throw Unsupported(command: command)
        }
        switch module {
        case "pytest": self = .pytest(options: words.filter(Self.isPytestFlag))
        case "unittest": self = .unittest(options: words.filter(Self.isUnittestFlag))
        default: throw Unsupported(command: command)
        }
    }

    /// pytest options that take no separate value (so dropping positional words never orphans one).
    static func isPytestFlag(_ option: String) -> Bool {
        let flags: Set<String> = ["-q", "-qq", "-v", "-vv", "-x", "-s", "-l", "-ra", "-rA", "-rf",
                                  "--quiet", "--verbose", "--exitfirst", "--strict-markers", "--showlocals",
                                  "--disable-warnings"]
        return flags.contains(option) || option.hasPrefix("--tb=") || option.hasPrefix("-W") && option.count > 2
    }

    /// unittest options that take no separate value.
    static func isUnittestFlag(_ option: String) -> Bool {
        ["-q", "-v", "-f", "-b", "-c", "--quiet", "--verbose", "--failfast", "--buffer", "--catch"].contains(option)
    }
}
