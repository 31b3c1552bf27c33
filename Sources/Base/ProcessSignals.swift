import Glibc
import Synchronization

/// Flags set by signal handlers and read by the loops of a process that is one plain thread at
/// heart: the API's prefork supervisor, its workers, the relay.
///
/// `Atomic` stores are async-signal-safe. The statics are initialised lazily (`swift_once`), which
/// is not safe inside a handler, so `prepare()` touches every one of them before any handler is
/// installed.
public enum ProcessSignals {
    /// SIGTERM or SIGINT: stop fast.
    public static let terminate = Atomic<Bool>(false)
    /// SIGQUIT: stop gracefully, after the requests in flight.
    public static let quit = Atomic<Bool>(false)
    /// SIGHUP: replace the workers one by one.
    public static let reload = Atomic<Bool>(false)
    /// SIGALRM: a deadline the supervisor set has passed.
    public static let alarm = Atomic<Bool>(false)

    public static func prepare() {
        terminate.store(false, ordering: .relaxed)
        quit.store(false, ordering: .relaxed)
        reload.store(false, ordering: .relaxed)
        alarm.store(false, ordering: .relaxed)
    }

    /// Installs `handler` for `signal` with `sigaction` and no `SA_RESTART`, so a blocking `waitpid`,
    /// `poll` or `accept` returns `EINTR` and the loop looks at its flags.
    public static func install(_ signal: Int32, _ handler: @convention(c) (Int32) -> Void) {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = handler
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        sigaction(signal, &action, nil)
    }

    /// Sets `signal` back to its default action (or ignores it).
    public static func reset(_ signal: Int32, ignore: Bool = false) {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = ignore ? SIG_IGN : SIG_DFL
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        sigaction(signal, &action, nil)
    }

    /// Blocks (true) or unblocks (false) `signals` for the calling thread.
    public static func setBlocked(_ signals: [Int32], _ blocked: Bool) {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in signals { sigaddset(&set, signal) }
        pthread_sigmask(blocked ? SIG_BLOCK : SIG_UNBLOCK, &set, nil)
    }
}
