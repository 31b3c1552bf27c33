/// One checkable statement a task must or should satisfy; acceptance tests are written against these.
public struct AcceptanceCriterion: Sendable, Hashable {
    public var priority: CriterionPriority
    /// The statement itself, e.g. "POST /auth/login with a wrong password answers 401".
    public var text: String

    public init(priority: CriterionPriority, text: String) {
        self.priority = priority
        self.text = text
    }
}
