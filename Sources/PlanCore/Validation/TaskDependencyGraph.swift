/// The tasks of a plan and their dependencies, as a graph over task positions (document order).
///
/// Only resolvable dependencies are edges: a dependency on a missing number, on the task itself, or
/// listed twice is reported by `PlanValidator` and left out here. When two tasks share a number,
/// dependencies resolve to the first.
public struct TaskDependencyGraph: Sendable {
    /// Task numbers by position.
    public let numbers: [Int]
    /// For each position, the positions it depends on (distinct, in the order listed).
    public let dependencies: [[Int]]
    /// For each position, the positions that depend on it.
    public let dependents: [[Int]]
    let positionByNumber: [Int: Int]

    public init(tasks: [PlanTask]) {
        var positionByNumber: [Int: Int] = [:]
        positionByNumber.reserveCapacity(tasks.count)
        for (position, task) in tasks.enumerated() where positionByNumber[task.number] == nil {
            positionByNumber[task.number] = position
        }
        var dependencies = [[Int]](repeating: [], count: tasks.count)
        var dependents = [[Int]](repeating: [], count: tasks.count)
        for (position, task) in tasks.enumerated() {
            var seen: Set<Int> = []
            for number in task.dependsOn {
                guard let target = positionByNumber[number], target != position, seen.insert(target).inserted else { continue }
                dependencies[position].append(target)
                dependents[target].append(position)
            }
        }
        self.numbers = tasks.map(\.number)
        self.dependencies = dependencies
        self.dependents = dependents
        self.positionByNumber = positionByNumber
    }

    /// Positions in execution order — every task after all its dependencies, and among the tasks ready
    /// at the same time the smallest number first — or nil when there is a cycle.
    ///
    /// When the planner numbers tasks in dependency order (the usual case) this is simply ascending
    /// task number.
    public func executionOrder() -> [Int]? {
        let (order, _) = kahn()
        return order.count == numbers.count ? order : nil
    }

    /// One cycle per strongly connected component that holds a circle, ordered by smallest member.
    ///
    /// A task that depends on itself is not an edge here; `PlanValidator` reports it on its own.
    public func cycles() -> [DependencyCycle] {
        orderOrCycles().cycles
    }

    /// The execution order when there is no cycle, else the cycles; one pass of Kahn's algorithm serves both.
    func orderOrCycles() -> (order: [Int]?, cycles: [DependencyCycle]) {
        let (order, remaining) = kahn()
        guard order.count < numbers.count else { return (order, []) }
        let cycles = stronglyConnectedComponents(among: remaining)
            .filter { $0.count > 1 }
            .map(cycle(in:))
            .sorted { $0.path[0] < $1.path[0] }
        return (nil, cycles)
    }

    /// Kahn's algorithm with a min-heap on task numbers; also returns whether each position was left
    /// unprocessed (those lie on or behind a cycle).
    private func kahn() -> (order: [Int], remaining: [Bool]) {
        var waiting = dependencies.map(\.count)
        var ready = MinHeap(capacity: numbers.count)
        for position in numbers.indices where waiting[position] == 0 { ready.push(position, key: numbers[position]) }
        var order: [Int] = []
        order.reserveCapacity(numbers.count)
        while let position = ready.pop() {
            order.append(position)
            for dependent in dependents[position] {
                waiting[dependent] -= 1
                if waiting[dependent] == 0 { ready.push(dependent, key: numbers[dependent]) }
            }
        }
        return (order, waiting.map { $0 > 0 })
    }

    /// Tarjan's algorithm over the dependency edges among `included` positions, without recursion so
    /// that a 10,000-task chain cannot overflow the stack.
    private func stronglyConnectedComponents(among included: [Bool]) -> [[Int]] {
        let count = numbers.count
        var index = [Int](repeating: -1, count: count)
        var lowLink = [Int](repeating: 0, count: count)
        var onStack = [Bool](repeating: false, count: count)
        var stack: [Int] = []
        var nextIndex = 0
        var components: [[Int]] = []
        // Each frame is a node and how many of its edges have been followed.
        var frames: [(node: Int, edge: Int)] = []

        for root in 0..<count where included[root] && index[root] < 0 {
            frames.append((root, 0))
            index[root] = nextIndex; lowLink[root] = nextIndex; nextIndex += 1
            stack.append(root); onStack[root] = true
            while let frame = frames.last {
                let node = frame.node
                let edges = dependencies[node]
                if frame.edge < edges.count {
                    frames[frames.count - 1].edge += 1
                    let next = edges[frame.edge]
                    guard included[next] else { continue }
                    if index[next] < 0 {
                        index[next] = nextIndex; lowLink[next] = nextIndex; nextIndex += 1
                        stack.append(next); onStack[next] = true
                        frames.append((next, 0))
                    } else if onStack[next] {
                        lowLink[node] = min(lowLink[node], index[next])
                    }
                    continue
                }
                frames.removeLast()
                if let parent = frames.last?.node { lowLink[parent] = min(lowLink[parent], lowLink[node]) }
                if lowLink[node] == index[node] {
                    var component: [Int] = []
                    while let member = stack.popLast() {
                        onStack[member] = false
                        component.append(member)
                        if member == node { break }
                    }
                    components.append(component)
                }
            }
        }
        return components
    }

    /// The shortest circle through the component's smallest task number, found breadth-first.
    private func cycle(in component: [Int]) -> DependencyCycle {
        let members = Set(component)
        let start = component.min { numbers[$0] < numbers[$1] }!
        var previous: [Int: Int] = [:]
        var queue = [start]
        var head = 0
        var closing: Int?
        search: while head < queue.count {
            let node = queue[head]
            head += 1
            // Visit dependencies in ascending number so that ties between equally short circles are stable.
            for next in dependencies[node].sorted(by: { numbers[$0] < numbers[$1] }) where members.contains(next) {
                if next == start { closing = node; break search }
                if previous[next] == nil, next != start {
                    previous[next] = node
                    queue.append(next)
                }
            }
        }
        // A strongly connected component with two or more members always has a circle through every member.
        var path = [start]
        var node = closing!
        var reversed: [Int] = []
        while node != start {
            reversed.append(node)
            node = previous[node]!
        }
        path.append(contentsOf: reversed.reversed())
        path.append(start)
        return DependencyCycle(path: path.map { numbers[$0] }, members: component.map { numbers[$0] }.sorted())
    }

    /// The position of the first task with this number.
    public func position(ofTask number: Int) -> Int? { positionByNumber[number] }
}
