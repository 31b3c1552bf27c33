import Base
import Foundation
import Store

/// Runs the built `masterplan` executable, as an operator would.
public enum MasterplanBinary {
    /// The binary beside the test bundle (SwiftPM builds both into the same folder).
    public static var path: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("masterplan").path
    }

    /// Runs `masterplan ARGUMENTS` with exactly `environment` (plus PATH), returning status and output.
    public static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> ChildProcess.Outcome {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw PrivateClusterError(message: "the masterplan binary is not at \(path): build it with swift build")
        }
        var env = environment
        env["PATH"] = env["PATH"] ?? ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let output = NSTemporaryDirectory() + "masterplan-run-\(UUID().uuidString).out"
        defer { try? FileManager.default.removeItem(atPath: output) }
        return try ChildProcess.run(path, arguments, outputPath: output, environment: env)
    }
}
