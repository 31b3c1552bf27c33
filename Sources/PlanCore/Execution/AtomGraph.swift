/// The dependency graph of a plan's atoms, over atom indices: an edge `a → b` means b depends on a (a runs first).
///
/// Built only by `ExecutionPlan`, from a validated plan, so it is acyclic and its index order is a
/// topological order.
public struct AtomGraph: Sendable, Hashable {
    /// For each atom, the atoms it depends on, ascending.
    public let predecessors: [[Int]]
    /// For each atom, the atoms that depend on it, ascending.
    public let successors: [[Int]]

    init(predecessors: [[Int]]) {
        var successors = [[Int]](repeating: [], count: predecessors.count)
        for (node, incoming) in predecessors.enumerated() {
            for source in incoming { successors[source].append(node) }
        }
        self.predecessors = predecessors
        self.successors = successors
    }

    public var nodeCount: Int { predecessors.count }

    public var edgeCount: Int { predecessors.reduce(0) { $0 + $1.count } }

    /// Every edge as (from, to), ordered by `to` then `from`.
    public var edges: [(from: Int, to: Int)] {
        var result: [(from: Int, to: Int)] = []
        result.reserveCapacity(edgeCount)
        for (node, incoming) in predecessors.enumerated() {
            for source in incoming { result.append((source, node)) }
        }
        return result
    }

    public func hasEdge(from source: Int, to target: Int) -> Bool {
        predecessors[target].contains(source)
    }
}
