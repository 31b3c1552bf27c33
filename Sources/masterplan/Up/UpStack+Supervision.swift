import Foundation
import Glibc
import Store

/// Keeping the stack running: a child or the private PostgreSQL that dies is started again after a backoff.
extension UpStack {
    /// Watches the children until a stop signal (then stops everything and returns 0). A child that
    /// dies is started again after a backoff (1 s, doubling to 30 s; back to 1 s once it ran a
    /// minute), with what it left in its process group killed first; a private PostgreSQL that goes
    /// away is started again the same way. Each restart is printed.
    func supervise() -> Int32 {
        while true {
            if let signal = UpSignals.stopSignal {
                UpConsole.say("")
                UpConsole.say("\(UpSignals.name(signal)) received: stopping everything")
                stop()
                return 0
            }
            for (title, process) in children where pendingRestarts[process.name] == nil && process.poll() != nil {
                // An API pool's workers must not keep serving without their supervisor.
                process.killGroup()
                let delay = restartDelay(for: process)
                UpConsole.fail("masterplan up: the \(title) (pid \(process.pid)) \(process.endDescription) unexpectedly; "
                    + "restarting it in \(delay) s. The end of \(process.logPath):")
                UpConsole.fail(process.logTail())
                pendingRestarts[process.name] = (title, Date().addingTimeInterval(Double(delay)))
            }
            for (name, pending) in pendingRestarts where pending.due <= Date() {
                do {
                    let process = try restart(name)
                    pendingRestarts[name] = nil
                    UpConsole.say("masterplan up: restarted the \(pending.title) (pid \(process.pid))")
                } catch {
                    UpConsole.fail("masterplan up: cannot restart the \(pending.title): \(error); trying again in 5 s")
                    pendingRestarts[name] = (pending.title, Date().addingTimeInterval(5))
                }
            }
            superviseDatabase()
            usleep(200_000)
        }
    }

    /// Seconds before the child is started again: 1, 2, 4, … 30 for restarts in a row; a child that
    /// ran for a minute or more counts as healthy and starts the count again.
    private func restartDelay(for process: UpProcess) -> Int {
        var count = restartsInARow[process.name, default: 0]
        if Date().timeIntervalSince(process.startedAt) >= 60 { count = 0 }
        restartsInARow[process.name] = count + 1
        return min(30, 1 << min(count, 5))
    }

    /// Starts the child named `name` again, as it was first started.
    private func restart(_ name: String) throws -> UpProcess {
        guard let launch = launches[name] else { throw UpFailure("no record of how \(name) was started") }
        let process = try spawn(name, launch.arguments, launch.environment, executable: launch.executable)
        switch name {
        case "replay-llm": replay = process
        case "api": api = process
        case "events": relay = process
        case "executor": executor = process
        case "nginx": nginx = process
        default: break
        }
        return process
    }

    /// Notices a private PostgreSQL that went away and starts it again with backoff; adopts one that
    /// someone else started in the meantime (`pg_ctl restart`).
    private func superviseDatabase() {
        guard let cluster, let options = clusterOptions else { return }
        if let postmasterPID, kill(postmasterPID, 0) == 0 || errno == EPERM { return }
        if let running = Self.runningPostmaster(of: cluster) {
            if let outage = databaseOutage {
                UpConsole.say(String(format: "masterplan up: PostgreSQL is back (pid \(running)) after %.1f s", Date().timeIntervalSince(outage.since)))
            }
            postmasterPID = running
            databaseOutage = nil
            return
        }
        if databaseOutage == nil {
            UpConsole.fail("masterplan up: PostgreSQL (pid \(postmasterPID.map(String.init) ?? "?")) went away; starting it again in 1 s "
                + "(see \(cluster.logFile)). The other processes wait for it.")
            databaseOutage = (Date(), 0, Date().addingTimeInterval(1))
        }
        guard let outage = databaseOutage, outage.next <= Date() else { return }
        do {
            _ = try PrivateCluster.start(in: cluster.directory, options: options)
            postmasterPID = Self.runningPostmaster(of: cluster)
            UpConsole.say(String(format: "masterplan up: restarted PostgreSQL (pid \(postmasterPID.map(String.init) ?? "?")) after %.1f s",
                                 Date().timeIntervalSince(outage.since)))
            databaseOutage = nil
        } catch {
            let delay = min(30, 1 << min(outage.failures + 1, 5))
            UpConsole.fail("masterplan up: PostgreSQL did not start (\(error)); trying again in \(delay) s")
            databaseOutage = (outage.since, outage.failures + 1, Date().addingTimeInterval(Double(delay)))
        }
    }
}
