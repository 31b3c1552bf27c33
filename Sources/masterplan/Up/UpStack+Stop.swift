import Engine
import Foundation
import Glibc

/// Stopping the stack in order: the processes that talk to the database and the model, the model, the database last.
extension UpStack {
    /// Stops every child and waits for it: nginx, the relay, the API pool and the executor first
    /// (the executor stops at its next checkpoint), then the demo model, then PostgreSQL. Whatever a
    /// child leaves in its process group is killed. Safe to call more than once.
    func stop() {
        guard !stopped else { return }
        stopped = true
        let startedSomething = cluster != nil || !children.isEmpty
        let signalsAtStart = UpSignals.count
        // Phase 1: everything that talks to the database or to the model.
        var first: [(UpProcess, Int32)] = []
        if let nginx { first.append((nginx, SIGQUIT)) }        // graceful: finish the requests in flight
        if let relay { first.append((relay, SIGTERM)) }        // closes the streams; browsers reconnect later
        if let api { first.append((api, SIGQUIT)) }            // graceful: after the requests in flight
        if let executor { first.append((executor, SIGTERM)) }  // stops at the next checkpoint
        for (process, signal) in first { process.send(signal) }
        waitFor(first.map(\.0), escalateAfter: 10, killAfter: 25, signalsAtStart: signalsAtStart)
        // Phase 2: the model the executor talked to.
        if let replay {
            replay.send(SIGTERM)
            waitFor([replay], escalateAfter: 5, killAfter: 10, signalsAtStart: signalsAtStart)
        }
        // Boxes of an executor killed while one was being set up (see OrphanedBoxes).
        let orphans = OrphanedBoxes.reap(under: layout.dataDirectory)
        if !orphans.isEmpty { UpConsole.say("  killed \(orphans.count) box(es) left behind by a killed executor") }
        // Anything a child left in its group (an API worker whose supervisor was killed, …).
        for (title, process) in children where process.groupIsAlive {
            UpConsole.say("  killing what the \(title) left behind (process group \(process.pid))")
            process.killGroup()
        }
        // Phase 3: the database, last.
        if let cluster {
            do {
                try cluster.stop()
            } catch {
                UpConsole.fail("masterplan up: pg_ctl stop -m fast failed (\(error)); stopping PostgreSQL immediately")
                try? cluster.stop(immediate: true)
            }
        }
        if lockDescriptor >= 0 {
            close(lockDescriptor)
            lockDescriptor = -1
        }
        guard startedSomething else { return }
        for path in [layout.apiSocket, layout.eventsSocket, layout.childrenFile] { unlink(path) }
        UpConsole.say("stopped: every process of this stack has exited")
    }

    /// Waits for `processes` to exit; sends SIGTERM to those left after `escalateAfter` seconds and
    /// SIGKILL after `killAfter` (or at once on another Ctrl-C).
    private func waitFor(_ processes: [UpProcess], escalateAfter: Double, killAfter: Double, signalsAtStart: Int) {
        let start = Date()
        var escalated = false
        var announced = false
        while processes.contains(where: \.isRunning) {
            let elapsed = Date().timeIntervalSince(start)
            let impatient = UpSignals.count > signalsAtStart
            if elapsed >= killAfter || impatient {
                for process in processes where process.isRunning {
                    UpConsole.say("  killing \(process.name) (pid \(process.pid))\(impatient ? ": asked again" : ": it did not stop in time")")
                    process.killGroup()
                }
                break
            }
            if elapsed >= escalateAfter && !escalated {
                escalated = true
                for process in processes where process.isRunning { process.send(SIGTERM) }
            }
            if elapsed >= 2 && !announced {
                announced = true
                let waiting = processes.filter(\.isRunning).map { "\($0.name) \($0.pid)" }.joined(separator: ", ")
                UpConsole.say("  waiting for \(waiting) (Ctrl-C again to kill)")
            }
            usleep(50_000)
        }
    }
}
