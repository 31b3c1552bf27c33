import Foundation
import PlanCore

/// Go projects (modules, standard library only): tests under `GoHarness` (the engine's TestMain added
/// to the test's package in the run's copy), files validated by `gofmt`, `go vet` and `go build` of
/// their package, and `GoChecks` (nothing that reaches descriptors, memory or the runtime's internals).
///
/// Dependencies: none are fetched. The module proxy is not reachable from the executor's machines; a
/// `go.mod` that requires modules is refused at the install step with that reason, and the build then
/// fails on the missing module (`GOPROXY=off`, `GOFLAGS=-mod=mod`). Standard-library projects run fully
/// offline.
public struct GoStack: Stack {
    public init() {}

    public var kind: StackKind { .go }

    /// The Go runtime reserves its heap arenas in address space well before it uses them.
    public static let minimumMemoryBytes = 2 << 30

    /// The environment every Go tool runs with in the box: no network, no module downloads, no cgo, and
    /// the caches in the box's own /tmp.
    public static let environment = [
        "GOPROXY": "off", "GOSUMDB": "off", "GOFLAGS": "-mod=mod", "GONOSUMDB": "", "GOPRIVATE": "", "GOWORK": "off",
        "GOTOOLCHAIN": "local", "CGO_ENABLED": "0", "GOCACHE": "/tmp/go-cache", "GOPATH": "/tmp/go", "GOENV": "off",
        "GO111MODULE": "on", "GOTELEMETRY": "off",
    ]

    public func harness(for test: AcceptanceTest, root: String, dependencies: String?, interpreters: Interpreters) -> HarnessCommand {
        guard let go = interpreters.go else {
            return HarnessCommand(unavailable: "go is not installed; install the Debian package golang-go (make deps)")
        }
        let folder = test.file.split(separator: "/").dropLast().joined(separator: "/")
        let (package, tests) = GoChecks.testFile(test.code)
        guard let package else {
            return HarnessCommand(unavailable: "the test file \(test.file) has no package clause")
        }
        var command = HarnessCommand(executable: "/bin/sh",
                                     arguments: ["-c", GoHarness.runScript, "sh", folder.isEmpty ? "." : folder, go],
                                     environment: Self.environment, minimumMemoryBytes: Self.minimumMemoryBytes)
        command.files = [((folder.isEmpty ? "" : folder + "/") + GoHarness.fileName,
                          GoHarness.source(package: package, testFile: test.file, tests: tests))]
        command.processFiles = false
        command.soleTestFileSuffix = "_test.go"
        return command
    }

    public var manifestFile: String? { "go.mod" }

    /// A module of its own: a test that imports the project's packages by their module path fails
    /// there, as it should without the code; one that needs nothing of the project builds and runs.
    public var probeFiles: [(path: String, content: String)] { [("go.mod", "module masterplan.invalid/probe\n\ngo 1.19\n")] }

    public var probesEachTestAlone: Bool { true }

    public func installDependencies(manifest: String, in workspace: Workspace, sandbox: Sandbox,
                                    environment: [String: String]) -> DependencyOutcome {
        let modules = Self.requiredModules(in: manifest)
        guard modules.isEmpty else {
            return .refused("go.mod requires modules (\(modules.prefix(8).joined(separator: ", "))); MasterPlan fetches no Go modules: the module proxy is not reachable from the executor. Use Go's standard library")
        }
        return DependencyOutcome(passed: true, reason: nil, output: "go.mod requires no modules; nothing to fetch", duration: .zero)
    }

    /// The module paths of `require` directives (single and block form), sorted.
    static func requiredModules(in manifest: String) -> [String] {
        var modules: Set<String> = []
        var inBlock = false
        for rawLine in manifest.split(separator: "\n") {
            var line = String(rawLine)
            if let comment = line.range(of: "//") { line = String(line[..<comment.lowerBound]) }
            line = line.trimmingCharacters(in: .whitespaces)
            if inBlock {
                if line.hasPrefix(")") { inBlock = false } else if let module = line.split(separator: " ").first { modules.insert(String(module)) }
                continue
            }
            guard line.hasPrefix("require") else { continue }
            let rest = line.dropFirst("require".count).trimmingCharacters(in: .whitespaces)
            if rest.hasPrefix("(") { inBlock = true } else if let module = rest.split(separator: " ").first { modules.insert(String(module)) }
        }
        return modules.sorted()
    }
}
