extension JSONSchemaValidator {
    /// The keywords that bound a value's size or range. Some providers' strict structured-output modes
    /// refuse them (Anthropic's grammar compiler rejects numeric, string-length and array bounds); a
    /// caller sends `removingBounds(from:)` to such a provider and checks the answer against the full
    /// schema with `violations(of:against:)`.
    public static let boundKeywords: Set<String> = ["minItems", "maxItems", "minLength", "maxLength", "minimum", "maximum"]

    /// `schema` without the `keywords` (by default every bound), at every level; each bound removed is
    /// restated in the schema's `description` ("At most 60 items."), so the model still reads it.
    public static func removingBounds(from schema: JSONValue, keywords: Set<String> = boundKeywords) -> JSONValue {
        guard case .object(let object) = schema else { return schema }
        var result = JSONObject()
        var notes: [String] = []
        for (key, value) in object {
            if keywords.contains(key) {
                if let note = boundNote(key, value) { notes.append(note) }
                continue
            }
            switch key {
            case "properties":
                guard case .object(let members) = value else { result[key] = value; continue }
                result[key] = .object(JSONObject(members.map { ($0.key, removingBounds(from: $0.value, keywords: keywords)) }))
            case "items", "additionalProperties":
                result[key] = removingBounds(from: value, keywords: keywords)
            case "anyOf":
                result[key] = .array((value.arrayValue ?? []).map { removingBounds(from: $0, keywords: keywords) })
            default:
                result[key] = value
            }
        }
        if !notes.isEmpty {
            let existing = result["description"]?.stringValue.map { $0 + " " } ?? ""
            result["description"] = .string(existing + notes.joined(separator: " "))
        }
        return .object(result)
    }

    private static func boundNote(_ keyword: String, _ value: JSONValue) -> String? {
        let number = Describe.literal(value)
        let plural = value.intValue != 1
        switch keyword {
        case "minItems": return "At least \(number) item\(plural ? "s" : "")."
        case "maxItems": return "At most \(number) item\(plural ? "s" : "")."
        case "minLength": return "At least \(number) character\(plural ? "s" : "")."
        case "maxLength": return "At most \(number) character\(plural ? "s" : "")."
        case "minimum": return "At least \(number)."
        case "maximum": return "At most \(number)."
        default: return nil
        }
    }
}
