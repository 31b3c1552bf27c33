import JSON
import Testing
@testable import PlanCore

@Suite("JSON schemas for structured output")
struct PlanJSONSchemaTests {
    /// Every object schema in `schema`, with its path of property names.
    static func objects(in schema: JSONValue, at path: String = "") -> [(String, JSONObject)] {
        guard case .object(let object) = schema else { return [] }
        var result: [(String, JSONObject)] = []
        if object["type"] == "object" { result.append((path, object)) }
        if case .object(let properties)? = object["properties"] {
            for (name, child) in properties { result += objects(in: child, at: path + "/" + name) }
        }
        if let items = object["items"] { result += objects(in: items, at: path + "[]") }
        return result
    }

    static let schemas: [String: JSONValue] = [
        "plan": PlanJSONSchema.plan, "discovery": PlanJSONSchema.discovery, "acceptance tests": PlanJSONSchema.acceptanceTests,
    ]

    @Test("every object requires exactly its properties and forbids others", arguments: ["plan", "discovery", "acceptance tests"])
    func strictObjects(_ name: String) throws {
        let objects = Self.objects(in: Self.schemas[name]!)
        #expect(objects.count >= 2)
        for (path, object) in objects {
            let properties = try #require(object["properties"]?.objectValue, "\(path)")
            #expect(object["required"] == JSONValue(properties.keys), "\(path)")
            #expect(object["additionalProperties"] == false, "\(path)")
            #expect(!properties.contains { $0.value == .null }, "\(path) has a property without a schema")
        }
    }

    @Test("the plan schema matches the members the parser accepts")
    func planSchemaMatchesParser() throws {
        let paths = Dictionary(uniqueKeysWithValues: Self.objects(in: PlanJSONSchema.plan).map { ($0.0, $0.1["required"]!) })
        #expect(paths[""] == JSONValue(PlanFields.plan.ordered))
        #expect(paths["/phases[]/milestones[]/tasks[]"] == JSONValue(PlanFields.task.ordered))
        #expect(paths["/tech_stack"] == JSONValue(PlanFields.techStack.ordered))
        let task = try #require(Self.objects(in: PlanJSONSchema.plan).first { $0.0 == "/phases[]/milestones[]/tasks[]" }?.1)
        #expect(task["properties"]?["complexity"]?["enum"] == ["low", "medium", "high", "critical"])
    }

    @Test("the sample plan conforms to the schema, and a wrong word does not")
    func sampleConforms() throws {
        #expect(try JSONSchemaValidator.violations(of: SamplePlan.json, against: PlanJSONSchema.plan).isEmpty)
        let wrong = SamplePlan.json.setting(JSONPath(parsing: "phases[0].kind").components[...], to: "build")
        #expect(try JSONSchemaValidator.violations(of: wrong, against: PlanJSONSchema.plan).map(\.description)
            == ["/phases/0/kind: the string \"build\" is not one of the allowed values: \"setup\", \"core\", \"polish\""])
    }

    @Test("every array and string of the schemas is bounded by the limits it was built from")
    func boundedByLimits() {
        let limits = PlanLimits(maxTasksPerMilestone: 7, maxListItems: 3, maxTests: 9, maxTextLength: 11, maxPathLength: 13)
        let plan = PlanJSONSchema.plan(limits: limits)
        #expect(plan["properties"]?["summary"]?["maxLength"] == 11)
        #expect(plan["properties"]?["tech_stack"]?["properties"]?["other"]?["maxItems"] == 3)
        let task = plan["properties"]?["phases"]?["items"]?["properties"]?["milestones"]?["items"]?["properties"]?["tasks"]
        #expect(task?["maxItems"] == 7)
        #expect(task?["items"]?["properties"]?["files"]?["items"]?["maxLength"] == 13)
        #expect(PlanJSONSchema.acceptanceTests(limits: limits)["properties"]?["tests"]?["maxItems"] == 9)
        #expect(PlanJSONSchema.discovery(limits: limits)["properties"]?["risks"]?["maxItems"] == 3)
    }
}
