import Foundation

/// Short programs run to completion the simple way, with `SpawnedProgram`: the output goes to a file
/// rather than a pipe, so a daemon the program leaves behind (`pg_ctl start`) cannot block a reader,
/// and a large output (a `git archive`) is kept whole.
public enum ChildProcess {
    public struct Outcome: Sendable {
        /// The exit status, or 128 + the signal number when a signal ended it.
        public var status: Int32
        /// Standard output and standard error, interleaved.
        public var output: String
    }

    public struct CapturedOutput: Sendable {
        /// The exit status, or 128 + the signal number when a signal ended it.
        public var status: Int32
        /// Standard output only.
        public var bytes: [UInt8]
    }

    /// Runs `executable` with `arguments`, its output and errors written to `outputPath` and read
    /// back; `environment` replaces the inherited environment when given. The program stays in this
    /// process's group.
    public static func run(_ executable: String, _ arguments: [String], outputPath: String,
                           environment: [String: String]? = nil) throws(SpawnedProgram.LaunchError) -> Outcome {
        let run = try SpawnedProgram(executable: executable, arguments: arguments, environment: environment,
                                     output: .file(outputPath, append: false), newProcessGroup: false).run()
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        return Outcome(status: run.termination.status, output: output)
    }

    /// Runs `executable` with `arguments` and the inherited environment and returns its whole standard
    /// output (through a temporary file); standard error is discarded.
    public static func standardOutput(of executable: String, _ arguments: [String]) throws(SpawnedProgram.LaunchError) -> CapturedOutput {
        var template = Array((NSTemporaryDirectory() + "masterplan-out.XXXXXX").utf8CString)
        let fd = mkstemp(&template)
        guard fd >= 0 else { throw SpawnedProgram.LaunchError(executable: executable, operation: "mkstemp", code: errno) }
        close(fd)
        let path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        defer { unlink(path) }
        let run = try SpawnedProgram(executable: executable, arguments: arguments, environment: nil,
                                     output: .file(path, append: false), standardError: .discarded,
                                     newProcessGroup: false).run()
        return CapturedOutput(status: run.termination.status, bytes: [UInt8](FileManager.default.contents(atPath: path) ?? Data()))
    }
}
