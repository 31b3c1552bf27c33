/// The smallest unit of execution: one task writing one file, produced by one LLM call (plus retries).
///
/// Its output is the full new content of `key.path`.
public struct Atom: Sendable, Hashable {
    public let key: AtomKey
    /// The task's complexity, which sets the atom's token estimate and part of its confidence.
    public let complexity: Complexity

    public init(key: AtomKey, complexity: Complexity) {
        self.key = key
        self.complexity = complexity
    }

    public var taskNumber: Int { key.taskNumber }
    public var path: String { key.path }
}
