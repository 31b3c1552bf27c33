/// The plan an LLM proposes for a request: phases of milestones of tasks, with acceptance criteria.
///
/// A `MasterPlan` may be invalid (it is what was parsed or edited); `PlanValidator` turns it into a
/// `ValidatedPlan`, which is what execution accepts.
public struct MasterPlan: Sendable, Hashable {
    public var projectName: String
    public var summary: String
    public var techStack: TechStack
    public var phases: [Phase]

    public init(projectName: String, summary: String, techStack: TechStack, phases: [Phase]) {
        self.projectName = projectName
        self.summary = summary
        self.techStack = techStack
        self.phases = phases
    }

    /// Every task in document order (phase by phase, milestone by milestone).
    public var tasks: [PlanTask] {
        var result: [PlanTask] = []
        for phase in phases {
            for milestone in phase.milestones { result.append(contentsOf: milestone.tasks) }
        }
        return result
    }

    /// The first task with this number, if any.
    public func task(number: Int) -> PlanTask? {
        for phase in phases {
            for milestone in phase.milestones {
                if let task = milestone.tasks.first(where: { $0.number == number }) { return task }
            }
        }
        return nil
    }

    /// Changes the first task with this number in place (a draft edit); returns false when there is none.
    ///
    /// The edited plan must be validated again before it is used.
    @discardableResult
    public mutating func updateTask(number: Int, _ edit: (inout PlanTask) -> Void) -> Bool {
        for p in phases.indices {
            for m in phases[p].milestones.indices {
                if let t = phases[p].milestones[m].tasks.firstIndex(where: { $0.number == number }) {
                    edit(&phases[p].milestones[m].tasks[t])
                    return true
                }
            }
        }
        return false
    }
}
