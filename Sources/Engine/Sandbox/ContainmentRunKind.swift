/// The kinds of sandboxed run the engine makes, each with the workspace view and the limits the engine
/// gives it: the containment check probes every one as it really runs.
public enum ContainmentRunKind: String, Sendable, Hashable, CaseIterable {
    /// A validator (`Validators`): the workspace read-only, `SandboxLimits.validator`.
    case validator
    /// An acceptance test (`AcceptanceTestRunner`): the box's own size-limited copy of the workspace shown
    /// at its path, the installed dependencies bound read-only, `SandboxLimits.acceptanceTest` without network.
    case acceptanceTest = "test"
    /// The install step's fetch box (`PythonDependencyInstall`): network, and only an empty download
    /// folder of the engine's, writable.
    case dependencyFetch = "fetch"
    /// The install step's install box (`PythonDependencyInstall`): no network, an empty target folder
    /// writable and the downloads read-only.
    case dependencyInstall = "install"

    /// The limits the engine runs this kind with.
    public var limits: SandboxLimits {
        switch self {
        case .validator:
            return .validator
        case .acceptanceTest:
            var limits = SandboxLimits.acceptanceTest
            limits.network = false
            return limits
        case .dependencyFetch:
            return PythonDependencyInstall.fetchLimits
        case .dependencyInstall:
            return PythonDependencyInstall.installLimits
        }
    }
}
