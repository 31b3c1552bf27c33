import Base
import JSON
import PlanCore

/// Node.js projects (JavaScript, CommonJS or ES modules): tests under `NodeHarness` (Node's built-in
/// runner, `node:test`), files validated by `node --check` and `JavaScriptChecks` (imports that resolve,
/// nothing that reaches for the runner or the process).
///
/// Dependencies: none are installed. The npm registry is not reachable from the executor's machines,
/// and an npm package's install scripts are code the model chose; a `package.json` that names packages
/// is refused at the install step with that reason, and its tests then fail on the missing module.
/// Projects that use only Node's standard library run fully offline.
public struct NodeStack: Stack {
    public init() {}

    public var kind: StackKind { .node }

    /// V8 reserves about 1 GiB of address space at start-up and aborts below it, whatever the script.
    public static let minimumMemoryBytes = 2 << 30

    public func harness(for test: AcceptanceTest, root: String, dependencies: String?, interpreters: Interpreters) -> HarnessCommand {
        guard let node = interpreters.node else {
            return HarnessCommand(unavailable: "node is not installed; install the Debian package nodejs (make deps)")
        }
        var command = HarnessCommand(executable: node, arguments: NodeHarness.arguments(testFile: test.file, root: root),
                                     minimumMemoryBytes: Self.minimumMemoryBytes)
        // Node cannot make itself non-dumpable as the Python harness does: without a /proc, neither the
        // code nor a process it starts can read the harness's memory (where the masked nonce lives) or
        // reopen its descriptors. Node runs without one (os.cpus() is then empty).
        command.processFiles = false
        return command
    }

    public var manifestFile: String? { "package.json" }

    /// The `package.json` fields that name packages npm would install.
    static let packageFields = ["dependencies", "devDependencies", "optionalDependencies", "peerDependencies", "bundleDependencies",
                                "bundledDependencies"]

    public func installDependencies(manifest: String, in workspace: Workspace, sandbox: Sandbox,
                                    environment: [String: String]) -> DependencyOutcome {
        let packages = Self.packages(in: manifest)
        guard packages.isEmpty else {
            return .refused("package.json names npm packages (\(packages.prefix(8).joined(separator: ", "))); MasterPlan installs no npm packages: the registry is not reachable from the executor and a package's install scripts would run code the model chose. Use Node's standard library (node:http, node:fs, node:test, …)")
        }
        return DependencyOutcome(passed: true, reason: nil, output: "package.json names no packages; nothing to install", duration: .zero)
    }

    /// The package names `manifest` lists under any of `packageFields`, sorted; a manifest that is not a
    /// JSON object names none (the validators report it).
    static func packages(in manifest: String) -> [String] {
        guard case .object(let object)? = try? JSONValue.parse(Array(manifest.utf8)) else { return [] }
        var names: Set<String> = []
        for field in packageFields {
            switch object[field] {
            case .object(let listed)?: names.formUnion(listed.keys)
            case .array(let listed)?: names.formUnion(listed.compactMap(\.stringValue))
            default: break
            }
        }
        return names.sorted()
    }
}
