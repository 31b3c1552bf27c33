/// An executable acceptance test generated with the plan, frozen at approval and run by Gate S.
///
/// A test is due once every task it covers is done. Its priority decides which Gate S threshold it
/// counts toward (MUST 100 %, SHOULD 95 %).
public struct AcceptanceTest: Sendable, Hashable {
    /// Unique within the plan, e.g. "test_login_rejects_wrong_password".
    public var name: String
    public var priority: CriterionPriority
    /// Numbers of the tasks whose criteria this test checks.
    public var covers: [Int]
    /// Where the test file lives, relative to the workspace root; no task may write it.
    public var file: String
    /// The full content of the test file.
    public var code: String

    public init(name: String, priority: CriterionPriority, covers: [Int], file: String, code: String) {
        self.name = name
        self.priority = priority
        self.covers = covers
        self.file = file
        self.code = code
    }
}
