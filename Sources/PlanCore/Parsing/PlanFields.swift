/// The members of every object in the plan, discovery and acceptance-test documents, in schema order.
///
/// Parsing (unknown-member checks) and the JSON schemas given to the LLM both read these lists,
/// so the two cannot drift apart.
enum PlanFields {
    static let plan = ObjectFields("a plan object", ["project_name", "summary", "tech_stack", "phases"])
    static let techStack = ObjectFields("a tech_stack object", ["language", "framework", "database", "test_command", "other"])
    static let phase = ObjectFields("a phase object", ["number", "kind", "name", "description", "milestones"])
    static let milestone = ObjectFields("a milestone object", ["number", "name", "description", "tasks"])
    static let task = ObjectFields("a task object", ["number", "name", "description", "complexity", "depends_on", "files",
                                                     "subtasks", "acceptance"])
    static let subtask = ObjectFields("a subtask object", ["number", "name", "description"])
    static let criterion = ObjectFields("an acceptance criterion object", ["priority", "criterion"])

    static let discovery = ObjectFields("a discovery object", ["domain", "bounded_contexts", "aggregates", "value_objects",
                                                               "domain_events", "services", "assumptions", "clarifications", "risks"])
    static let boundedContext = ObjectFields("a bounded context object", ["name", "description", "responsibilities"])
    static let aggregate = ObjectFields("an aggregate object", ["name", "bounded_context", "root_entity", "entities", "invariants"])
    static let valueObject = ObjectFields("a value object object", ["name", "bounded_context", "attributes"])
    static let domainEvent = ObjectFields("a domain event object", ["name", "aggregate", "description"])
    static let service = ObjectFields("a service object", ["name", "bounded_context", "description", "operations"])
    static let clarification = ObjectFields("a clarification object", ["question", "assumed_answer"])
    static let risk = ObjectFields("a risk object", ["description", "severity", "mitigation"])

    static let testSuite = ObjectFields("an acceptance test set object", ["tests"])
    static let test = ObjectFields("an acceptance test object", ["name", "priority", "covers", "file", "code"])
}

/// The members one kind of JSON object has; all are required.
struct ObjectFields: Sendable {
    /// How messages name the object, e.g. "a task object".
    let noun: String
    /// The member names in schema order, for messages and JSON schemas.
    let ordered: [String]
    let names: Set<String>

    init(_ noun: String, _ ordered: [String]) {
        self.noun = noun
        self.ordered = ordered
        self.names = Set(ordered)
    }
}
