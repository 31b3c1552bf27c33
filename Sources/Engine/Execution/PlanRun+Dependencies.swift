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
    /// The digest of the manifest last installed, in the engine folder (Python's keeps its first name).
    var installMarker: String { stack.kind == .python ? "requirements.sha256" : "\(stack.kind.rawValue)-dependencies.sha256" }

    /// The dependency-install step of a wave's end (README, "The box"): when the stack's manifest
    /// (`requirements.txt`, `package.json`) changed since the last install, the stack installs what it
    /// names (`Stack.installDependencies`: no generated code runs with a network, nothing a box wrote is
    /// followed). A failed or refused install is recorded in the plan's history and the tests run anyway
    /// (a missing package then fails them with a clear import error).
    func installDependencies() async throws {
        guard let manifestFile = stack.manifestFile,
              let manifest = try? await pool.run({ () throws(WorkspaceError) -> String in
                  try self.workspace.read(manifestFile)
              }) else { return }
        let digest = AtomPrompts.sha256(manifest)
        let marker = installMarker
        if workspace.readEngineFile(marker) == digest { return }
        let (stack, workspace, sandbox) = (self.stack, self.workspace, handler.sandbox)
        let environment = handler.settings.packageIndexEnvironment
        let outcome = await pool.run { stack.installDependencies(manifest: manifest, in: workspace, sandbox: sandbox, environment: environment) }
        // A marker that cannot be written only means the next wave installs again.
        if outcome.passed { try? workspace.writeEngineFile(marker, digest) }
        var data: JSONObject = ["requirements_sha256": .string(digest), "manifest": .string(manifestFile), "passed": .bool(outcome.passed)]
        if outcome.refused {
            data["refused"] = .string(outcome.reason ?? "refused")
        } else {
            data["duration_ms"] = .int(outcome.duration.wholeMilliseconds)
            data["output"] = .string(AtomPrompts.cut(outcome.output, to: 4_000))
            if let reason = outcome.reason { data["reason"] = .string(reason) }
        }
        let history = data
        try await store { try $0.appendHistory(planID: self.planID, event: outcome.passed ? "dependencies_installed" : "dependency_install_failed",
                                               data: history) }
        if let reason = outcome.reason {
            handler.log.warning(outcome.refused ? "dependency install refused" : "dependency install failed",
                                ["plan.id": planID.uuidString.lowercased(), "reason": AtomPrompts.cut(reason, to: 300)])
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
