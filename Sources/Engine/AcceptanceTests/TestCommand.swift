import PlanCore

/// How the plan's test command (`tech_stack.test_command`) runs one acceptance test file in the box.
///
/// Only known runners are accepted, and the command is rebuilt rather than handed to a shell: the
/// interpreter is called by absolute path (a pyenv shim would not work in the box), the one test file
/// is appended, and positional arguments of the plan's command (which would run other tests) are
/// dropped. Supported: pytest (`pytest`, `py.test`, `python -m pytest`) and unittest
/// (`python -m unittest`), both with Python from Debian.
public enum TestCommand: Sendable, Hashable {
    /// `python3 -m pytest` with the plan's self-contained options (`-q`, `-x`, `--tb=short`, …).
    case pytest(options: [String])
    /// `python3 -m unittest` with the plan's self-contained options (`-v`, `-f`, …).
    case unittest(options: [String])

    /// The command is not one the runner can run.
    public struct Unsupported: Error, Sendable, CustomStringConvertible {
        public var command: String
        public var description: String {
            "the test command \"\(command)\" is not supported; use pytest (\"python3 -m pytest -q\") or unittest (\"python3 -m unittest\")"
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

    /// The arguments after the interpreter for running `testFile` (relative to the workspace).
    public func arguments(testFile: String) -> [String] {
        switch self {
        case .pytest(let options):
            // No cache folder, no colours, no plugins from outside the box's Python.
            return ["-m", "pytest", "-p", "no:cacheprovider", "--color=no"] + options + ["--", testFile]
        case .unittest(let options):
            return ["-m", "unittest"] + options + [testFile]
        }
    }

    /// The outcome of a run that exited with `code` and printed `output`.
    func outcome(exitCode code: Int32, output: String) -> (outcome: TestOutcome, reason: String?) {
        switch self {
        case .pytest:
            switch code {
            case 0: return (.pass, nil)
            case 1: return (.fail, nil)
            case 2: return (.error, "pytest was interrupted (often an error while importing the test file)")
            case 5: return (.error, "pytest collected no tests from the file")
            default: return (.error, "pytest ended with exit status \(code)")
            }
        case .unittest:
            if output.contains("Failed to import test module") || output.contains("ImportError: Failed to import") {
                return (.error, "unittest could not import the test file")
            }
            switch code {
            case 0 where output.contains("Ran 0 tests"): return (.error, "unittest found no tests in the file")
            case 0: return (.pass, nil)
            case 1: return (.fail, nil)
            case 5: return (.error, "unittest found no tests in the file")
            default: return (.error, "unittest ended with exit status \(code)")
            }
        }
    }
}
