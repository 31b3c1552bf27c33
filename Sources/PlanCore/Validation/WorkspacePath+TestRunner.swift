extension WorkspacePath {
    /// A file that the test runner (pytest, Node.js's module lookup) or the Python interpreter acts on
    /// because of its name alone.
    ///
    /// pytest loads conftest.py files and reads its configuration files from the tests' folders and the
    /// project root; the interpreter runs sitecustomize, usercustomize and `.pth` files when it starts; a
    /// module named like the runner's own is imported in its place; installed-package metadata declares
    /// the plugins the runner loads; the runner's cache decides what its next run does. Project code needs
    /// none of these, and each would let generated code change how the acceptance tests run.
    public enum RunnerFile: Sendable, Hashable {
        /// `conftest.py`: plugin code pytest loads from every folder on the way to a test.
        case conftest
        /// `pytest.ini`, `.pytest.ini`, `pytest.toml`, `.pytest.toml` or `tox.ini`.
        case runnerConfiguration
        /// A `.pth` file (`._pth` on Windows): its `import` lines run when the interpreter starts.
        case startupHook
        /// A module or package named `sitecustomize` or `usercustomize`, imported when the interpreter starts.
        case startupModule(name: String)
        /// A module or package named `pytest`, `py`, `_pytest` or `pluggy`.
        case runnerModule(name: String)
        /// A file inside `.pytest_cache/`.
        case runnerCache
        /// A file inside (or named) `*.dist-info` or `*.egg-info`.
        case packageMetadata
        /// A file inside `.masterplan/`, where the engine keeps the installed dependencies and its markers.
        case engineFolder
        /// A file inside `node_modules/`, where Node.js finds packages (and any name the tests import).
        case nodeModules

        /// What the file would do, said after its quoted path: "would configure the test runner; …".
        public var consequence: String {
            switch self {
            case .conftest, .runnerConfiguration:
                return "would configure the test runner; acceptance tests run with the engine's own setup"
            case .startupHook, .startupModule:
                return "would run when the Python interpreter starts, in every process and before any test"
            case .runnerModule(let name):
                return "would be imported instead of the test runner's own module \(name)"
            case .runnerCache:
                return "is inside the test runner's cache, which decides what its next run does"
            case .packageMetadata:
                return "is installed-package metadata, from which the test runner loads plugins"
            case .engineFolder:
                return "is inside .masterplan/, where the engine keeps the installed dependencies the tests import"
            case .nodeModules:
                return "is inside node_modules/, where Node.js finds the packages the tests import"
            }
        }

        /// What a plan should do instead.
        public var remedy: String {
            switch self {
            case .conftest, .startupHook: return "name the file differently"
            case .startupModule, .runnerModule: return "name the module differently"
            case .runnerConfiguration: return "leave runner configuration out of the project"
            case .runnerCache: return "tasks must not write there"
            case .packageMetadata: return "list dependencies in the dependency manifest instead"
            case .engineFolder: return "tasks must not write there"
            case .nodeModules: return "use Node's standard library; MasterPlan installs no npm packages"
            }
        }
    }

    /// pytest's own configuration files; `pyproject.toml` and `setup.cfg` configure it only with a
    /// pytest section, which the engine's tamper check looks for in their content.
    static let runnerConfigurationNames: Set<String> = ["pytest.ini", ".pytest.ini", "pytest.toml", ".pytest.toml", "tox.ini"]

    /// Modules the interpreter imports at start-up when it finds them on its path.
    static let startupModules: Set<String> = ["sitecustomize", "usercustomize"]

    /// The runner's top-level modules: pytest, its internals, the `py` shim it ships and its plugin system.
    static let runnerModules: Set<String> = ["pytest", "py", "_pytest", "pluggy"]

    /// What `path` is to the test runner or the interpreter, or nil for an ordinary file. Names compare
    /// without case, as on a case-insensitive file system; a module name counts in any folder, because
    /// the runner and project code may put any folder on the import path.
    public static func runnerFile(_ path: String) -> RunnerFile? {
        let components = path.split(separator: "/").map { $0.lowercased() }
        guard let name = components.last else { return nil }
        for component in components {
            if component == ".pytest_cache" { return .runnerCache }
            if component == ".masterplan" { return .engineFolder }
            if component == "node_modules" { return .nodeModules }
            if component.hasSuffix(".dist-info") || component.hasSuffix(".egg-info") { return .packageMetadata }
        }
        // The module's own name and the packages it is in; a folder makes a package only when it holds
        // modules, so a README in a folder named "py" shadows nothing.
        if isModuleFileName(name) {
            for module in components.dropLast() + [String(name.prefix { $0 != "." })] {
                if startupModules.contains(module) { return .startupModule(name: module) }
                if runnerModules.contains(module) { return .runnerModule(name: module) }
            }
        }
        if name == "conftest.py" { return .conftest }
        if runnerConfigurationNames.contains(name) { return .runnerConfiguration }
        if name.hasSuffix(".pth") || name.hasSuffix("._pth") { return .startupHook }
        return nil
    }

    /// Whether a lowercased file name is one Python can import as a module: source, bytecode or an
    /// extension module (`x.py`, `x.pyc`, `x.cpython-311-x86_64-linux-gnu.so`, `x.pyd`).
    static func isModuleFileName(_ name: String) -> Bool {
        guard let dot = name.firstIndex(of: ".") else { return false }
        let rest = name[name.index(after: dot)...]
        return ["py", "pyw", "pyc", "pyo", "pyd", "so"].contains(rest) || rest.hasSuffix(".so") || rest.hasSuffix(".pyd")
    }

    /// The first rule a file of the project — one a task writes or an acceptance test's — breaks: the
    /// path rules of `violation(of:limits:)`, then the names the test runner and the interpreter act on.
    ///
    /// The workspace itself checks only `violation(of:limits:)`, so that the engine can still read, check
    /// and commit such a file if one ever reaches the disk.
    public static func projectFileViolation(of path: String, limits: PlanLimits = .default) -> Violation? {
        if let violation = violation(of: path, limits: limits) { return violation }
        return runnerFile(path).map { .runnerFile(path: path, kind: $0) }
    }
}
