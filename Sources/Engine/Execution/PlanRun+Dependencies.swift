import Base
import Foundation
import Glibc
import JSON
import PlanCore
import Store

extension PlanRun {
    /// Where a Python project's missing requirements are installed, inside the workspace (excluded
    /// from commits), and put on `PYTHONPATH` for its acceptance tests.
    static let sitePackages = Workspace.engineFolder + "/" + PythonDependencyInstall.installedFolder
    /// The digest of the requirements last installed, in the engine folder.
    static let installMarker = "requirements.sha256"

    /// The dependency-install step of a wave's end (README, "The box"): for a Python project with a
    /// `requirements.txt` that changed since the last install, the requirements the system's Python
    /// does not already have are fetched as built wheels and installed into `.masterplan/site-packages`
    /// (see `PythonDependencyInstall`: no generated code runs with a network, and nothing a box wrote is
    /// followed). A failed install is recorded in the plan's history and the tests run anyway (a
    /// missing package then fails them with a clear import error).
    func installDependencies() async throws {
        guard let requirements = try? await pool.run({ () throws(WorkspaceError) -> String in
            try self.workspace.read("requirements.txt")
        }) else { return }
        let digest = AtomPrompts.sha256(requirements)
        if workspace.readEngineFile(Self.installMarker) == digest { return }
        guard let python = validators.interpreters.python3 else { return }
        // Only plain requirements from the index reach pip: an option, a path, a URL or a VCS reference
        // would make it fetch or build code the model chose (the validators refuse them too).
        let (lines, refused) = RequirementsCheck.check(requirements)
        if !refused.isEmpty {
            let reason = "requirements.txt has lines pip may not install: " + refused.prefix(5).map(\.description).joined(separator: "; ")
            try await store { try $0.appendHistory(planID: self.planID, event: "dependency_install_failed",
                                                   data: ["requirements_sha256": .string(digest), "passed": false, "refused": .string(reason)]) }
            handler.log.warning("dependency install refused", ["plan.id": planID.uuidString.lowercased(),
                                                               "reason": AtomPrompts.cut(reason, to: 300)])
            return
        }
        let install = PythonDependencyInstall(sandbox: handler.sandbox, python: python,
                                              environment: handler.settings.packageIndexEnvironment)
        let workspace = self.workspace
        let outcome = await pool.run { install.run(lines, in: workspace) }
        // A marker that cannot be written only means the next wave installs again.
        if outcome.passed { try? workspace.writeEngineFile(Self.installMarker, digest) }
        var data: JSONObject = ["requirements_sha256": .string(digest), "passed": .bool(outcome.passed),
                                "duration_ms": .int(outcome.duration.wholeMilliseconds),
                                "output": .string(AtomPrompts.cut(outcome.output, to: 4_000))]
        if let reason = outcome.reason { data["reason"] = .string(reason) }
        let history = data
        try await store { try $0.appendHistory(planID: self.planID, event: outcome.passed ? "dependencies_installed" : "dependency_install_failed",
                                               data: history) }
        if let reason = outcome.reason {
            handler.log.warning("dependency install failed", ["plan.id": planID.uuidString.lowercased(),
                                                              "reason": AtomPrompts.cut(reason, to: 300)])
        }
    }

    /// The test environment: installed dependencies on `PYTHONPATH` when there are any.
    var testEnvironment: [String: String] {
        let path = workspace.root + "/" + Self.sitePackages
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else { return [:] }
        return ["PYTHONPATH": path]
    }
}
