import Foundation
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A long-running child process started with posix_spawn, its standard output on a pipe, stopped by
/// its PID (Foundation's Process was seen to hang on wait here).
final class SpawnedProcess: @unchecked Sendable {
    // @unchecked Sendable: a test uses its process from one task at a time (each call is awaited
    // before the next), so the mutable buffer and flag are never touched concurrently.
    let pid: pid_t
    private let output: Int32
    private var pending: [UInt8] = []
    private var exited = false

    init(_ executable: String, _ arguments: [String], environment: [String: String]) throws {
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else { throw POSIXFailure("pipe") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 1)
        posix_spawn_file_actions_addclose(&actions, pipeEnds[0])
        posix_spawn_file_actions_addclose(&actions, pipeEnds[1])
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child: pid_t = 0
        let status = posix_spawn(&child, executable, &actions, nil, argv, envp)
        close(pipeEnds[1])
        guard status == 0 else {
            close(pipeEnds[0])
            errno = status
            throw POSIXFailure("posix_spawn \(executable)")
        }
        pid = child
        output = pipeEnds[0]
    }

    /// The next line of standard output (without the newline), waiting up to `timeout`; nil at end of output.
    func readLine(timeout: Duration = .seconds(30)) throws -> String? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                return line
            }
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { throw POSIXFailure("no line from the child within the timeout") }
            var poller = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(remaining.components.seconds * 1000 + 1))
            if ready < 0, errno == EINTR { continue }
            guard ready > 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = read(output, &buffer, buffer.count)
            if count <= 0 {
                if pending.isEmpty { return nil }
                defer { pending.removeAll() }
                return String(decoding: pending, as: UTF8.self)
            }
            pending.append(contentsOf: buffer[0..<count])
        }
    }

    /// Sends SIGTERM and waits for the exit; returns the wait status.
    @discardableResult
    func terminate() -> Int32 {
        guard !exited else { return 0 }
        exited = true
        kill(pid, SIGTERM)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        close(output)
        return status
    }

    deinit { terminate() }
}
