/// A stage of the plan (setup, core or polish) made of milestones.
public struct Phase: Sendable, Hashable {
    /// Unique within the plan.
    public var number: Int
    public var kind: PhaseKind
    public var name: String
    public var description: String
    public var milestones: [Milestone]

    public init(number: Int, kind: PhaseKind, name: String, description: String, milestones: [Milestone]) {
        self.number = number
        self.kind = kind
        self.name = name
        self.description = description
        self.milestones = milestones
    }
}
