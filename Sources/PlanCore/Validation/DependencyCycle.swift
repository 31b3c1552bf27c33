/// A circle of task dependencies: no task in it can ever start.
public struct DependencyCycle: Sendable, Hashable, CustomStringConvertible {
    /// Task numbers in dependency order, the first repeated at the end: `[12, 15, 12]` means task 12
    /// depends on 15, which depends on 12. It starts at the smallest number of its component and is
    /// the shortest such circle, so the same plan always yields the same cycle.
    public var path: [Int]
    /// Every task caught in the same strongly connected component (sorted), which may be more than
    /// the one circle named in `path`.
    public var members: [Int]

    public init(path: [Int], members: [Int]) {
        self.path = path
        self.members = members
    }

    /// `12 → 15 → 12`.
    public var description: String { path.map(String.init).joined(separator: " → ") }
}
