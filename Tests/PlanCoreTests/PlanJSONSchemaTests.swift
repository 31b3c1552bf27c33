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

    @Test("the sample plan has every member the schema requires")
    func sampleConforms() {
        func conforms(_ value: JSONValue, _ schema: JSONValue) -> Bool {
            switch (schema["type"], value) {
            case (.string("object"), .object(let object)):
                guard case .array(let required)? = schema["required"] else { return false }
                return object.count == required.count && required.allSatisfy { key in
                    object[key.stringValue!].map { conforms($0, schema["properties"]![key.stringValue!]!) } ?? false
                }
            case (.string("array"), .array(let elements)): return elements.allSatisfy { conforms($0, schema["items"]!) }
            case (.string("string"), .string(let text)):
                return schema["enum"]?.arrayValue.map { $0.contains(.string(text)) } ?? true
            case (.string("integer"), .int): return true
            case (.array, .string), (.array, .null): return true
            default: return false
            }
        }
        #expect(conforms(SamplePlan.json, PlanJSONSchema.plan))
        #expect(!conforms(SamplePlan.json.setting(JSONPath(parsing: "phases[0].kind").components[...], to: "build"), PlanJSONSchema.plan))
    }
}
