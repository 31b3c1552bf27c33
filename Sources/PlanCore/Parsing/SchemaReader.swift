/// Reads typed values out of a JSON tree against a fixed schema, collecting every problem instead of
/// stopping at the first.
///
/// A bad scalar is reported and replaced by a fallback so the rest of the element can still be read;
/// an array element that cannot be read at all is left out and `lostElements` is set, which tells the
/// caller that positions no longer match the document (so semantic checks must wait for a clean answer).
struct SchemaReader {
    private(set) var problems: [PlanProblem] = []
    private(set) var lostElements = false

    mutating func report(_ kind: PlanProblem.Kind, at path: JSONPath, _ message: String) {
        problems.append(PlanProblem(kind, at: path, message))
    }

    mutating func markLost() { lostElements = true }

    /// The value as an object, reporting a wrong type and every member not in `fields`.
    mutating func object(_ value: RawJSON, at path: JSONPath, _ fields: ObjectFields) -> RawObject? {
        guard case .object(let object) = value else {
            report(.wrongType, at: path, "expected \(fields.noun), found \(Self.describe(value))")
            lostElements = true
            return nil
        }
        if object.count > fields.ordered.count || !object.members.allSatisfy({ fields.ordered.contains($0.key) }) {
            for member in object.members where !fields.names.contains(member.key) {
                report(.unknownField, at: path.appending(member.key),
                       "unknown field; \(fields.noun) has exactly these fields: \(fields.ordered.joined(separator: ", "))")
            }
        }
        return object
    }

    /// A required member, or nil after reporting it missing.
    mutating func member(_ object: RawObject, _ key: String, at path: JSONPath, expecting: String) -> RawJSON? {
        guard let value = object.member(key) else {
            report(.missingField, at: path.appending(key), "missing; expected \(expecting)")
            return nil
        }
        return value
    }

    /// A required string member; nil when missing or of another type (both reported).
    mutating func string(_ object: RawObject, _ key: String, at path: JSONPath) -> String? {
        guard let value = member(object, key, at: path, expecting: "a string") else { return nil }
        guard case .string(let text) = value else {
            report(.wrongType, at: path.appending(key), "expected a string, found \(Self.describe(value))")
            return nil
        }
        return text
    }

    /// A required member that is a string or null. The outer optional is nil when the member is unusable.
    mutating func nullableString(_ object: RawObject, _ key: String, at path: JSONPath) -> String?? {
        guard let value = member(object, key, at: path, expecting: "a string or null") else { return nil }
        switch value {
        case .null: return .some(nil)
        case .string(let text): return .some(text)
        default:
            report(.wrongType, at: path.appending(key), "expected a string or null, found \(Self.describe(value))")
            return nil
        }
    }

    /// A required integer member. A number with a fraction or an exponent is refused (numbers here are identifiers).
    mutating func integer(_ object: RawObject, _ key: String, at path: JSONPath) -> Int? {
        guard let value = member(object, key, at: path, expecting: "an integer") else { return nil }
        return integer(value, at: path.appending(key))
    }

    mutating func integer(_ value: RawJSON, at path: JSONPath) -> Int? {
        guard case .int(let number) = value, let exact = Int(exactly: number) else {
            report(.wrongType, at: path, "expected an integer, found \(Self.describe(value))")
            return nil
        }
        return exact
    }

    /// A required member holding one of the enum's words.
    mutating func enumeration<E: JSONEnumeration>(_ type: E.Type, _ object: RawObject, _ key: String,
                                                  at path: JSONPath) -> E? {
        let expecting = "one of " + E.allowedWords.joined(separator: ", ")
        guard let value = member(object, key, at: path, expecting: expecting) else { return nil }
        guard case .string(let word) = value else {
            report(.wrongType, at: path.appending(key), "expected a string (\(expecting)), found \(Self.describe(value))")
            return nil
        }
        guard let result = E(rawValue: word) else {
            report(.unknownEnumValue, at: path.appending(key), "unknown value \(word.quotedForMessage()); expected \(expecting)")
            return nil
        }
        return result
    }

    /// A required array member.
    ///
    /// A missing or mistyped array counts as lost: what it held (criteria, dependencies) could change
    /// the outcome of semantic checks.
    mutating func array(_ object: RawObject, _ key: String, at path: JSONPath, of noun: String) -> [RawJSON]? {
        guard let value = member(object, key, at: path, expecting: "an array of \(noun)") else {
            lostElements = true
            return nil
        }
        guard case .array(let elements) = value else {
            report(.wrongType, at: path.appending(key), "expected an array of \(noun), found \(Self.describe(value))")
            lostElements = true
            return nil
        }
        return elements
    }

    /// A required array of strings; elements of another type are reported and left out.
    mutating func strings(_ object: RawObject, _ key: String, at path: JSONPath, of noun: String = "strings") -> [String]? {
        guard let elements = array(object, key, at: path, of: noun) else { return nil }
        var result: [String] = []
        result.reserveCapacity(elements.count)
        for (i, element) in elements.enumerated() {
            if case .string(let text) = element {
                result.append(text)
            } else {
                report(.wrongType, at: path.appending(key).appending(i), "expected a string, found \(Self.describe(element))")
                lostElements = true
            }
        }
        return result
    }

    /// A required array of integers; elements of another type are reported and left out.
    mutating func integers(_ object: RawObject, _ key: String, at path: JSONPath, of noun: String) -> [Int]? {
        guard let elements = array(object, key, at: path, of: noun) else { return nil }
        var result: [Int] = []
        result.reserveCapacity(elements.count)
        for (i, element) in elements.enumerated() {
            if let number = integer(element, at: path.appending(key).appending(i)) {
                result.append(number)
            } else {
                lostElements = true
            }
        }
        return result
    }

    /// Reads each element of a required array of objects with `read`; unreadable elements are left out.
    mutating func objects<T>(_ object: RawObject, _ key: String, at path: JSONPath, of noun: String,
                             _ read: (inout SchemaReader, RawJSON, JSONPath) -> T?) -> [T]? {
        guard let elements = array(object, key, at: path, of: noun) else { return nil }
        var result: [T] = []
        result.reserveCapacity(elements.count)
        let arrayPath = path.appending(key)
        for (i, element) in elements.enumerated() {
            if let item = read(&self, element, arrayPath.appending(i)) {
                result.append(item)
            } else {
                lostElements = true
            }
        }
        return result
    }

    /// A short description of a value for "found …" in messages; never quotes more than a few characters.
    static func describe(_ value: RawJSON) -> String {
        switch value {
        case .null: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .int(let number): return "the integer \(number)"
        case .double(let number): return "the number \(number)"
        case .string(let text): return "the string \(text.quotedForMessage(limit: 40))"
        case .array(let elements): return "an array of \(elements.count) elements"
        case .object: return "an object"
        }
    }
}
