import Glibc

/// A child started by `SpawnedProgram.start()`: signalled and reaped by its PID, and, when it leads a
/// process group, found with whatever it started by the group id (which is the PID).
///
/// Not `Sendable`: one thread supervises a child (polls, signals, reaps it).
public final class RunningProgram {
    public let pid: pid_t
    /// Whether the child leads a process group of its own.
    public let leadsGroup: Bool
    /// How it ended, once it was reaped here.
    public private(set) var termination: SpawnedProgram.Termination?

    init(pid: pid_t, leadsGroup: Bool) {
        self.pid = pid
        self.leadsGroup = leadsGroup
    }

    /// How it ended, reaping it; nil while it runs. Never blocks.
    @discardableResult
    public func poll() -> SpawnedProgram.Termination? {
        if termination == nil, let word = SpawnedProgram.reap(pid, blocking: false) {
            termination = SpawnedProgram.Termination(waitStatus: word)
        }
        return termination
    }

    /// Waits until it ends and reaps it.
    @discardableResult
    public func wait() -> SpawnedProgram.Termination {
        if let termination { return termination }
        let ended = SpawnedProgram.Termination(waitStatus: SpawnedProgram.reap(pid, blocking: true) ?? 0)
        termination = ended
        return ended
    }

    /// True until the child has exited (and was reaped here).
    public var isRunning: Bool { poll() == nil }

    /// Sends `signal` to the child (by PID) if it still runs.
    public func send(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// Whether anything is left in the child's process group (the child or what it started).
    public var groupIsAlive: Bool { leadsGroup ? kill(-pid, 0) == 0 : isRunning }

    /// SIGKILLs whatever is left in the child's process group (the child alone when it leads none),
    /// and reaps the child if it has ended.
    public func killGroup() {
        if leadsGroup {
            if groupIsAlive { kill(-pid, SIGKILL) }
        } else {
            send(SIGKILL)
        }
        poll()
    }
}
