import JSON

/// JSON Schemas of the plan, discovery and acceptance-test answers, for providers' structured output.
///
/// They are built from the same member lists the parser checks (every member required, no others), in
/// the subset that OpenAI's strict mode and grammar-constrained local servers accept. Every array has a
/// `maxItems` and every string a `maxLength` taken from `PlanLimits`, so a model under a grammar cannot
/// loop until its context is full; where validation refuses an empty list or text, the schema says
/// `minItems: 1` or `minLength: 1`; numbers have validation's range. Two rules a schema cannot state
/// stay validation's alone: whole-plan totals (`maxTasks`, `maxSubtasks`, `maxAtoms`) and "not only
/// whitespace" (`minLength: 1` is the nearest). Code is held to `maxFileBytes` bytes by validation
/// and to as many code points by the schema, which never refuses what validation accepts.
public enum PlanJSONSchema {
    /// The schema of a plan answer.
    public static var plan: JSONValue { plan(limits: .default) }

    /// The schema of a discovery answer.
    public static var discovery: JSONValue { discovery(limits: .default) }

    /// The schema of an acceptance-test answer.
    public static var acceptanceTests: JSONValue { acceptanceTests(limits: .default) }

    /// The schema of a plan answer within `limits`.
    public static func plan(limits: PlanLimits) -> JSONValue {
        let s = Shapes(limits)
        let criterion = object(PlanFields.criterion, ["priority": enumeration(CriterionPriority.self), "criterion": s.requiredText])
        let subtask = object(PlanFields.subtask, ["number": s.number, "name": s.requiredText, "description": s.text])
        let task = object(PlanFields.task, [
            "number": s.number, "name": s.requiredText, "description": s.text, "complexity": enumeration(Complexity.self),
            // A dependency names a task, so it is a task number too.
            "depends_on": array(s.number, max: limits.maxDependenciesPerTask),
            "files": array(s.path, min: 1, max: limits.maxFilesPerTask),
            "subtasks": array(subtask, max: limits.maxSubtasksPerTask),
            "acceptance": array(criterion, max: limits.maxCriteriaPerTask),
        ])
        let milestone = object(PlanFields.milestone, [
            "number": s.number, "name": s.requiredText, "description": s.text,
            "tasks": array(task, min: 1, max: limits.maxTasksPerMilestone),
        ])
        let phase = object(PlanFields.phase, [
            "number": s.number, "kind": enumeration(PhaseKind.self), "name": s.requiredText, "description": s.text,
            "milestones": array(milestone, min: 1, max: limits.maxMilestonesPerPhase),
        ])
        let techStack = object(PlanFields.techStack, [
            "language": s.requiredText, "framework": s.nullableText, "database": s.nullableText, "test_command": s.requiredText,
            "other": s.textList,
        ])
        // A plan without phases has no tasks, which validation refuses (`minTasks` is at least 1 in effect).
        return object(PlanFields.plan, ["project_name": s.requiredText, "summary": s.requiredText, "tech_stack": techStack,
                                        "phases": array(phase, min: 1, max: limits.maxPhases)])
    }

    /// The schema of a discovery answer within `limits`.
    ///
    /// A reference (an aggregate's bounded context, an event's aggregate) must equal a name, so it has
    /// a name's bounds.
    public static func discovery(limits: PlanLimits) -> JSONValue {
        let s = Shapes(limits)
        let list = { (items: JSONValue, min: Int) in array(items, min: min, max: limits.maxListItems) }
        return object(PlanFields.discovery, [
            "domain": s.requiredText,
            "bounded_contexts": list(object(PlanFields.boundedContext, ["name": s.requiredText, "description": s.text,
                                                                        "responsibilities": s.textList]), 1),
            "aggregates": list(object(PlanFields.aggregate, ["name": s.requiredText, "bounded_context": s.requiredText,
                                                             "root_entity": s.requiredText, "entities": s.textList,
                                                             "invariants": s.textList]), 0),
            "value_objects": list(object(PlanFields.valueObject, ["name": s.requiredText, "bounded_context": s.requiredText,
                                                                  "attributes": s.textList]), 0),
            "domain_events": list(object(PlanFields.domainEvent, ["name": s.requiredText, "aggregate": s.requiredText,
                                                                  "description": s.text]), 0),
            "services": list(object(PlanFields.service, ["name": s.requiredText, "bounded_context": s.requiredText,
                                                         "description": s.text, "operations": s.textList]), 0),
            "assumptions": s.textList,
            "clarifications": list(object(PlanFields.clarification, ["question": s.requiredText, "assumed_answer": s.text]), 0),
            "risks": list(object(PlanFields.risk, ["description": s.requiredText, "severity": enumeration(Discovery.Risk.Severity.self),
                                                   "mitigation": s.text]), 0),
        ])
    }

    /// The schema of an acceptance-test answer within `limits`.
    ///
    /// `covers` lists distinct tasks of the plan, so it can never hold more than `maxTasks`.
    public static func acceptanceTests(limits: PlanLimits) -> JSONValue {
        let s = Shapes(limits)
        let test = object(PlanFields.test, ["name": s.requiredText, "priority": enumeration(CriterionPriority.self),
                                            "covers": array(s.number, min: 1, max: limits.maxTasks), "file": s.path,
                                            "code": string(min: 1, max: limits.maxFileBytes)])
        return object(PlanFields.testSuite, ["tests": array(test, max: limits.maxTests)])
    }

    /// The leaf schemas, bounded by one set of limits.
    private struct Shapes {
        let text, requiredText, nullableText, path, number, textList: JSONValue

        init(_ limits: PlanLimits) {
            text = PlanJSONSchema.string(max: limits.maxTextLength)
            requiredText = PlanJSONSchema.string(min: 1, max: limits.maxTextLength)
            nullableText = ["type": ["string", "null"], "minLength": 1, "maxLength": JSONValue(limits.maxTextLength)]
            path = PlanJSONSchema.string(min: 1, max: limits.maxPathLength)
            number = ["type": "integer", "minimum": 1, "maximum": JSONValue(limits.maxNumber)]
            textList = PlanJSONSchema.array(text, max: limits.maxListItems)
        }
    }

    private static func string(min: Int = 0, max: Int) -> JSONValue {
        var schema: JSONObject = ["type": "string"]
        if min > 0 { schema["minLength"] = JSONValue(min) }
        schema["maxLength"] = JSONValue(max)
        return .object(schema)
    }

    private static func array(_ items: JSONValue, min: Int = 0, max: Int) -> JSONValue {
        var schema: JSONObject = ["type": "array", "items": items]
        if min > 0 { schema["minItems"] = JSONValue(min) }
        schema["maxItems"] = JSONValue(max)
        return .object(schema)
    }

    private static func enumeration<E: JSONEnumeration>(_ type: E.Type) -> JSONValue {
        ["type": "string", "enum": JSONValue(E.allowedWords)]
    }

    /// An object schema with exactly the members of `fields`, all required; a member missing from
    /// `properties` is a programming error caught by the tests.
    private static func object(_ fields: ObjectFields, _ properties: [String: JSONValue]) -> JSONValue {
        var members = JSONObject()
        for name in fields.ordered { members[name] = properties[name] ?? .null }
        return ["type": "object", "properties": .object(members), "required": JSONValue(fields.ordered),
                "additionalProperties": false]
    }
}
