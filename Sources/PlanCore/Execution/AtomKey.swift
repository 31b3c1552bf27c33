/// What identifies an atom in a plan: the task and the one file it writes.
public struct AtomKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var taskNumber: Int
    public var path: String

    public init(taskNumber: Int, path: String) {
        self.taskNumber = taskNumber
        self.path = path
    }

    /// By task number, then path.
    public static func < (lhs: AtomKey, rhs: AtomKey) -> Bool {
        lhs.taskNumber != rhs.taskNumber ? lhs.taskNumber < rhs.taskNumber : lhs.path < rhs.path
    }

    /// `task 12: src/app.py`.
    public var description: String { "task \(taskNumber): \(path)" }
}
