/// How ``Request/waitForHangup(watching:timeout:)`` ended.
public enum HangupWaitResult: Sendable, Equatable {
    /// The web server closed the FastCGI connection: the client went away. Stop writing, `finish()`.
    case clientGone
    /// One or more of the watched descriptors became readable (or hung up); they are listed.
    case ready([Int32])
    /// The timeout passed with the client still connected (time for a heartbeat).
    case timedOut
    /// A signal interrupted the wait; check your stop flag and wait again.
    case interrupted
}
