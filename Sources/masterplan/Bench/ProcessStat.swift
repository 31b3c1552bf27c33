import Foundation

/// One process's `/proc/PID/stat` and `/proc/PID/status` (proc(5)), read for the benches' CPU and memory figures.
struct ProcessStat {
    /// The fields after the command name (which may hold spaces and parentheses): index 0 is proc(5)'s
    /// field 3 (the state), 1 the parent's pid, 11 to 14 utime, stime, cutime and cstime in clock ticks.
    private let fields: [Substring]

    static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    /// Reads `/proc/PID/stat` (`pid` may be `self`); nil when the process is gone.
    init?(pid: String) {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        fields = text[text.index(after: close)...].split(separator: " ")
    }

    var parent: pid_t? { fields.count > 1 ? pid_t(fields[1]) : nil }

    /// CPU seconds: its own in user and system mode, and those of its reaped children; nil for a short line.
    var cpuSeconds: (user: Double, system: Double, childrenUser: Double, childrenSystem: Double)? {
        guard fields.count > 14 else { return nil }
        let seconds = (11...14).map { (Double(fields[$0]) ?? 0) / Self.ticksPerSecond }
        return (seconds[0], seconds[1], seconds[2], seconds[3])
    }

    /// Its own CPU seconds (user + system), 0 when it cannot be read.
    static func cpuSeconds(_ pid: pid_t) -> Double {
        ProcessStat(pid: String(pid))?.cpuSeconds.map { $0.user + $0.system } ?? 0
    }

    /// Every process of the machine that runs now.
    static func all() -> [(pid: pid_t, stat: ProcessStat)] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { entry in
            guard let pid = pid_t(entry), let stat = ProcessStat(pid: entry) else { return nil }
            return (pid, stat)
        }
    }

    static func children(of parent: pid_t) -> [pid_t] {
        all().filter { $0.stat.parent == parent }.map(\.pid)
    }

    /// The numeric fields of `/proc/PID/status` (`pid` may be `self`): the `kB` ones in megabytes, the others as numbers.
    static func status(of pid: String) -> [String: Double] {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return [:] }
        var fields: [String: Double] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let words = parts[1].split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let number = words.first.flatMap({ Double($0) }) else { continue }
            fields[String(parts[0])] = words.count > 1 && words[1] == "kB" ? number / 1024 : number
        }
        return fields
    }
}
