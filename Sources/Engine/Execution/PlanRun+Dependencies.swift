import Foundation
import Glibc
import JSON
import PlanCore
import Store

extension PlanRun {
    /// Where a Python project's missing requirements are installed, inside the workspace (excluded
    /// from commits), and put on `PYTHONPATH` for its acceptance tests.
    static let sitePackages = ".masterplan/site-packages"

    /// The dependency-install step of a wave's end (DESIGN.md §6): for a Python project with a
    /// `requirements.txt` that changed since the last install, the requirements the system's Python
    /// does not already have are installed with pip into `.masterplan/site-packages`. It is the one
    /// sandboxed step with network. A failed install is recorded in the plan's history and the tests
    /// run anyway (a missing package then fails them with a clear import error).
    func installDependencies() async throws {
        guard let requirements = try? await pool.run({ () throws(WorkspaceError) -> String in
            try self.workspace.read("requirements.txt")
        }) else { return }
        let digest = AtomPrompts.sha256(requirements)
        let marker = workspace.root + "/.masterplan/requirements.sha256"
        if let installed = FileManager.default.contents(atPath: marker), String(decoding: installed, as: UTF8.self) == digest {
            return
        }
        guard let python = validators.interpreters.python3 else { return }
        // Only plain requirements from the index reach pip: an option, a path, a URL or a VCS reference
        // would make it fetch or build code the model chose (the validators refuse them too).
        let (lines, refused) = RequirementsCheck.check(requirements)
        if !refused.isEmpty {
            let reason = "requirements.txt has lines pip may not install: " + refused.prefix(5).map(\.description).joined(separator: "; ")
            try await store { try $0.appendHistory(planID: self.planID, event: "dependency_install_failed",
                                                   data: ["requirements_sha256": .string(digest), "passed": false, "refused": .string(reason)]) }
            handler.log("dependency install refused for plan \(planID): \(AtomPrompts.cut(reason, to: 300))")
            return
        }
        let sandbox = handler.sandbox
        let target = workspace.root + "/" + Self.sitePackages
        let result = await pool.run { () -> SandboxResult in
            for folder in [self.workspace.root + "/.masterplan", target] {
                mkdir(folder, 0o755)
                if sandbox.switchesUser { chown(folder, sandbox.configuration.userID, sandbox.configuration.groupID) }
            }
            var limits = SandboxLimits(timeout: .seconds(600), memoryBytes: 2 << 30, outputBytes: 64 << 10, network: true)
            limits.fileBytes = max(limits.fileBytes, 256 << 20)
            return sandbox.run(python, ["-c", Self.installScript, Self.sitePackages] + lines, in: .readWrite(self.workspace.root),
                               limits: limits, environment: ["HOME": "/tmp", "PIP_NO_INPUT": "1"])
        }
        let passed = result.status == .passed
        // A marker that cannot be written only means the next wave installs again.
        if passed { _ = FileManager.default.createFile(atPath: marker, contents: Data(digest.utf8)) }
        let data: JSONObject = ["requirements_sha256": .string(digest), "passed": .bool(passed),
                                "duration_ms": .int(result.durationMilliseconds),
                                "output": .string(AtomPrompts.cut(result.outputWithNotice, to: 4_000))]
        try await store { try $0.appendHistory(planID: self.planID, event: passed ? "dependencies_installed" : "dependency_install_failed",
                                               data: data) }
        if !passed { handler.log("dependency install failed for plan \(planID): \(AtomPrompts.cut(result.output, to: 300))") }
    }

    /// The test environment: installed dependencies on `PYTHONPATH` when there are any.
    var testEnvironment: [String: String] {
        var isFolder: ObjCBool = false
        let path = workspace.root + "/" + Self.sitePackages
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue else { return [:] }
        return ["PYTHONPATH": path]
    }

    /// Installs the requirements given after the target folder (already checked by `RequirementsCheck`)
    /// whose distribution the system Python lacks.
    static let installScript = """
        import importlib.metadata as metadata, os, re, subprocess, sys
        target = os.path.abspath(sys.argv[1])
        # Outside the workspace, so that no requirement can name one of its folders.
        os.chdir("/tmp")
        missing = []
        for line in sys.argv[2:]:
            name = re.split(r"[<>=!~\\[;@ ]", line, maxsplit=1)[0]
            try:
                metadata.distribution(name)
            except metadata.PackageNotFoundError:
                missing.append(line)
        if not missing:
            print("every requirement is installed on the system")
            sys.exit(0)
        print("installing: " + ", ".join(missing), flush=True)
        # Built wheels only: a source distribution would run its own build code here.
        sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                                  "--no-input", "--only-binary=:all:", "--target", target] + missing))
        """
}
