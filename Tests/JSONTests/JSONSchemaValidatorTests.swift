import JSON
import Testing

@Suite struct JSONSchemaValidatorTests {
    /// The violations' descriptions, for compact expectations.
    private func problems(_ value: JSONValue, _ schema: JSONValue, limit: Int = 20) throws -> [String] {
        try JSONSchemaValidator.violations(of: value, against: schema, limit: limit).map(\.description)
    }

    // MARK: type

    @Test(arguments: [
        ("null", JSONValue.null, true), ("boolean", .bool(false), true), ("integer", .int(3), true),
        ("integer", .double(3.0), false), ("integer", .double(2.5), false), ("number", .int(3), true),
        ("number", .double(2.5), true), ("string", .string(""), true), ("array", .array([]), true),
        ("object", .object([:]), true), ("string", .null, false), ("object", .array([]), false),
        ("null", .bool(false), false), ("boolean", .int(0), false),
    ] as [(String, JSONValue, Bool)])
    func typeNames(type: String, value: JSONValue, conforms: Bool) throws {
        let found = try problems(value, ["type": .string(type)])
        #expect(found.isEmpty == conforms, "\(type) vs \(value): \(found)")
    }

    @Test func typeListAndItsMessage() throws {
        let schema: JSONValue = ["type": ["string", "null"]]
        #expect(try problems("x", schema).isEmpty)
        #expect(try problems(nil, schema).isEmpty)
        #expect(try problems(7, schema) == ["(root): expected a string or null, found the integer 7"])
        #expect(try problems(1.0, ["type": "integer"]) == ["(root): expected an integer, found the number 1.0"])
        #expect(try problems(["a": 1], ["type": ["string", "integer", "null"]])
            == ["(root): expected a string, an integer or null, found an object"])
    }

    // MARK: objects

    @Test func requiredAndAdditionalPropertiesNameTheMember() throws {
        let schema: JSONValue = [
            "type": "object", "properties": ["name": ["type": "string"], "size": ["type": "integer"]],
            "required": ["name", "size"], "additionalProperties": false,
        ]
        #expect(try problems(["name": "a", "size": 1], schema).isEmpty)
        #expect(try problems(["name": "a", "colour": "red"], schema) == [
            "/size: is required but missing",
            "/colour: is not allowed; the allowed members are: name, size",
        ])
        #expect(try problems(["name": 5, "size": "big"], schema) == [
            "/name: expected a string, found the integer 5",
            "/size: expected an integer, found the string \"big\"",
        ])
    }

    @Test func additionalPropertiesAsASchemaAndAbsent() throws {
        let typed: JSONValue = ["type": "object", "additionalProperties": ["type": "integer"]]
        #expect(try problems(["a": 1, "b": 2], typed).isEmpty)
        #expect(try problems(["a": 1, "b": "two"], typed) == ["/b: expected an integer, found the string \"two\""])
        let open: JSONValue = ["type": "object", "properties": ["a": ["type": "integer"]]]
        #expect(try problems(["a": 1, "anything": [1, 2]], open).isEmpty)
    }

    @Test func pathsAreJSONPointersWithEscapes() throws {
        let schema: JSONValue = ["type": "object", "additionalProperties": ["type": "array", "items": ["type": "integer"]]]
        let found = try JSONSchemaValidator.violations(of: ["a/b": [1, "x"], "c~d": ["y"]], against: schema)
        #expect(found.map(\.path) == ["/a~1b/1", "/c~0d/0"])
        #expect(found.map(\.message) == ["expected an integer, found the string \"x\"", "expected an integer, found the string \"y\""])
    }

    // MARK: arrays

    @Test func itemBoundsUseTheWordingSentToTheModel() throws {
        let schema: JSONValue = [
            "type": "object", "properties": ["tasks": ["type": "array", "items": ["type": "integer"], "minItems": 1, "maxItems": 60]],
        ]
        let many = JSONValue.array((1...61).map { JSONValue(Int64($0)) })
        #expect(try problems(["tasks": many], schema) == ["/tasks: 61 items, at most 60 allowed"])
        #expect(try problems(["tasks": []], schema) == ["/tasks: 0 items, at least 1 required"])
        #expect(try problems(["tasks": [1]], schema).isEmpty)
        #expect(try problems(["tasks": .array((1...60).map { JSONValue(Int64($0)) })], schema).isEmpty)
    }

    // MARK: enum and const

    @Test func enumAndConst() throws {
        let severity: JSONValue = ["type": "string", "enum": ["high", "medium", "low"]]
        #expect(try problems("low", severity).isEmpty)
        #expect(try problems("urgent", severity)
            == ["(root): the string \"urgent\" is not one of the allowed values: \"high\", \"medium\", \"low\""])
        #expect(try problems(2, ["const": 2]).isEmpty)
        #expect(try problems("2", ["const": 2]) == ["(root): must be 2, found the string \"2\""])
    }

    // MARK: strings

    @Test func lengthsCountUnicodeCodePoints() throws {
        let schema: JSONValue = ["type": "string", "minLength": 2, "maxLength": 3]
        // Three emoji: 12 UTF-8 bytes, 6 UTF-16 units, 3 code points.
        #expect(try problems("😀😀😀", schema).isEmpty)
        #expect(try problems("😀😀😀😀", schema) == ["(root): 4 characters, at most 3 allowed"])
        // One grapheme of two code points (e + combining acute) counts 2.
        #expect(try problems("e\u{301}", schema).isEmpty)
        #expect(try problems("é", schema) == ["(root): 1 character, at least 2 required"])
        #expect(try problems("", ["type": "string", "minLength": 1]) == ["(root): 0 characters, at least 1 required"])
        #expect(try problems("abcd", schema) == ["(root): 4 characters, at most 3 allowed"])
    }

    @Test func longStringsAreQuotedShortly() throws {
        let long = String(repeating: "a", count: 500)
        let found = try problems(.string(long), ["type": "integer"])
        #expect(found == ["(root): expected an integer, found the string \"\(String(repeating: "a", count: 40))…\""])
    }

    // MARK: numbers

    @Test func minimumAndMaximum() throws {
        let schema: JSONValue = ["type": "number", "minimum": 1, "maximum": 2.5]
        #expect(try problems(1, schema).isEmpty)
        #expect(try problems(2.5, schema).isEmpty)
        #expect(try problems(0, schema) == ["(root): 0 is less than the minimum of 1"])
        #expect(try problems(2.75, schema) == ["(root): 2.75 is more than the maximum of 2.5"])
        let exact: JSONValue = ["type": "integer", "maximum": .int(Int64.max - 1)]
        #expect(try problems(.int(Int64.max), exact) == ["(root): \(Int64.max) is more than the maximum of \(Int64.max - 1)"])
    }

    // MARK: anyOf, booleans, annotations

    @Test func anyOfNeedsOneMatchingBranch() throws {
        let schema: JSONValue = ["anyOf": [["type": "string", "maxLength": 2], ["type": "integer", "minimum": 0]]]
        #expect(try problems("ab", schema).isEmpty)
        #expect(try problems(5, schema).isEmpty)
        #expect(try problems(-1, schema) == [
            "(root): matches none of the 2 allowed forms ((root): expected a string, found the integer -1; or (root): -1 is less than the minimum of 0)",
        ])
    }

    @Test func booleanSchemasAndIgnoredAnnotations() throws {
        #expect(try problems(["x": 1], true).isEmpty)
        #expect(try problems(1, false) == ["(root): no value is allowed here"])
        let annotated: JSONValue = ["type": "string", "title": "Name", "description": "what it is called"]
        #expect(try problems("n", annotated).isEmpty)
        #expect(try problems(["a": 1], ["type": "object", "properties": ["a": false]]) == ["/a: no value is allowed here"])
    }

    // MARK: the cap and hostile values

    @Test func violationsStopAtTheLimit() throws {
        let schema: JSONValue = ["type": "array", "items": ["type": "string"]]
        let bad = JSONValue.array((0..<1_000).map { JSONValue(Int64($0)) })
        #expect(try problems(bad, schema).count == 20)
        let five = try JSONSchemaValidator.violations(of: bad, against: schema, limit: 5)
        #expect(five.map(\.path) == ["/0", "/1", "/2", "/3", "/4"])
        #expect(try JSONSchemaValidator.violations(of: bad, against: schema, limit: 0).isEmpty)
    }

    @Test func aMillionItemsCostOnlyTheCap() throws {
        let schema: JSONValue = ["type": "array", "maxItems": 60, "items": ["type": "string", "maxLength": 10]]
        let huge = JSONValue.array(Array(repeating: .int(1), count: 1_000_000))
        let found = try problems(huge, schema, limit: 3)
        #expect(found == ["(root): 1000000 items, at most 60 allowed", "/0: expected a string, found the integer 1",
                          "/1: expected a string, found the integer 1"])
    }

    @Test func deepValuesAreNotDescendedBeyondTheSchema() throws {
        var deep: JSONValue = "leaf"
        for _ in 0..<5_000 { deep = .array([deep]) }
        let shallow: JSONValue = ["type": "array", "items": ["type": "array", "items": ["type": "string"]]]
        #expect(try problems(deep, shallow) == ["/0/0: expected a string, found an array of 1 item"])
        #expect(try problems(deep, ["type": "array"]).isEmpty)
        // The parser refuses such nesting before a validator ever sees it.
        let text = String(repeating: "[", count: 5_000) + String(repeating: "]", count: 5_000)
        #expect(throws: JSONError.self) { try JSONValue.parse(text) }
    }

    @Test func deepSchemasAreRefused() {
        var schema: JSONValue = ["type": "string"]
        for _ in 0..<(JSONSchemaValidator.maxSchemaDepth + 1) { schema = ["type": "array", "items": schema] }
        #expect(throws: JSONSchemaError.self) { try JSONSchemaValidator(schema: schema) }
    }

    // MARK: references, patterns, formats and the other combinators

    /// An OpenAPI-style document: the schema is one of its members and refers to others by pointer.
    static let document: JSONValue = [
        "components": ["schemas": [
            "Id": ["type": "string", "format": "uuid"],
            "Node": ["type": "object", "required": ["id"], "additionalProperties": false,
                     "properties": ["id": ["$ref": "#/components/schemas/Id"],
                                    "children": ["type": "array", "items": ["$ref": "#/components/schemas/Node"]]]],
            "a/b": ["type": "integer"],
        ]],
    ]

    @Test func referencesResolveInTheDocumentAndMayRecurse() throws {
        let validator = try JSONSchemaValidator(schema: ["$ref": "#/components/schemas/Node"], document: Self.document)
        let id = "0b5a7c1e-4a63-4c1f-9a57-1e0c8a2b3d4f"
        #expect(validator.violations(of: ["id": .string(id), "children": [["id": .string(id), "children": []]]]).isEmpty)
        #expect(validator.violations(of: ["id": .string(id), "children": [["id": "x"], ["name": 1]]]).map(\.description) == [
            "/children/0/id: the string \"x\" is not a uuid",
            "/children/1/id: is required but missing",
            "/children/1/name: is not allowed; the allowed members are: id, children",
        ])
        // "~1" in a pointer is "/" in the member's name.
        let escaped = try JSONSchemaValidator(schema: ["$ref": "#/components/schemas/a~1b"], document: Self.document)
        #expect(escaped.violations(of: "1").map(\.description) == ["(root): expected an integer, found the string \"1\""])
        #expect(JSONSchemaValidator.resolve("#/components/schemas/a~1b", in: Self.document) == ["type": "integer"])
        #expect(JSONSchemaValidator.resolve("#/components/nothing", in: Self.document) == nil)
        #expect(JSONSchemaValidator.resolve("#", in: Self.document) == Self.document)
    }

    @Test func aSchemaThatOnlyRefersToItselfStopsWithAViolation() throws {
        let schema: JSONValue = ["$defs": ["loop": ["$ref": "#/$defs/loop"]], "$ref": "#/$defs/loop"]
        let found = try problems(1, schema)
        #expect(found == ["(root): the schema refers to itself more than \(JSONSchemaValidator.maxCheckDepth) times for one value"])
    }

    @Test func patternsAreSearchedNotAnchored() throws {
        let schema: JSONValue = ["type": "string", "pattern": "[0-9]{3}"]
        #expect(try problems("abc123def", schema).isEmpty)
        #expect(try problems("ab12", schema) == ["(root): the string \"ab12\" does not match the pattern \"[0-9]{3}\""])
        #expect(try problems("é", ["type": "string", "pattern": "^.$"]).isEmpty)
        // ECMA-262's \uXXXX escapes, in and out of a class, as the OpenAPI document writes them.
        // U+2000 decomposes to U+2002, which makes Swift's Regex refuse the range: this one must compile.
        let blank: JSONValue = ["type": "string", "pattern": "[^\\u0009-\\u000D\\u0020\\u00A0\\u2000-\\u200A]"]
        #expect(try problems("a", blank).isEmpty)
        #expect(try problems(" \u{A0}\t\u{2000}\u{2005}", blank).count == 1)
        #expect(try problems("x\u{2028}", ["type": "string", "pattern": "^x\\u2028$"]).isEmpty)
        #expect(try problems("\\u0041", ["type": "string", "pattern": "^\\\\u0041$"]).isEmpty, "an escaped backslash stays one")
        // One code point per "." (a combining accent is a second one), as JSON Schema's patterns count.
        #expect(try problems("e\u{301}", ["type": "string", "pattern": "^.$"]).count == 1)
    }

    @Test(arguments: [
        ("uuid", "0B5A7C1E-4A63-4C1F-9A57-1E0C8A2B3D4F", true), ("uuid", "0b5a7c1e4a634c1f9a571e0c8a2b3d4f", false),
        ("uuid", "0b5a7c1e-4a63-4c1f-9a57-1e0c8a2b3d4g", false),
        ("date-time", "2026-12-06T17:18:03Z", true), ("date-time", "2026-12-06T17:18:03.123456+01:00", true),
        ("date-time", "2024-02-29T00:00:00Z", true), ("date-time", "2026-02-29T00:00:00Z", false),
        ("date-time", "2026-12-06 17:18:03Z", false), ("date-time", "2026-12-06T24:00:00Z", false),
        ("date-time", "2026-12-06T17:18:03", false), ("date-time", "2026-12-06T17:18:03.Z", false),
        ("uri", "https://example.org/a?b#c", true), ("uri", "urn:isbn:0451450523", true), ("uri", "/relative/path", false),
        ("uri", "https://exa mple.org", false), ("uri", "1http://x", false),
    ] as [(String, String, Bool)])
    func formats(format: String, text: String, conforms: Bool) throws {
        let found = try problems(.string(text), ["type": "string", "format": .string(format)])
        #expect(found.isEmpty == conforms, "\(format) \(text): \(found)")
    }

    @Test func oneOfNotAndTheExclusiveBoundsAndMemberCounts() throws {
        let oneOf: JSONValue = ["oneOf": [["type": "integer"], ["type": "number", "minimum": 10]]]
        #expect(try problems(3, oneOf).isEmpty)
        #expect(try problems(2.5, oneOf) == ["(root): matches none of the 2 forms, one of which it must match (" +
                                              "(root): expected an integer, found the number 2.5; or (root): 2.5 is less than the minimum of 10)"])
        #expect(try problems(12, oneOf) == ["(root): matches 2 of the 2 forms, and must match exactly one"])
        #expect(try problems("x", ["not": ["type": "string"]]) == ["(root): matches a form it must not match"])
        #expect(try problems(1, ["not": ["type": "string"]]).isEmpty)
        let bounds: JSONValue = ["type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1]
        #expect(try problems(0.5, bounds).isEmpty)
        #expect(try problems(0, bounds) == ["(root): 0 is not more than 0"])
        #expect(try problems(1, bounds) == ["(root): 1 is not less than 1"])
        let members: JSONValue = ["type": "object", "minProperties": 1, "maxProperties": 2]
        #expect(try problems([:], members) == ["(root): 0 members, at least 1 required"])
        #expect(try problems(["a": 1, "b": 2, "c": 3], members) == ["(root): 3 members, at most 2 allowed"])
        #expect(try problems(["a": 1], ["type": "string", "description": "d", "default": "x", "examples": ["y"],
                                        "deprecated": true, "readOnly": true, "$comment": "c"]) == ["(root): expected a string, found an object"])
    }

    // MARK: mistakes in the schema itself

    @Test(arguments: [
        (["type": "object", "properties": ["a": ["type": "array", "maxItem": 3]]] as JSONValue,
         "/properties/a/maxItem", "unsupported keyword \"maxItem\""),
        (["type": "string", "patern": "^a"], "/patern", "unsupported keyword \"patern\""),
        (["$ref": "#/$defs/a"], "/$ref", "#/$defs/a does not resolve in the document"),
        (["$ref": "https://example.org/schema"], "/$ref", "https://example.org/schema does not resolve in the document"),
        (["type": "string", "pattern": "(unclosed"], "/pattern", "the pattern \"(unclosed\" is not a regular expression"),
        (["type": "string", "format": "email"], "/format", "unknown format; use uuid, date-time, uri"),
        (["type": "integer", "pattern": "^1"], "/pattern", "pattern has no effect on an integer"),
        (["type": "object", "minProperties": 2, "maxProperties": 1], "/minProperties", "minProperties 2 is more than maxProperties 1"),
        (["oneOf": []], "/oneOf", "oneOf must be a non-empty list of schemas"),
        (["not": ["typ": "string"]], "/not/typ", "unsupported keyword \"typ\""),
        (["$defs": ["a": ["type": "string"], "b": ["type": "sting"]], "$ref": "#/$defs/a"], "/$defs/b/type", "unknown type"),
        (["type": "array", "items": [["type": "string"]]], "/items", "items must be one schema for every element"),
        (["type": "array", "maxLength": 3], "/maxLength", "maxLength has no effect on an array"),
        (["type": ["string", "null"], "maxItems": 3], "/maxItems", "maxItems has no effect on a string or null"),
        (["type": "strng"], "/type", "unknown type; use null, boolean, integer, number, string, array, object"),
        (["type": "array", "minItems": -1], "/minItems", "minItems must be a non-negative integer"),
        (["type": "string", "maxLength": 2.5], "/maxLength", "maxLength must be a non-negative integer"),
        (["type": "string", "minLength": 3, "maxLength": 2], "/minLength", "minLength 3 is more than maxLength 2"),
        (["type": "string", "enum": ["a", 1]], "/enum", "the value 1 is not a string, so it can never match"),
        (["type": "object", "properties": ["a": true], "required": ["a", "b"], "additionalProperties": false],
         "/required", "\"b\" is required but not among the properties, and no other member is allowed"),
        (["anyOf": [["type": "string"], ["type": "integer", "maximun": 3]]], "/anyOf/1/maximun", "unsupported keyword \"maximun\""),
        (["type": "object", "additionalProperties": ["minLenght": 1]], "/additionalProperties/minLenght",
         "unsupported keyword \"minLenght\""),
        ("string", "", "a schema is an object or a boolean, not string"),
    ] as [(JSONValue, String, String)])
    func schemaMistakesAreErrorsNotSilence(schema: JSONValue, at path: String, message: String) {
        // Even for a value that never reaches the bad keyword.
        let error = #expect(throws: JSONSchemaError.self) { try JSONSchemaValidator.violations(of: nil, against: schema) }
        #expect(error?.schemaPath == path)
        #expect(error?.message.hasPrefix(message) == true, "\(error?.message ?? "")")
    }
}
