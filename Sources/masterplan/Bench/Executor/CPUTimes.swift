import Foundation

/// CPU seconds used so far by this process, by its reaped children (git), and by the private
/// PostgreSQL cluster (the postmaster, its live children and the backends it has reaped), from `/proc`.
struct CPUTimes {
    var user = 0.0
    var system = 0.0
    var children = 0.0
    var database: Double?

    static func now(postmaster: pid_t?) -> CPUTimes {
        var times = CPUTimes()
        if let own = ProcessStat(pid: "self")?.cpuSeconds {
            times.user = own.user
            times.system = own.system
            times.children = own.childrenUser + own.childrenSystem
        }
        if let postmaster, let main = ProcessStat(pid: String(postmaster))?.cpuSeconds {
            var total = main.user + main.system + main.childrenUser + main.childrenSystem
            for (_, stat) in ProcessStat.all() where stat.parent == postmaster {
                total += stat.cpuSeconds.map { $0.user + $0.system } ?? 0
            }
            times.database = total
        }
        return times
    }

    static func - (after: CPUTimes, before: CPUTimes) -> CPUTimes {
        CPUTimes(user: after.user - before.user, system: after.system - before.system, children: after.children - before.children,
                 database: after.database.flatMap { a in before.database.map { a - $0 } })
    }
}
