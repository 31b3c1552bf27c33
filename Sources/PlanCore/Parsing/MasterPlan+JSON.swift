import JSON

extension MasterPlan {
    /// Reads a plan from its JSON form, strictly: every member present with the right
    /// type, no unknown member, no unknown word. Semantic rules are `PlanValidator`'s.
    ///
    /// Throws every schema problem at once. Use this for plans loaded from storage; for an LLM's
    /// answer use `PlanParser`, which also finds the object in prose and validates.
    public init(json: JSONValue) throws(PlanProblems) {
        var reader = SchemaReader()
        let plan = Self.read(RawJSON(json), at: .root, with: &reader)
        guard reader.problems.isEmpty, let plan else { throw PlanProblems(reader.problems) }
        self = plan
    }

    /// The plan in its JSON form, the inverse of `init(json:)`.
    public var jsonValue: JSONValue {
        .object([
            "project_name": .string(projectName),
            "summary": .string(summary),
            "tech_stack": techStack.jsonValue,
            "phases": .array(phases.map(\.jsonValue)),
        ])
    }

    static func read(_ value: RawJSON, at path: JSONPath, with reader: inout SchemaReader) -> MasterPlan? {
        guard let object = reader.object(value, at: path, PlanFields.plan) else { return nil }
        let projectName = reader.string(object, "project_name", at: path)
        let summary = reader.string(object, "summary", at: path)
        var techStack: TechStack?
        if let stack = reader.member(object, "tech_stack", at: path, expecting: PlanFields.techStack.noun) {
            techStack = TechStack.read(stack, at: path.appending("tech_stack"), with: &reader)
        } else {
            reader.markLost()
        }
        let phases = reader.objects(object, "phases", at: path, of: "phase objects") { reader, value, path in
            Phase.read(value, at: path, with: &reader)
        }
        return MasterPlan(projectName: projectName ?? "", summary: summary ?? "",
                          techStack: techStack ?? TechStack(language: "", testCommand: ""), phases: phases ?? [])
    }
}

extension TechStack {
    /// The tech stack in its JSON form; absent framework and database are written as null.
    public var jsonValue: JSONValue {
        .object([
            "language": .string(language),
            "framework": JSONValue(framework),
            "database": JSONValue(database),
            "test_command": .string(testCommand),
            "other": JSONValue(other),
        ])
    }

    /// Reads a tech stack from its JSON form as strictly as `MasterPlan(json:)` reads the one inside a
    /// plan, with problems at `tech_stack` (a plan's stored tree keeps it as one JSON value).
    public init(json: JSONValue) throws(PlanProblems) {
        var reader = SchemaReader()
        let stack = Self.read(RawJSON(json), at: .root.appending("tech_stack"), with: &reader)
        guard reader.problems.isEmpty, let stack else { throw PlanProblems(reader.problems) }
        self = stack
    }

    static func read(_ value: RawJSON, at path: JSONPath, with reader: inout SchemaReader) -> TechStack? {
        guard let object = reader.object(value, at: path, PlanFields.techStack) else { return nil }
        let language = reader.string(object, "language", at: path)
        let framework = reader.nullableString(object, "framework", at: path)
        let database = reader.nullableString(object, "database", at: path)
        let testCommand = reader.string(object, "test_command", at: path)
        let other = reader.strings(object, "other", at: path, of: "library or tool names")
        return TechStack(language: language ?? "", framework: framework ?? nil, database: database ?? nil,
                         testCommand: testCommand ?? "", other: other ?? [])
    }
}

extension Phase {
    /// The phase in its JSON form.
    public var jsonValue: JSONValue {
        .object([
            "number": JSONValue(number),
            "kind": .string(kind.rawValue),
            "name": .string(name),
            "description": .string(description),
            "milestones": .array(milestones.map(\.jsonValue)),
        ])
    }

    static func read(_ value: RawJSON, at path: JSONPath, with reader: inout SchemaReader) -> Phase? {
        guard let object = reader.object(value, at: path, PlanFields.phase) else { return nil }
        let number = reader.integer(object, "number", at: path)
        let kind = reader.enumeration(PhaseKind.self, object, "kind", at: path)
        let name = reader.string(object, "name", at: path)
        let description = reader.string(object, "description", at: path)
        let milestones = reader.objects(object, "milestones", at: path, of: "milestone objects") { reader, value, path in
            Milestone.read(value, at: path, with: &reader)
        }
        // A wrong number or kind is reported; the fallbacks only let the rest be read.
        return Phase(number: number ?? 0, kind: kind ?? .core, name: name ?? "", description: description ?? "",
                     milestones: milestones ?? [])
    }
}

extension Milestone {
    /// The milestone in its JSON form.
    public var jsonValue: JSONValue {
        .object([
            "number": JSONValue(number),
            "name": .string(name),
            "description": .string(description),
            "tasks": .array(tasks.map(\.jsonValue)),
        ])
    }

    static func read(_ value: RawJSON, at path: JSONPath, with reader: inout SchemaReader) -> Milestone? {
        guard let object = reader.object(value, at: path, PlanFields.milestone) else { return nil }
        let number = reader.integer(object, "number", at: path)
        let name = reader.string(object, "name", at: path)
        let description = reader.string(object, "description", at: path)
        let tasks = reader.objects(object, "tasks", at: path, of: "task objects") { reader, value, path in
            PlanTask.read(value, at: path, with: &reader)
        }
        return Milestone(number: number ?? 0, name: name ?? "", description: description ?? "", tasks: tasks ?? [])
    }
}

extension PlanTask {
    /// The task in its JSON form.
    public var jsonValue: JSONValue {
        .object([
            "number": JSONValue(number),
            "name": .string(name),
            "description": .string(description),
            "complexity": .string(complexity.rawValue),
            "depends_on": .array(dependsOn.map { JSONValue($0) }),
            "files": JSONValue(files),
            "subtasks": .array(subtasks.map(\.jsonValue)),
            "acceptance": .array(acceptance.map(\.jsonValue)),
        ])
    }

    /// Reads a task; a task whose number cannot be read is left out, since everything refers to tasks by number.
    static func read(_ value: RawJSON, at path: JSONPath, with reader: inout SchemaReader) -> PlanTask? {
        guard let object = reader.object(value, at: path, PlanFields.task) else { return nil }
        let number = reader.integer(object, "number", at: path)
        let name = reader.string(object, "name", at: path)
        let description = reader.string(object, "description", at: path)
        let complexity = reader.enumeration(Complexity.self, object, "complexity", at: path)
        let dependsOn = reader.integers(object, "depends_on", at: path, of: "task numbers")
        let files = reader.strings(object, "files", at: path, of: "relative file paths")
        let subtasks = reader.objects(object, "subtasks", at: path, of: "subtask objects") { reader, value, path in
            Subtask.read(value, at: path, with: &reader)
        }
        let acceptance = reader.objects(object, "acceptance", at: path, of: "acceptance criterion objects") { reader, value, path in
            AcceptanceCriterion.read(value, at: path, with: &reader)
        }
        guard let number else { return nil }
        return PlanTask(number: number, name: name ?? "", description: description ?? "", complexity: complexity ?? .medium,
                        dependsOn: dependsOn ?? [], files: files ?? [], subtasks: subtasks ?? [],
                        acceptance: acceptance ?? [])
    }
}

extension Subtask {
    /// The subtask in its JSON form.
    public var jsonValue: JSONValue {
        .object(["number": JSONValue(number), "name": .string(name), "description": .string(description)])
    }

    static func read(_ value: RawJSON, at path: JSONPath, with reader: inout SchemaReader) -> Subtask? {
        guard let object = reader.object(value, at: path, PlanFields.subtask) else { return nil }
        let number = reader.integer(object, "number", at: path)
        let name = reader.string(object, "name", at: path)
        let description = reader.string(object, "description", at: path)
        return Subtask(number: number ?? 0, name: name ?? "", description: description ?? "")
    }
}

extension AcceptanceCriterion {
    /// The criterion in its JSON form.
    public var jsonValue: JSONValue {
        .object(["priority": .string(priority.rawValue), "criterion": .string(text)])
    }

    /// Reads a criterion; one with an unreadable priority is left out, since it might have been the plan's only MUST.
    static func read(_ value: RawJSON, at path: JSONPath, with reader: inout SchemaReader) -> AcceptanceCriterion? {
        guard let object = reader.object(value, at: path, PlanFields.criterion) else { return nil }
        let priority = reader.enumeration(CriterionPriority.self, object, "priority", at: path)
        let text = reader.string(object, "criterion", at: path)
        guard let priority else { return nil }
        return AcceptanceCriterion(priority: priority, text: text ?? "")
    }
}
