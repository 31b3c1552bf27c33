/// A step inside a task; subtasks are not executed on their own but give the atom's prompt its detail.
public struct Subtask: Sendable, Hashable {
    /// Unique within its task.
    public var number: Int
    public var name: String
    public var description: String

    public init(number: Int, name: String, description: String) {
        self.number = number
        self.name = name
        self.description = description
    }
}
