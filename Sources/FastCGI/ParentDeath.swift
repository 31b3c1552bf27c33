internal import CFastCGI
import Glibc

/// Ties a forked worker's life to its supervisor's: a worker whose supervisor was killed (SIGKILL,
/// a crash) must not keep accepting requests on the inherited socket with nobody to replace, reload
/// or stop it.
public enum ParentDeath {
    /// Has the kernel send `signal` to this process when its parent dies (`prctl(PR_SET_PDEATHSIG)`),
    /// and exits at once if the parent is already gone — it may have died between `fork` and this
    /// call, before the request could take effect. Call it first thing in the child.
    public static func follow(parent: pid_t, with signal: Int32 = SIGKILL) {
        if masterplan_set_parent_death_signal(signal) != 0 || getppid() != parent {
            _exit(getppid() != parent ? 0 : 1)
        }
    }
}
