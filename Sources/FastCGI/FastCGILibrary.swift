internal import CFastCGI
import Base
import Glibc

/// Process-wide set-up of libfcgi: initialisation and the signal handlers it installs.
///
/// ## Signals (read this before writing a worker pool)
/// `FCGX_Init` installs handlers for SIGPIPE, SIGUSR1 and SIGTERM, but only for signals whose
/// disposition is still the default at that moment. Its SIGTERM/SIGUSR1 handler only sets a
/// library-internal "shutdown pending" flag and, because it is installed without `SA_RESTART`,
/// interrupts the `accept` of whichever thread the kernel delivers the signal to. Measured on this
/// machine: a process with several threads did not exit on SIGTERM until SIGTERM was reset, and a
/// single-threaded worker's next `accept()` fails (`FastCGIError.acceptInterrupted`) instead of
/// exiting. Children inherit these handlers across `fork`.
///
/// A supervisor that wants php-fpm semantics (TERM/INT fast, QUIT graceful) should call
/// ``resetSignalHandlers()`` after ``initialize()`` and install its own handlers (a C-convention
/// closure that stores into an `Atomic`), creating its `Request`s with `interruptibleAccept: true`
/// so that a signal makes a blocked `accept()` throw `.acceptInterrupted` and the loop can look at
/// its flag. SIGPIPE stays ignored either way, so a write to a gone client fails with `EPIPE`
/// (`FastCGIError.clientGone`) instead of killing the process.
public enum FastCGILibrary {
    /// The result of the one `FCGX_Init` call; a `static let` is initialised exactly once, thread-safely.
    private static let initializationCode: Int32 = {
        // Ignored before FCGX_Init, so libfcgi leaves SIGPIPE alone and writes to a gone client
        // return EPIPE in every thread.
        _ = signal(SIGPIPE, SIG_IGN)
        return FCGX_Init()
    }()

    /// Initialises libfcgi once per process (later calls do nothing) and ignores SIGPIPE. Calls
    /// `FCGX_Init`.
    ///
    /// `ListeningSocket` and `Request` call this themselves; call it explicitly to control when
    /// libfcgi installs its signal handlers (see the type's documentation).
    public static func initialize() throws(FastCGIError) {
        let code = initializationCode
        guard code == 0 else { throw .initializationFailed(code: code) }
    }

    /// Undoes libfcgi's signal handling: SIGTERM and SIGUSR1 back to their default action (the
    /// process ends), SIGPIPE ignored. Calls `sigaction`.
    ///
    /// Call it after ``initialize()``; install your own handlers afterwards if you want them.
    public static func resetSignalHandlers() throws(FastCGIError) {
        try initialize()
        try setDisposition(SIGTERM, to: SIG_DFL)
        try setDisposition(SIGUSR1, to: SIG_DFL)
        try setDisposition(SIGPIPE, to: SIG_IGN)
    }

    /// ``resetSignalHandlers()`` for a daemon's start: a failure is logged (`cannot set up signals`)
    /// and answered false, and the daemon exits with status 1.
    public static func takeOverSignals() -> Bool {
        do {
            try resetSignalHandlers()
            return true
        } catch {
            Log.error("cannot set up signals", ["error": error.description])
            return false
        }
    }

    /// True when SIGPIPE is currently ignored in this process (so writes to a gone client return
    /// `EPIPE`). Calls `sigaction`.
    public static var isSIGPIPEIgnored: Bool {
        var current = sigaction()
        guard sigaction(SIGPIPE, nil, &current) == 0 else { return false }
        // C function pointers are not Equatable in Swift; compare their addresses (SIG_IGN is 1).
        return unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self)
    }

    private static func setDisposition(_ signalNumber: Int32, to handler: __sighandler_t?) throws(FastCGIError) {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = handler
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        guard sigaction(signalNumber, &action, nil) == 0 else {
            throw .systemCallFailed(call: "sigaction(\(signalNumber))", path: nil, errno: errno)
        }
    }
}
