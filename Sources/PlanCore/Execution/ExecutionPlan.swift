/// How a validated plan executes: its atoms, their dependency graph, the waves, and the critical path.
///
/// - One atom per (task, file), in the plan's execution order, files in the order the task lists them.
/// - Every atom of a task depends on every atom of each task it depends on.
/// - Atoms writing the same file are chained in the plan's execution order (ascending task number when
///   the planner numbered tasks in dependency order), so no wave ever holds two writers of one file.
///   Chaining along the execution order rather than by raw number keeps the graph acyclic when a task
///   depends on a higher-numbered task that writes the same file.
/// - Waves are the topological levels: an atom's wave is one more than the latest wave among its
///   dependencies. All output is deterministic for a given plan.
public struct ExecutionPlan: Sendable {
    public let atoms: [Atom]
    public let graph: AtomGraph
    public let waves: [Wave]
    /// For each atom, the index of its wave in `waves`.
    public let waveIndex: [Int]
    /// For each atom, the number of atoms on the longest chain that starts with it (itself included).
    public let remainingPathLength: [Int]
    /// Atom indices along one longest chain, first to last; deterministic (smallest index at each step).
    public let criticalPath: [Int]
    private let atomsOfTask: [Int: Range<Int>]
    private let indexOfKey: [AtomKey: Int]

    public init(_ plan: ValidatedPlan) {
        var atoms: [Atom] = []
        atoms.reserveCapacity(plan.tasks.reduce(0) { $0 + $1.files.count })
        var rangeOfPosition = [Range<Int>](repeating: 0..<0, count: plan.tasks.count)
        var positionOfAtom: [Int] = []
        for position in plan.executionOrder {
            let task = plan.tasks[position]
            let start = atoms.count
            for file in task.files {
                atoms.append(Atom(key: AtomKey(taskNumber: task.number, path: file), complexity: task.complexity))
                positionOfAtom.append(position)
            }
            rangeOfPosition[position] = start..<atoms.count
        }

        var predecessors = [[Int]](repeating: [], count: atoms.count)
        var lastWriter: [String: Int] = [:]
        lastWriter.reserveCapacity(atoms.count)
        for position in plan.executionOrder {
            let dependencies = plan.graph.dependencies[position]
            for atom in rangeOfPosition[position] {
                var incoming: [Int] = []
                for dependency in dependencies { incoming.append(contentsOf: rangeOfPosition[dependency]) }
                let path = atoms[atom].path
                // The implicit same-file edge, unless a task dependency already orders the two writers.
                if let writer = lastWriter[path], !dependencies.contains(positionOfAtom[writer]) {
                    incoming.append(writer)
                }
                lastWriter[path] = atom
                incoming.sort()
                predecessors[atom] = incoming
            }
        }
        let graph = AtomGraph(predecessors: predecessors)

        // Index order is topological (tasks in execution order; same-file edges follow it), so one pass each way suffices.
        var level = [Int](repeating: 0, count: atoms.count)
        for atom in atoms.indices {
            for source in predecessors[atom] { level[atom] = max(level[atom], level[source] + 1) }
        }
        var remaining = [Int](repeating: 1, count: atoms.count)
        for atom in atoms.indices.reversed() {
            for target in graph.successors[atom] { remaining[atom] = max(remaining[atom], remaining[target] + 1) }
        }
        let waveCount = (level.max() ?? -1) + 1
        var members = [[Int]](repeating: [], count: waveCount)
        for atom in atoms.indices { members[level[atom]].append(atom) }
        let waves = members.enumerated().map { index, wave in
            Wave(number: index + 1, atoms: wave.sorted { a, b in
                if remaining[a] != remaining[b] { return remaining[a] > remaining[b] }
                if atoms[a].taskNumber != atoms[b].taskNumber { return atoms[a].taskNumber < atoms[b].taskNumber }
                return a < b
            })
        }

        var criticalPath: [Int] = []
        if let longest = remaining.max(), var atom = remaining.firstIndex(of: longest) {
            criticalPath.append(atom)
            while let next = graph.successors[atom].first(where: { remaining[$0] == remaining[atom] - 1 }) {
                criticalPath.append(next)
                atom = next
            }
        }

        var atomsOfTask: [Int: Range<Int>] = [:]
        for (position, range) in rangeOfPosition.enumerated() { atomsOfTask[plan.tasks[position].number] = range }
        var indexOfKey: [AtomKey: Int] = [:]
        indexOfKey.reserveCapacity(atoms.count)
        for (index, atom) in atoms.enumerated() { indexOfKey[atom.key] = index }

        self.atoms = atoms
        self.graph = graph
        self.waves = waves
        self.waveIndex = level
        self.remainingPathLength = remaining
        self.criticalPath = criticalPath
        self.atomsOfTask = atomsOfTask
        self.indexOfKey = indexOfKey
    }

    /// Atoms on the longest dependency chain; equal to the number of waves.
    public var criticalPathLength: Int { criticalPath.count }

    /// The largest number of atoms in one wave.
    public var widestWave: Int { waves.map(\.atoms.count).max() ?? 0 }

    /// The atom indices of a task, or an empty range for an unknown task.
    public func atoms(ofTask number: Int) -> Range<Int> { atomsOfTask[number] ?? 0..<0 }

    public func index(of key: AtomKey) -> Int? { indexOfKey[key] }

    /// The files an atom's prompt should carry: those written by the atoms it depends on.
    public func inputFiles(of atom: Int) -> [String] {
        var seen: Set<String> = []
        return graph.predecessors[atom].map { atoms[$0].path }.filter { seen.insert($0).inserted }
    }
}
