/// The sandbox cannot be used on this machine; nothing may then run unsandboxed.
public struct SandboxError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// A program the sandbox needs (bwrap, prlimit, setpriv) is missing.
        case missingProgram
        /// A configuration value is unusable.
        case invalidConfiguration
        /// This machine's architecture has no seccomp system call table (`SeccompFilter`).
        case unsupportedArchitecture
    }

    public var kind: Kind
    public var message: String

    public init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
