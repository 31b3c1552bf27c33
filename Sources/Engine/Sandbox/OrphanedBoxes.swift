import Foundation
import Glibc

/// Boxes whose executor is gone. A box's bubblewrap dies with the process that started it
/// (`--die-with-parent`), except when that process dies while the box is still being set up:
/// bubblewrap asks for that signal only once it runs, and a box started just before `kill -9` of
/// its executor can be left waiting for ever, adopted by init. The next executor of the same data
/// folder, and `masterplan up` when it stops, end them.
public enum OrphanedBoxes {
    /// Kills (SIGKILL) every bubblewrap process that init adopted (its parent is gone) and whose
    /// command line names a path under `folder`; returns their PIDs. Boxes with a live parent are
    /// never touched, so executors sharing the folder keep theirs.
    ///
    /// A box is two bubblewrap processes (the one started, and the box's init in its own PID
    /// namespace); when the first one dies, init adopts the second, so the scan is repeated until it
    /// finds nothing more (a few rounds at most).
    @discardableResult
    public static func reap(under folder: String, bubblewrap: String = "/usr/bin/bwrap") -> [pid_t] {
        let prefix = folder.hasSuffix("/") ? folder : folder + "/"
        var killed: [pid_t] = []
        for _ in 0..<5 {
            var round: [pid_t] = []
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
                guard let pid = pid_t(entry), pid != getpid(), !killed.contains(pid), parent(of: pid) == 1,
                      let arguments = commandLine(of: pid), let program = arguments.first,
                      program == bubblewrap || (program as NSString).lastPathComponent == "bwrap",
                      arguments.contains(where: { $0 == folder || $0.hasPrefix(prefix) }) else { continue }
                if kill(pid, SIGKILL) == 0 { round.append(pid) }
            }
            guard !round.isEmpty else { break }
            killed += round
            usleep(100_000)  // lets init adopt what the killed ones leave
        }
        return killed
    }

    /// The parent PID from `/proc/PID/stat` (after "pid (comm) state").
    static func parent(of pid: pid_t) -> pid_t? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 1 ? pid_t(fields[1]) : nil
    }

    /// The arguments from `/proc/PID/cmdline` (NUL-separated).
    static func commandLine(of pid: pid_t) -> [String]? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !data.isEmpty else { return nil }
        return data.split(separator: 0, omittingEmptySubsequences: false).dropLast().map { String(decoding: $0, as: UTF8.self) }
    }
}
