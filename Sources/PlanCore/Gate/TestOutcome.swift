/// How one run of an acceptance test ended (the `test_runs.status` column).
public enum TestOutcome: String, JSONEnumeration {
    case pass
    case fail
    /// The test could not run properly (an import error, a crash of the runner).
    case error
    case timeout
}
