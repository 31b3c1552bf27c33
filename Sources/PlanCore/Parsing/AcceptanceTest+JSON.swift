import JSON

extension AcceptanceTest {
    /// Reads one test from its JSON form, strictly; throws every schema problem at once.
    public init(json: JSONValue) throws(PlanProblems) {
        var reader = SchemaReader()
        let test = Self.read(RawJSON(json), at: .root, with: &reader)
        guard reader.problems.isEmpty, let test else { throw PlanProblems(reader.problems) }
        self = test
    }

    /// The test in its JSON form.
    public var jsonValue: JSONValue {
        .object([
            "name": .string(name),
            "priority": .string(priority.rawValue),
            "covers": .array(covers.map { JSONValue($0) }),
            "file": .string(file),
            "code": .string(code),
        ])
    }

    /// The JSON form of a whole test set, as the LLM answers it: `{"tests": [...]}`.
    public static func jsonValue(of tests: [AcceptanceTest]) -> JSONValue {
        .object(["tests": .array(tests.map(\.jsonValue))])
    }

    static func read(_ value: RawJSON, at path: JSONPath, with reader: inout SchemaReader) -> AcceptanceTest? {
        guard let object = reader.object(value, at: path, PlanFields.test) else { return nil }
        let name = reader.string(object, "name", at: path)
        let priority = reader.enumeration(CriterionPriority.self, object, "priority", at: path)
        let covers = reader.integers(object, "covers", at: path, of: "task numbers")
        let file = reader.string(object, "file", at: path)
        let code = reader.string(object, "code", at: path)
        // Without its priority the test could not be counted toward either Gate S threshold.
        guard let priority else { return nil }
        return AcceptanceTest(name: name ?? "", priority: priority, covers: covers ?? [], file: file ?? "", code: code ?? "")
    }

    static func readSet(_ value: RawJSON, at path: JSONPath, with reader: inout SchemaReader) -> [AcceptanceTest]? {
        guard let object = reader.object(value, at: path, PlanFields.testSuite) else { return nil }
        return reader.objects(object, "tests", at: path, of: "acceptance test objects") { reader, value, path in
            AcceptanceTest.read(value, at: path, with: &reader)
        }
    }
}
