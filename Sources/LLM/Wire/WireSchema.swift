import JSON

/// An answer schema in the form one dialect's schema-enforcing mode accepts.
///
/// The answer schemas carry bounds (`maxItems`, `maxLength`, …) that stop a small model under a
/// grammar from looping until its context is full. llama.cpp's `{type: "json_object", schema}` form and
/// vLLM's guided decoding enforce them, so those servers get the schema whole. OpenAI's strict
/// `json_schema` mode and Anthropic's structured outputs (`output_config.format`, tools with `strict:
/// true`) accept only a subset of JSON Schema and refuse a request with anything else; for them every
/// keyword outside the subset is taken out of the schema and written into the node's `description`
/// (as the providers' SDKs do), so the model still reads it. The client validates every answer against
/// the whole schema afterwards, so nothing a reduced schema no longer enforces goes unchecked.
enum WireSchema {
    enum Dialect: Sendable {
        /// OpenAI's strict `json_schema` subset: strings keep `pattern` and the listed formats, numbers
        /// their bounds and `multipleOf`, arrays `minItems` and `maxItems`; string lengths are dropped.
        case openAIStrict
        /// Anthropic's structured-outputs subset: strings keep the listed formats, arrays `minItems` of
        /// 0 or 1; no numeric, length or count bounds; nullable types as `anyOf` with a `null` branch.
        case anthropicStrict
    }

    /// The schema reduced to what `dialect` accepts; the dropped keywords are described in the
    /// `description` of the node that had them.
    static func reduced(_ schema: JSONValue, for dialect: Dialect) -> JSONValue {
        guard case .object(let node) = schema else { return schema }
        return .object(reduce(node, dialect))
    }

    /// Every keyword, anywhere in the schema, that `dialect` does not accept (for tests and logs).
    static func droppedKeywords(_ schema: JSONValue, for dialect: Dialect) -> Set<String> {
        var found: Set<String> = []
        collectDropped(schema, dialect, into: &found)
        return found
    }

    // MARK: - Keyword tables

    /// String formats OpenAI's strict mode knows.
    private static let openAIFormats: Set<String> = ["date-time", "time", "date", "duration", "email", "hostname", "ipv4",
                                                     "ipv6", "uuid"]
    /// String formats Anthropic's structured outputs know.
    private static let anthropicFormats: Set<String> = ["date-time", "time", "date", "duration", "email", "hostname", "uri",
                                                        "ipv4", "ipv6", "uuid"]
    /// Keywords that only annotate a schema for tools; dropped without a word.
    private static let silentlyDropped: Set<String> = ["$schema", "$id", "$comment"]
    /// Keywords that give the schema its shape; kept (and their subschemas reduced) in every dialect.
    private static let structural: Set<String> = ["type", "properties", "required", "additionalProperties", "items", "enum",
                                                  "const", "anyOf", "oneOf", "allOf", "$ref", "$defs", "definitions",
                                                  "description", "title"]
    /// Keywords that apply only to values of one JSON type, for splitting a type list into branches.
    private static let keywordsByType: [String: Set<String>] = [
        "string": ["minLength", "maxLength", "pattern", "format"],
        "number": ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"],
        "integer": ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"],
        "array": ["items", "prefixItems", "minItems", "maxItems", "uniqueItems", "contains", "minContains", "maxContains"],
        "object": ["properties", "required", "additionalProperties", "minProperties", "maxProperties", "patternProperties",
                   "propertyNames"],
    ]

    /// Whether `dialect` accepts a non-structural `keyword` with `value` on a node of type `type`.
    private static func accepts(_ keyword: String, _ value: JSONValue, type: String?, _ dialect: Dialect) -> Bool {
        switch dialect {
        case .openAIStrict:
            switch keyword {
            case "pattern": return type == "string"
            case "format": return type == "string" && value.stringValue.map(openAIFormats.contains) == true
            case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf":
                return type == "number" || type == "integer"
            case "minItems", "maxItems": return type == "array"
            default: return false
            }
        case .anthropicStrict:
            switch keyword {
            case "format": return type == "string" && value.stringValue.map(anthropicFormats.contains) == true
            case "minItems": return type == "array" && (value.countValue == 0 || value.countValue == 1)
            default: return false
            }
        }
    }

    // MARK: - Reduction

    private static func reduce(_ node: JSONObject, _ dialect: Dialect) -> JSONObject {
        if dialect == .anthropicStrict, case .array(let types)? = node["type"], node["enum"] == nil {
            return nullableAsAnyOf(node, types: types.compactMap(\.stringValue), dialect)
        }
        let type = primaryType(node)
        var out = JSONObject()
        var dropped: [(String, JSONValue)] = []
        for (key, value) in node {
            if silentlyDropped.contains(key) { continue }
            if structural.contains(key) {
                out[key] = reduceMember(key, value, dialect)
            } else if accepts(key, value, type: type, dialect) {
                out[key] = value
            } else {
                dropped.append((key, value))
            }
        }
        if dialect == .anthropicStrict, case .array? = node["type"] {
            // A type list with an enum: the enum alone says which values are allowed.
            out["type"] = nil
        }
        if type == "object" {
            // Both strict modes require closed objects; the full schema is checked locally anyway.
            out["additionalProperties"] = false
        }
        if !dropped.isEmpty {
            let limits = dropped.map { "\($0.0): \($0.1.jsonText)" }.joined(separator: ", ")
            let note = "(limits: \(limits))"
            out["description"] = .string(out["description"]?.stringValue.map { $0 + "\n\n" + note } ?? note)
        }
        return out
    }

    /// The node's type, or the first one other than `null` of a type list.
    private static func primaryType(_ node: JSONObject) -> String? {
        node["type"]?.stringValue ?? node["type"]?.arrayValue?.compactMap(\.stringValue).first { $0 != "null" }
    }

    private static func reduceMember(_ key: String, _ value: JSONValue, _ dialect: Dialect) -> JSONValue {
        switch key {
        case "properties", "$defs", "definitions":
            guard case .object(let members) = value else { return value }
            return .object(JSONObject(members.map { ($0.key, reduced($0.value, for: dialect)) }))
        case "items", "additionalProperties":
            return reduced(value, for: dialect)
        case "anyOf", "oneOf", "allOf":
            guard case .array(let branches) = value else { return value }
            return .array(branches.map { reduced($0, for: dialect) })
        default:
            return value
        }
    }

    /// `{"type": ["string", "null"], "maxLength": 9}` as `{"anyOf": [{"type": "string", "maxLength": 9},
    /// {"type": "null"}]}`, each branch with the keywords of its type, then reduced.
    private static func nullableAsAnyOf(_ node: JSONObject, types: [String], _ dialect: Dialect) -> JSONObject {
        let typed = Set(keywordsByType.values.joined())
        var out = JSONObject()
        var branches: [JSONValue] = []
        for type in types {
            var branch: JSONObject = ["type": .string(type)]
            for (key, value) in node where keywordsByType[type]?.contains(key) == true { branch[key] = value }
            branches.append(.object(reduce(branch, dialect)))
        }
        var rest = JSONObject()
        for (key, value) in node where key != "type" && !typed.contains(key) { rest[key] = value }
        // Keywords such as description stay on the outer node.
        for (key, value) in reduce(rest, dialect) { out[key] = value }
        out["anyOf"] = .array(branches)
        return out
    }

    private static func collectDropped(_ schema: JSONValue, _ dialect: Dialect, into found: inout Set<String>) {
        guard case .object(let node) = schema else {
            if case .array(let list) = schema { for item in list { collectDropped(item, dialect, into: &found) } }
            return
        }
        let types: [String?] = node["type"]?.arrayValue?.map(\.stringValue) ?? [node["type"]?.stringValue]
        for (key, value) in node {
            if structural.contains(key) || silentlyDropped.contains(key) {
                switch key {
                case "properties", "$defs", "definitions":
                    if case .object(let members) = value { for member in members { collectDropped(member.value, dialect, into: &found) } }
                case "items", "additionalProperties", "anyOf", "oneOf", "allOf":
                    collectDropped(value, dialect, into: &found)
                default:
                    break
                }
            } else if !types.contains(where: { accepts(key, value, type: $0, dialect) }) {
                found.insert(key)
            }
        }
    }
}
