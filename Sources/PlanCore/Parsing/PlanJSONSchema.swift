import JSON

/// JSON Schemas of the plan, discovery and acceptance-test answers, for providers' structured output.
///
/// They are built from the same member lists the parser checks (every member required, no others), in
/// the subset that OpenAI's strict mode and grammar-constrained local servers accept.
public enum PlanJSONSchema {
    /// The schema of a plan answer (DESIGN.md §5).
    public static var plan: JSONValue {
        let criterion = object(PlanFields.criterion, ["priority": enumeration(CriterionPriority.self), "criterion": string])
        let subtask = object(PlanFields.subtask, ["number": integer, "name": string, "description": string])
        let task = object(PlanFields.task, [
            "number": integer, "name": string, "description": string, "complexity": enumeration(Complexity.self),
            "depends_on": array(integer), "files": array(string), "subtasks": array(subtask), "acceptance": array(criterion),
        ])
        let milestone = object(PlanFields.milestone, ["number": integer, "name": string, "description": string, "tasks": array(task)])
        let phase = object(PlanFields.phase, [
            "number": integer, "kind": enumeration(PhaseKind.self), "name": string, "description": string,
            "milestones": array(milestone),
        ])
        let techStack = object(PlanFields.techStack, [
            "language": string, "framework": nullableString, "database": nullableString, "test_command": string,
            "other": array(string),
        ])
        return object(PlanFields.plan, ["project_name": string, "summary": string, "tech_stack": techStack, "phases": array(phase)])
    }

    /// The schema of a discovery answer.
    public static var discovery: JSONValue {
        object(PlanFields.discovery, [
            "domain": string,
            "bounded_contexts": array(object(PlanFields.boundedContext, ["name": string, "description": string,
                                                                         "responsibilities": array(string)])),
            "aggregates": array(object(PlanFields.aggregate, ["name": string, "bounded_context": string, "root_entity": string,
                                                              "entities": array(string), "invariants": array(string)])),
            "value_objects": array(object(PlanFields.valueObject, ["name": string, "bounded_context": string,
                                                                   "attributes": array(string)])),
            "domain_events": array(object(PlanFields.domainEvent, ["name": string, "aggregate": string, "description": string])),
            "services": array(object(PlanFields.service, ["name": string, "bounded_context": string, "description": string,
                                                          "operations": array(string)])),
            "assumptions": array(string),
            "clarifications": array(object(PlanFields.clarification, ["question": string, "assumed_answer": string])),
            "risks": array(object(PlanFields.risk, ["description": string, "severity": enumeration(Discovery.Risk.Severity.self),
                                                    "mitigation": string])),
        ])
    }

    /// The schema of an acceptance-test answer.
    public static var acceptanceTests: JSONValue {
        let test = object(PlanFields.test, ["name": string, "priority": enumeration(CriterionPriority.self),
                                            "covers": array(integer), "file": string, "code": string])
        return object(PlanFields.testSuite, ["tests": array(test)])
    }

    private static let string: JSONValue = ["type": "string"]
    private static let nullableString: JSONValue = ["type": ["string", "null"]]
    private static let integer: JSONValue = ["type": "integer"]

    private static func array(_ items: JSONValue) -> JSONValue { ["type": "array", "items": items] }

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
