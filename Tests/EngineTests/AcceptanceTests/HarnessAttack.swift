import Testing

/// One trick a cheating model plays on a stack's acceptance-test harness: the files generated code
/// leaves in the workspace, and fragments of the run's reason (the verdict's sentence), one of which
/// must name what went wrong. The harness suites run each for real and none may come out as a pass.
struct HarnessAttack: Sendable, CustomTestStringConvertible {
    var name: String
    var files: [(path: String, content: String)]
    var reasons: [String]
    var testDescription: String { name }

    init(name: String, files: [(path: String, content: String)], reason: String...) {
        self.name = name
        self.files = files
        self.reasons = reason
    }
}
