import Glibc
import Synchronization

/// The stop request of `masterplan up`: INT, TERM, QUIT and HUP set it from a signal handler; the
/// setup steps and the supervision loop look at it.
enum UpSignals {
    /// The number of the first stop signal received, 0 while none has come.
    static let received = Atomic<Int32>(0)
    /// How many stop signals came (a second Ctrl-C while stopping kills what is left).
    static let counter = Atomic<Int>(0)

    /// Installs the handlers (`sigaction` without `SA_RESTART`, so a sleeping `poll` or `waitpid`
    /// returns at once) and ignores SIGPIPE (a probe's peer may close early).
    static func install() {
        // The static is initialised lazily (swift_once), which is not safe inside a handler: touch it first.
        received.store(0, ordering: .relaxed)
        counter.store(0, ordering: .relaxed)
        for signal in [SIGINT, SIGTERM, SIGQUIT, SIGHUP] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { number in
                _ = UpSignals.received.compareExchange(expected: 0, desired: number, ordering: .relaxed)
                UpSignals.counter.add(1, ordering: .relaxed)
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0
            sigaction(signal, &action, nil)
        }
        signal(SIGPIPE, SIG_IGN)
    }

    /// The stop signal received so far, if any.
    static var stopSignal: Int32? {
        let number = received.load(ordering: .relaxed)
        return number == 0 ? nil : number
    }

    static var count: Int { counter.load(ordering: .relaxed) }

    /// A signal's conventional name, for the console.
    static func name(_ number: Int32) -> String {
        switch number {
        case SIGINT: "SIGINT"
        case SIGTERM: "SIGTERM"
        case SIGQUIT: "SIGQUIT"
        case SIGHUP: "SIGHUP"
        default: "signal \(number)"
        }
    }
}
