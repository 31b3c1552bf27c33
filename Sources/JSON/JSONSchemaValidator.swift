/// Checks a `JSONValue` against a JSON Schema — the subset that the project's answer schemas use and
/// that providers' structured-output modes accept — and lists every violation with its JSON pointer.
///
/// Keywords: `type` (one name or a list; "integer" is a number written without fraction or exponent,
/// as the plan reader requires, so `1.0` is a number and not an integer), `properties`, `required`,
/// `additionalProperties` (false or a schema), `items` (one schema for every element), `enum`, `const`,
/// `minItems`/`maxItems`, `minLength`/`maxLength` (in Unicode code points, as JSON Schema counts),
/// `minimum`/`maximum`, `anyOf`; `description` and `title` are ignored; `true` and `false` are schemas.
/// Any other keyword — `pattern`, `$ref`, a typo such as `maxItem` — makes the schema itself an error
/// (`JSONSchemaError`), as does a keyword that cannot apply to the schema's `type` (`maxLength` on an
/// array), so a mistake in a schema can never silently switch a check off.
///
/// The schema is read once, when the validator is made; validating never throws. Recursion follows
/// the schema, never the value: a value nested deeper than its schema is not descended into, so a
/// hostile value cannot exhaust the stack, and the schema's own depth is limited.
public struct JSONSchemaValidator: Sendable {
    /// The deepest schema accepted; far beyond any answer schema (a plan's is 14 levels).
    public static let maxSchemaDepth = 64

    private let root: SchemaNode

    /// Reads `schema`; throws when it uses a keyword this validator does not support or misuses one.
    public init(schema: JSONValue) throws(JSONSchemaError) {
        root = try SchemaNode.compile(schema, at: "", depth: 0)
    }

    /// Every way `value` breaks the schema, in document order, at most `limit` of them; empty when it
    /// conforms. Checking stops once `limit` violations are found, so a huge bad value costs little.
    public func violations(of value: JSONValue, limit: Int = 20) -> [JSONSchemaViolation] {
        var run = Run(limit: max(limit, 0))
        guard run.limit > 0 else { return [] }
        run.check(value, against: root)
        return run.violations
    }

    /// Every way `value` breaks `schema` (at most `limit`, in document order); throws only when the
    /// schema itself is unsupported (`JSONSchemaError`).
    public static func violations(of value: JSONValue, against schema: JSONValue,
                                  limit: Int = 20) throws(JSONSchemaError) -> [JSONSchemaViolation] {
        try JSONSchemaValidator(schema: schema).violations(of: value, limit: limit)
    }
}

/// The JSON types a `type` keyword names.
enum SchemaType: String, Sendable, CaseIterable {
    case null, boolean, integer, number, string, array, object

    func admits(_ value: JSONValue) -> Bool {
        switch (self, value) {
        case (.null, .null), (.boolean, .bool), (.integer, .int), (.number, .int), (.number, .double),
             (.string, .string), (.array, .array), (.object, .object):
            return true
        default:
            return false
        }
    }

    /// The name with its article, for messages: "an integer", "null".
    var phrase: String {
        switch self {
        case .null: "null"
        case .boolean: "a boolean"
        case .integer: "an integer"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// One schema, read and checked; immutable, so shared freely.
final class SchemaNode: Sendable {
    /// The `false` schema: nothing conforms.
    let rejectsAll: Bool
    let types: [SchemaType]?
    let propertyOrder: [String]
    let properties: [String: SchemaNode]
    let required: [String]
    /// nil: any member allowed; `.some(nil)`: no other member allowed; else the schema of other members.
    let additionalProperties: SchemaNode??
    let items: SchemaNode?
    let enumValues: [JSONValue]?
    let constValue: JSONValue?
    let minItems: Int?
    let maxItems: Int?
    let minLength: Int?
    let maxLength: Int?
    let minimum: JSONValue?
    let maximum: JSONValue?
    let anyOf: [SchemaNode]?

    private init(rejectsAll: Bool = false, types: [SchemaType]? = nil, propertyOrder: [String] = [],
                 properties: [String: SchemaNode] = [:], required: [String] = [],
                 additionalProperties: SchemaNode?? = nil, items: SchemaNode? = nil, enumValues: [JSONValue]? = nil,
                 constValue: JSONValue? = nil, minItems: Int? = nil, maxItems: Int? = nil, minLength: Int? = nil,
                 maxLength: Int? = nil, minimum: JSONValue? = nil, maximum: JSONValue? = nil, anyOf: [SchemaNode]? = nil) {
        self.rejectsAll = rejectsAll
        self.types = types
        self.propertyOrder = propertyOrder
        self.properties = properties
        self.required = required
        self.additionalProperties = additionalProperties
        self.items = items
        self.enumValues = enumValues
        self.constValue = constValue
        self.minItems = minItems
        self.maxItems = maxItems
        self.minLength = minLength
        self.maxLength = maxLength
        self.minimum = minimum
        self.maximum = maximum
        self.anyOf = anyOf
    }

    /// The types each keyword constrains; a keyword whose types are all excluded by `type` is an error.
    private static let appliesTo: [String: Set<SchemaType>] = [
        "properties": [.object], "required": [.object], "additionalProperties": [.object],
        "items": [.array], "minItems": [.array], "maxItems": [.array],
        "minLength": [.string], "maxLength": [.string],
        "minimum": [.integer, .number], "maximum": [.integer, .number],
    ]

    private static let ignored: Set<String> = ["description", "title"]
    private static let other: Set<String> = ["type", "enum", "const", "anyOf"]

    static func compile(_ schema: JSONValue, at location: String, depth: Int) throws(JSONSchemaError) -> SchemaNode {
        func fail(_ keyword: String?, _ message: String) -> JSONSchemaError {
            JSONSchemaError(schemaPath: keyword.map { location + "/" + JSONPointer.escape($0) } ?? location, message: message)
        }
        if depth > JSONSchemaValidator.maxSchemaDepth {
            throw fail(nil, "the schema nests deeper than \(JSONSchemaValidator.maxSchemaDepth) levels")
        }
        let object: JSONObject
        switch schema {
        case .bool(let accepts): return accepts ? SchemaNode() : SchemaNode(rejectsAll: true)
        case .object(let o): object = o
        default: throw fail(nil, "a schema is an object or a boolean, not \(schema.typeName)")
        }
        for key in object.keys where !ignored.contains(key) && !other.contains(key) && appliesTo[key] == nil {
            throw fail(key, "unsupported keyword \"\(key)\"; supported: \((other.union(appliesTo.keys).union(ignored)).sorted().joined(separator: ", "))")
        }
        func child(_ value: JSONValue, _ path: String) throws(JSONSchemaError) -> SchemaNode {
            try compile(value, at: location + path, depth: depth + 1)
        }
        func count(_ keyword: String) throws(JSONSchemaError) -> Int? {
            guard let value = object[keyword] else { return nil }
            guard case .int(let n) = value, n >= 0, let exact = Int(exactly: n) else {
                throw fail(keyword, "\(keyword) must be a non-negative integer")
            }
            return exact
        }
        func bound(_ keyword: String) throws(JSONSchemaError) -> JSONValue? {
            guard let value = object[keyword] else { return nil }
            switch value {
            case .int: return value
            case .double(let d) where d.isFinite: return value
            default: throw fail(keyword, "\(keyword) must be a number")
            }
        }

        var types: [SchemaType]?
        if let type = object["type"] {
            let names: [JSONValue]
            switch type {
            case .string: names = [type]
            case .array(let list) where !list.isEmpty: names = list
            default: throw fail("type", "type must be a type name or a non-empty list of them")
            }
            var list: [SchemaType] = []
            for name in names {
                guard let text = name.stringValue, let known = SchemaType(rawValue: text) else {
                    throw fail("type", "unknown type; use \(SchemaType.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                if list.contains(known) { throw fail("type", "the type \(text) is listed twice") }
                list.append(known)
            }
            types = list
            for key in object.keys {
                if let admitted = appliesTo[key], admitted.isDisjoint(with: list) {
                    throw fail(key, "\(key) has no effect on \(list.map(\.phrase).joined(separator: " or "))")
                }
            }
        }

        var propertyOrder: [String] = []
        var properties: [String: SchemaNode] = [:]
        if let value = object["properties"] {
            guard case .object(let members) = value else { throw fail("properties", "properties must be an object of schemas") }
            for (name, member) in members {
                properties[name] = try child(member, "/properties/" + JSONPointer.escape(name))
                propertyOrder.append(name)
            }
        }
        var required: [String] = []
        if let value = object["required"] {
            guard case .array(let names) = value else { throw fail("required", "required must be a list of member names") }
            for name in names {
                guard let text = name.stringValue, !required.contains(text) else {
                    throw fail("required", "required must list distinct member names")
                }
                required.append(text)
            }
        }
        var additional: SchemaNode??
        switch object["additionalProperties"] {
        case nil, .bool(true)?: additional = nil
        case .bool(false)?:
            additional = .some(nil)
            if let unreachable = required.first(where: { properties[$0] == nil }) {
                throw fail("required", "\"\(unreachable)\" is required but not among the properties, and no other member is allowed")
            }
        case let value?: additional = .some(try child(value, "/additionalProperties"))
        }
        var items: SchemaNode?
        switch object["items"] {
        case nil: break
        case let value? where value.objectValue != nil || value.boolValue != nil: items = try child(value, "/items")
        // A list is the tuple form, which this validator does not support.
        case _?: throw fail("items", "items must be one schema for every element")
        }
        var enumValues: [JSONValue]?
        if let value = object["enum"] {
            guard case .array(let list) = value, !list.isEmpty else { throw fail("enum", "enum must be a non-empty list of values") }
            if let types, let stray = list.first(where: { v in !types.contains { $0.admits(v) } }) {
                throw fail("enum", "the value \(Describe.literal(stray)) is not \(types.map(\.phrase).joined(separator: " or ")), so it can never match")
            }
            enumValues = list
        }
        var anyOf: [SchemaNode]?
        if let value = object["anyOf"] {
            guard case .array(let list) = value, !list.isEmpty else { throw fail("anyOf", "anyOf must be a non-empty list of schemas") }
            var nodes: [SchemaNode] = []
            for (i, branch) in list.enumerated() { nodes.append(try child(branch, "/anyOf/\(i)")) }
            anyOf = nodes
        }
        let node = SchemaNode(
            types: types, propertyOrder: propertyOrder, properties: properties, required: required,
            additionalProperties: additional, items: items, enumValues: enumValues, constValue: object["const"],
            minItems: try count("minItems"), maxItems: try count("maxItems"), minLength: try count("minLength"),
            maxLength: try count("maxLength"), minimum: try bound("minimum"), maximum: try bound("maximum"), anyOf: anyOf)
        if let low = node.minItems, let high = node.maxItems, low > high {
            throw fail("minItems", "minItems \(low) is more than maxItems \(high)")
        }
        if let low = node.minLength, let high = node.maxLength, low > high {
            throw fail("minLength", "minLength \(low) is more than maxLength \(high)")
        }
        if let low = node.minimum, let high = node.maximum, Numbers.compare(low, high) == .greater {
            throw fail("minimum", "minimum is more than maximum")
        }
        return node
    }
}

/// One validation: the violations found so far and the path of the value being checked.
private struct Run {
    let limit: Int
    var violations: [JSONSchemaViolation] = []
    /// Escaped pointer tokens from the root; rendered only when a violation is recorded.
    private var tokens: [String] = []

    init(limit: Int) { self.limit = limit }

    var isFull: Bool { violations.count >= limit }

    mutating func report(_ message: String, member: String? = nil) {
        guard !isFull else { return }
        var path = tokens.isEmpty ? "" : "/" + tokens.joined(separator: "/")
        if let member { path += "/" + JSONPointer.escape(member) }
        violations.append(JSONSchemaViolation(path: path, message: message))
    }

    mutating func check(_ value: JSONValue, against node: SchemaNode) {
        guard !isFull else { return }
        if node.rejectsAll {
            report("no value is allowed here")
            return
        }
        if let types = node.types, !types.contains(where: { $0.admits(value) }) {
            report("expected \(Describe.alternatives(types.map(\.phrase))), found \(Describe.value(value))")
            return
        }
        if let allowed = node.enumValues, !allowed.contains(value) {
            report("\(Describe.value(value)) is not one of the allowed values: \(Describe.list(allowed.map(Describe.literal)))")
        }
        if let constant = node.constValue, constant != value {
            report("must be \(Describe.literal(constant)), found \(Describe.value(value))")
        }
        switch value {
        case .object(let object): checkObject(object, against: node)
        case .array(let elements): checkArray(elements, against: node)
        case .string(let text): checkString(text, against: node)
        case .int, .double: checkNumber(value, against: node)
        case .null, .bool: break
        }
        if let branches = node.anyOf { checkAnyOf(value, branches) }
    }

    private mutating func checkObject(_ object: JSONObject, against node: SchemaNode) {
        for name in node.required where object[name] == nil {
            report("is required but missing", member: name)
        }
        for (name, member) in object {
            guard !isFull else { return }
            let schema: SchemaNode
            if let known = node.properties[name] {
                schema = known
            } else {
                switch node.additionalProperties {
                case nil: continue
                case .some(nil):
                    let allowed = node.propertyOrder.isEmpty ? "none" : Describe.list(node.propertyOrder)
                    report("is not allowed; the allowed members are: \(allowed)", member: name)
                    continue
                case .some(let other?): schema = other
                }
            }
            tokens.append(JSONPointer.escape(name))
            check(member, against: schema)
            tokens.removeLast()
        }
    }

    private mutating func checkArray(_ elements: [JSONValue], against node: SchemaNode) {
        if let most = node.maxItems, elements.count > most {
            report("\(Describe.count(elements.count, "item")), at most \(most) allowed")
        }
        if let least = node.minItems, elements.count < least {
            report("\(Describe.count(elements.count, "item")), at least \(least) required")
        }
        guard let items = node.items else { return }
        for (i, element) in elements.enumerated() {
            guard !isFull else { return }
            tokens.append(String(i))
            check(element, against: items)
            tokens.removeLast()
        }
    }

    private mutating func checkString(_ text: String, against node: SchemaNode) {
        guard node.minLength != nil || node.maxLength != nil else { return }
        // A string has at least as many UTF-8 bytes as code points: count only when the bytes say it may matter.
        let bytes = text.utf8.count
        if let most = node.maxLength, bytes > most {
            let length = text.unicodeScalars.count
            if length > most { report("\(Describe.count(length, "character")), at most \(most) allowed") }
        }
        if let least = node.minLength, bytes / 4 < least {
            let length = text.unicodeScalars.count
            if length < least { report("\(Describe.count(length, "character")), at least \(least) required") }
        }
    }

    private mutating func checkNumber(_ value: JSONValue, against node: SchemaNode) {
        if let low = node.minimum, Numbers.compare(value, low) == .less {
            report("\(Describe.literal(value)) is less than the minimum of \(Describe.literal(low))")
        }
        if let high = node.maximum, Numbers.compare(value, high) == .greater {
            report("\(Describe.literal(value)) is more than the maximum of \(Describe.literal(high))")
        }
    }

    private mutating func checkAnyOf(_ value: JSONValue, _ branches: [SchemaNode]) {
        var firstProblems: [String] = []
        for branch in branches {
            var trial = Run(limit: 1)
            trial.check(value, against: branch)
            guard let problem = trial.violations.first else { return }
            firstProblems.append(problem.description)
        }
        report("matches none of the \(branches.count) allowed forms (\(firstProblems.joined(separator: "; or ")))")
    }
}

/// RFC 6901 tokens: `~` is written `~0` and `/` is written `~1`.
enum JSONPointer {
    static func escape(_ token: String) -> String {
        guard token.utf8.contains(where: { $0 == UInt8(ascii: "~") || $0 == UInt8(ascii: "/") }) else { return token }
        return token.replacing("~", with: "~0").replacing("/", with: "~1")
    }
}

/// Comparison of JSON numbers: exact between integers, in Double otherwise.
enum Numbers {
    enum Order { case less, equal, greater }

    static func compare(_ a: JSONValue, _ b: JSONValue) -> Order {
        if case .int(let x) = a, case .int(let y) = b { return x < y ? .less : (x == y ? .equal : .greater) }
        let x = a.doubleValue ?? 0, y = b.doubleValue ?? 0
        return x < y ? .less : (x == y ? .equal : .greater)
    }
}

/// The wording of violations: short, and never quoting more than a few characters of a value.
enum Describe {
    static func value(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool(let flag): flag ? "true" : "false"
        case .int(let n): "the integer \(n)"
        case .double(let d): "the number \(d)"
        case .string(let text): "the string \(quoted(text))"
        case .array(let elements): "an array of \(count(elements.count, "item"))"
        case .object: "an object"
        }
    }

    /// A value as it would be written in JSON, shortened: `"high"`, `3`, `null`.
    static func literal(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): quoted(text)
        case .int(let n): String(n)
        case .double(let d): String(d)
        case .bool(let flag): flag ? "true" : "false"
        case .null: "null"
        case .array, .object: self.value(value)
        }
    }

    static func quoted(_ text: String, limit: Int = 40) -> String {
        var out = "\""
        for (i, scalar) in text.unicodeScalars.enumerated() {
            if i == limit { out += "…"; break }
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F { out += "\\u" + hex4(scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }

    private static func hex4(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    static func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }

    /// Values or names separated by commas, shortened after 12: `"high", "medium", "low"`.
    static func list(_ items: [String]) -> String {
        items.count <= 12 ? items.joined(separator: ", ") : items.prefix(12).joined(separator: ", ") + ", … (\(items.count) in all)"
    }

    /// "a string", "a string or null", "a string, an integer or null".
    static func alternatives(_ phrases: [String]) -> String {
        guard phrases.count > 1 else { return phrases.first ?? "" }
        return phrases.dropLast().joined(separator: ", ") + " or " + phrases.last!
    }
}
