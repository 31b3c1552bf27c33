import Glibc

/// Thrown by a setup step when a stop signal arrived while it ran.
struct UpInterrupted: Error {
    var signal: Int32
}
