/// A stack MasterPlan can execute: the language and toolchain whose validators, test harness and
/// dependency install run a plan's code. A plan's stack is the one its test command names
/// (`TestCommand.stack`); the engine has one value per case (`Engine.Stack`).
public enum StackKind: String, Sendable, Hashable, CaseIterable {
    case python
    case node
    case go

    /// The name people read (the UI's stack badge, messages).
    public var displayName: String {
        switch self {
        case .python: return "Python"
        case .node: return "Node.js"
        case .go: return "Go"
        }
    }

    /// The test commands of the stack, as a plan writes them.
    public var exampleCommands: String {
        switch self {
        case .python: return "pytest (\"python3 -m pytest -q\") or unittest (\"python3 -m unittest\")"
        case .node: return "node:test (\"node --test\")"
        case .go: return "go test (\"go test ./...\")"
        }
    }

    /// "Python with pytest (…) or unittest (…); Node.js with node:test (…)", for refusals.
    public static var supportedList: String {
        allCases.map { "\($0.displayName) with \($0.exampleCommands)" }.joined(separator: "; ")
    }

    /// Whether a plan's `tech_stack.language` names this stack's language ("Python 3.11", "JavaScript
    /// (Node.js 18)"). TypeScript is not JavaScript here: Node.js runs no TypeScript without a compiler step.
    public func accepts(language: String) -> Bool {
        let words = language.lowercased()
        switch self {
        case .python:
            return words.contains("python")
        case .node:
            return !words.contains("typescript")
                && (words.contains("javascript") || words.contains("node") || words.contains("ecmascript")
                    || words.split(whereSeparator: { !$0.isLetter }).contains("js"))
        case .go:
            return words.contains("golang") || words.split(whereSeparator: { !$0.isLetter }).contains("go")
        }
    }

    /// The stack of a plan whose test command is `command`, or nil when no stack runs it.
    public init?(testCommand command: String) {
        guard let parsed = try? TestCommand(parsing: command) else { return nil }
        self = parsed.stack
    }
}
