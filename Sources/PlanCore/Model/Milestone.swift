/// A group of tasks inside a phase that together deliver something a user could see.
public struct Milestone: Sendable, Hashable {
    /// Unique within its phase.
    public var number: Int
    public var name: String
    public var description: String
    public var tasks: [PlanTask]

    public init(number: Int, name: String, description: String, tasks: [PlanTask]) {
        self.number = number
        self.name = name
        self.description = description
        self.tasks = tasks
    }
}
