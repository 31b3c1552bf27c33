import Foundation

/// Runs a program to completion with `posix_spawn` and `waitpid`, its output going to a file.
///
/// Foundation's `Process.waitUntilExit` was seen to hang here (the child stayed a zombie) when the
/// child left a daemon behind (`pg_ctl start`), so this waits with `waitpid` itself. Output goes to
/// a file rather than a pipe, so a daemon that inherits it cannot block the reader.
public enum ChildProcess {
    public struct Outcome: Sendable {
        /// The exit status, or 128 + the signal number when a signal ended it.
        public var status: Int32
        /// Standard output and standard error, interleaved.
        public var output: String
    }

    /// Runs `executable` with `arguments`; `environment` replaces the inherited environment when given.
    public static func run(_ executable: String, _ arguments: [String], outputPath: String,
                           environment: [String: String]? = nil) throws -> Outcome {
        var fileActions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fileActions)
        defer { posix_spawn_file_actions_destroy(&fileActions) }
        posix_spawn_file_actions_addopen(&fileActions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&fileActions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&fileActions, 1, 2)

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let envp: [UnsafeMutablePointer<CChar>?]? = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer { envp?.forEach { free($0) } }
        let rc = envp.map { posix_spawn(&pid, executable, &fileActions, nil, argv, $0) } ?? posix_spawn(&pid, executable, &fileActions, nil, argv, environ)
        guard rc == 0 else {
            throw PrivateClusterError(message: "cannot start \(executable): \(String(cString: strerror(rc)))")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else {
                throw PrivateClusterError(message: "waiting for \(executable) failed: \(String(cString: strerror(errno)))")
            }
        }
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        // WIFEXITED / WEXITSTATUS are macros; decode the status word by hand.
        let exitStatus: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Outcome(status: exitStatus, output: output)
    }
}
