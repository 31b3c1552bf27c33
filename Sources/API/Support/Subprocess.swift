import Foundation

/// Runs a program to completion with `posix_spawn` and collects its standard output (through a
/// temporary file, so a large output cannot block on a full pipe). Standard error is discarded.
enum Subprocess {
    struct Outcome {
        /// Exit status, or 128 + the signal number.
        var status: Int32
        var output: [UInt8]
    }

    struct SpawnFailed: Error, CustomStringConvertible {
        var executable: String
        var code: Int32
        var description: String { "cannot start \(executable): \(String(cString: strerror(code)))" }
    }

    static func output(of executable: String, _ arguments: [String]) throws -> Outcome {
        var template = Array((NSTemporaryDirectory() + "masterplan-out.XXXXXX").utf8CString)
        let fd = mkstemp(&template)
        guard fd >= 0 else { throw SpawnFailed(executable: executable, code: errno) }
        let path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        defer {
            close(fd)
            unlink(path)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, fd, 1)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let code = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard code == 0 else { throw SpawnFailed(executable: executable, code: code) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exit: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let data = FileManager.default.contents(atPath: path) ?? Data()
        return Outcome(status: exit, output: [UInt8](data))
    }
}
