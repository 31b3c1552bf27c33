import Foundation

/// Checks a `JSONValue` against a JSON Schema (2020-12) — the subset that the project's answer schemas
/// and its OpenAPI document use — and lists every violation with its JSON pointer.
///
/// Keywords: `type` (one name or a list; "integer" is a number written without fraction or exponent,
/// as the plan reader requires, so `1.0` is a number and not an integer), `properties`, `required`,
/// `additionalProperties` (false or a schema), `minProperties`/`maxProperties`, `items` (one schema for
/// every element), `enum`, `const`, `minItems`/`maxItems`, `minLength`/`maxLength` (in Unicode code
/// points, as JSON Schema counts), `pattern` (searched for, not anchored), `format` (`uuid`,
/// `date-time`, `uri`), `minimum`/`maximum`, `exclusiveMinimum`/`exclusiveMaximum`, `anyOf`, `oneOf`,
/// `not`, and `$ref` to a JSON pointer into the document the schema belongs to (`$defs` holds
/// definitions). Annotations (`description`, `title`, `default`, `examples`, `deprecated`, `readOnly`,
/// `writeOnly`, `contentMediaType`, `$comment`) are ignored; `true` and `false` are schemas. Any other
/// keyword — a typo such as `maxItem` — a `$ref` that does not resolve, a pattern that does not compile
/// or an unknown format makes the schema itself an error (`JSONSchemaError`), as does a keyword that
/// cannot apply to the schema's `type` (`maxLength` on an array), so a mistake in a schema can never
/// silently switch a check off.
///
/// The schema is read once, when the validator is made (every schema a `$ref` reaches included);
/// validating never throws. Recursion follows the schema, never the value: a value nested deeper than
/// its schema is not descended into, so a hostile value cannot exhaust the stack; the schema's own
/// depth is limited, and so is the chain of `$ref`s followed while checking one value.
public struct JSONSchemaValidator: Sendable {
    /// The deepest schema accepted; far beyond any answer schema (a plan's is 14 levels).
    public static let maxSchemaDepth = 64

    /// How many schemas deep checking one value may go, counting each `$ref` followed: a schema that
    /// refers to itself without consuming a level of the value stops here with a violation.
    public static let maxCheckDepth = 256

    private let root: SchemaNode
    private let references: [String: SchemaNode]

    /// Reads `schema`, whose `$ref`s point into `document` (the schema itself when nil); throws when it
    /// uses a keyword this validator does not support or misuses one, or a `$ref` does not resolve.
    public init(schema: JSONValue, document: JSONValue? = nil) throws(JSONSchemaError) {
        let compiler = SchemaCompiler(document: document ?? schema)
        root = try compiler.compile(schema, at: "", depth: 0)
        references = compiler.references
    }

    /// Every way `value` breaks the schema, in document order, at most `limit` of them; empty when it
    /// conforms. Checking stops once `limit` violations are found, so a huge bad value costs little.
    public func violations(of value: JSONValue, limit: Int = 20) -> [JSONSchemaViolation] {
        var run = Run(limit: max(limit, 0), references: references)
        guard run.limit > 0 else { return [] }
        run.check(value, against: root)
        return run.violations
    }

    /// The value `reference` (`#` followed by a JSON pointer, as in `#/components/schemas/Plan`) points
    /// to in `document`; nil when it points nowhere.
    public static func resolve(_ reference: String, in document: JSONValue) -> JSONValue? {
        guard reference.first == "#" else { return nil }
        let pointer = reference.dropFirst()
        guard !pointer.isEmpty else { return document }
        guard pointer.first == "/" else { return nil }
        var node: JSONValue? = document
        for token in pointer.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            let key = JSONPointer.unescape(String(token))
            switch node {
            case .object(let object)?: node = object[key]
            case .array(let elements)?:
                guard let index = Int(key), index >= 0, index < elements.count, String(index) == key else { return nil }
                node = elements[index]
            default: return nil
            }
        }
        return node
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
    let minProperties: Int?
    let maxProperties: Int?
    let items: SchemaNode?
    let enumValues: [JSONValue]?
    let constValue: JSONValue?
    let minItems: Int?
    let maxItems: Int?
    let minLength: Int?
    let maxLength: Int?
    let pattern: SchemaPattern?
    let format: SchemaFormat?
    let minimum: JSONValue?
    let maximum: JSONValue?
    let exclusiveMinimum: JSONValue?
    let exclusiveMaximum: JSONValue?
    let anyOf: [SchemaNode]?
    let oneOf: [SchemaNode]?
    let not: SchemaNode?
    /// The `$ref` (`#/components/schemas/Plan`), looked up among the validator's compiled references.
    let reference: String?

    fileprivate init(rejectsAll: Bool = false, types: [SchemaType]? = nil, propertyOrder: [String] = [],
                     properties: [String: SchemaNode] = [:], required: [String] = [],
                     additionalProperties: SchemaNode?? = nil, minProperties: Int? = nil, maxProperties: Int? = nil,
                     items: SchemaNode? = nil, enumValues: [JSONValue]? = nil, constValue: JSONValue? = nil,
                     minItems: Int? = nil, maxItems: Int? = nil, minLength: Int? = nil, maxLength: Int? = nil,
                     pattern: SchemaPattern? = nil, format: SchemaFormat? = nil,
                     minimum: JSONValue? = nil, maximum: JSONValue? = nil,
                     exclusiveMinimum: JSONValue? = nil, exclusiveMaximum: JSONValue? = nil,
                     anyOf: [SchemaNode]? = nil, oneOf: [SchemaNode]? = nil, not: SchemaNode? = nil, reference: String? = nil) {
        self.rejectsAll = rejectsAll
        self.types = types
        self.propertyOrder = propertyOrder
        self.properties = properties
        self.required = required
        self.additionalProperties = additionalProperties
        self.minProperties = minProperties
        self.maxProperties = maxProperties
        self.items = items
        self.enumValues = enumValues
        self.constValue = constValue
        self.minItems = minItems
        self.maxItems = maxItems
        self.minLength = minLength
        self.maxLength = maxLength
        self.pattern = pattern
        self.format = format
        self.minimum = minimum
        self.maximum = maximum
        self.exclusiveMinimum = exclusiveMinimum
        self.exclusiveMaximum = exclusiveMaximum
        self.anyOf = anyOf
        self.oneOf = oneOf
        self.not = not
        self.reference = reference
    }
}

/// Reads one schema and every schema its `$ref`s reach, once each (a schema that refers to itself is
/// read once and looked up while checking).
final class SchemaCompiler {
    let document: JSONValue
    /// The compiled target of every `$ref` met, by the reference's text.
    private(set) var references: [String: SchemaNode] = [:]
    private var compiling: Set<String> = []

    init(document: JSONValue) {
        self.document = document
    }

    /// The types each keyword constrains; a keyword whose types are all excluded by `type` is an error.
    private static let appliesTo: [String: Set<SchemaType>] = [
        "properties": [.object], "required": [.object], "additionalProperties": [.object],
        "minProperties": [.object], "maxProperties": [.object],
        "items": [.array], "minItems": [.array], "maxItems": [.array],
        "minLength": [.string], "maxLength": [.string], "pattern": [.string], "format": [.string],
        "minimum": [.integer, .number], "maximum": [.integer, .number],
        "exclusiveMinimum": [.integer, .number], "exclusiveMaximum": [.integer, .number],
    ]

    /// Keywords that only describe.
    private static let ignored: Set<String> = ["description", "title", "default", "examples", "deprecated", "readOnly",
                                               "writeOnly", "contentMediaType", "$comment"]
    private static let other: Set<String> = ["type", "enum", "const", "anyOf", "oneOf", "not", "$ref", "$defs"]

    func compile(_ schema: JSONValue, at location: String, depth: Int) throws(JSONSchemaError) -> SchemaNode {
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
        for key in object.keys where !Self.ignored.contains(key) && !Self.other.contains(key) && Self.appliesTo[key] == nil {
            let supported = Self.other.union(Self.appliesTo.keys).union(Self.ignored).sorted().joined(separator: ", ")
            throw fail(key, "unsupported keyword \"\(key)\"; supported: \(supported)")
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
        func branches(_ keyword: String) throws(JSONSchemaError) -> [SchemaNode]? {
            guard let value = object[keyword] else { return nil }
            guard case .array(let list) = value, !list.isEmpty else { throw fail(keyword, "\(keyword) must be a non-empty list of schemas") }
            var nodes: [SchemaNode] = []
            for (i, branch) in list.enumerated() { nodes.append(try child(branch, "/\(keyword)/\(i)")) }
            return nodes
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
                if let admitted = Self.appliesTo[key], admitted.isDisjoint(with: list) {
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
        var pattern: SchemaPattern?
        if let value = object["pattern"] {
            guard let source = value.stringValue else { throw fail("pattern", "pattern must be a regular expression in a string") }
            guard let compiled = SchemaPattern(source) else { throw fail("pattern", "the pattern \(Describe.quoted(source)) is not a regular expression") }
            pattern = compiled
        }
        var format: SchemaFormat?
        if let value = object["format"] {
            guard let name = value.stringValue, let known = SchemaFormat(rawValue: name) else {
                throw fail("format", "unknown format; use \(SchemaFormat.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            format = known
        }
        var not: SchemaNode?
        if let value = object["not"] { not = try child(value, "/not") }
        // Definitions are read here even when nothing refers to them, so a mistake in one is never silent.
        if let value = object["$defs"] {
            guard case .object(let definitions) = value else { throw fail("$defs", "$defs must be an object of schemas") }
            for (name, definition) in definitions { _ = try child(definition, "/$defs/" + JSONPointer.escape(name)) }
        }
        var reference: String?
        if let value = object["$ref"] {
            guard let text = value.stringValue else { throw fail("$ref", "$ref must be a reference in a string, like #/components/schemas/Name") }
            try compileReference(text) { message in fail("$ref", message) }
            reference = text
        }
        let node = SchemaNode(
            types: types, propertyOrder: propertyOrder, properties: properties, required: required,
            additionalProperties: additional, minProperties: try count("minProperties"), maxProperties: try count("maxProperties"),
            items: items, enumValues: enumValues, constValue: object["const"],
            minItems: try count("minItems"), maxItems: try count("maxItems"), minLength: try count("minLength"),
            maxLength: try count("maxLength"), pattern: pattern, format: format,
            minimum: try bound("minimum"), maximum: try bound("maximum"),
            exclusiveMinimum: try bound("exclusiveMinimum"), exclusiveMaximum: try bound("exclusiveMaximum"),
            anyOf: try branches("anyOf"), oneOf: try branches("oneOf"), not: not, reference: reference)
        for (low, least, high, most) in [("minItems", node.minItems, "maxItems", node.maxItems),
                                         ("minLength", node.minLength, "maxLength", node.maxLength),
                                         ("minProperties", node.minProperties, "maxProperties", node.maxProperties)] {
            if let least, let most, least > most { throw fail(low, "\(low) \(least) is more than \(high) \(most)") }
        }
        if let low = node.minimum, let high = node.maximum, Numbers.compare(low, high) == .greater {
            throw fail("minimum", "minimum is more than maximum")
        }
        return node
    }

    /// Reads the schema `reference` points to, unless it is read already or being read (a cycle).
    private func compileReference(_ reference: String, _ fail: (String) -> JSONSchemaError) throws(JSONSchemaError) {
        guard references[reference] == nil, !compiling.contains(reference) else { return }
        guard let target = JSONSchemaValidator.resolve(reference, in: document) else {
            throw fail("\(reference) does not resolve in the document")
        }
        compiling.insert(reference)
        defer { compiling.remove(reference) }
        references[reference] = try compile(target, at: String(reference.dropFirst()), depth: 0)
    }
}

/// A `pattern`: a regular expression in ECMA-262's syntax as JSON Schema asks (ICU's, through
/// `NSRegularExpression`, reads the same escapes, `\uXXXX` included), searched for anywhere in the
/// string (JSON Schema's patterns are not anchored); `.` is one code point, as JSON Schema counts.
///
/// Not Swift's `Regex`: it refuses some valid ranges outright (`[\u{2000}-\u{200A}]`, "invalid bound
/// for character class range", because U+2000 has a canonical decomposition), and the OpenAPI
/// document's blank-text class holds exactly that range.
struct SchemaPattern: @unchecked Sendable {
    // `NSRegularExpression` is immutable once made, and documented safe to use from several threads.
    let source: String
    private let expression: NSRegularExpression

    init?(_ source: String) {
        guard let expression = try? NSRegularExpression(pattern: source) else { return nil }
        self.source = source
        self.expression = expression
    }

    func isFound(in text: String) -> Bool {
        expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }
}

/// The `format`s this validator checks.
enum SchemaFormat: String, Sendable, CaseIterable {
    case uuid, dateTime = "date-time", uri

    func admits(_ text: String) -> Bool {
        switch self {
        case .uuid: Self.isUUID(text)
        case .dateTime: Self.isDateTime(text)
        case .uri: Self.isURI(text)
        }
    }

    /// 8-4-4-4-12 hexadecimal digits (RFC 9562's text form; either case).
    static func isUUID(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 36 else { return false }
        for (i, byte) in bytes.enumerated() {
            if [8, 13, 18, 23].contains(i) {
                guard byte == UInt8(ascii: "-") else { return false }
            } else if !isHexDigit(byte) {
                return false
            }
        }
        return true
    }

    /// RFC 3339 `date-time`: a full date, `T`, a full time with an optional fraction, then `Z` or `±HH:MM`;
    /// the date must exist (29 February only in leap years) and the time be in range (second 60 allowed).
    static func isDateTime(_ text: String) -> Bool {
        let b = Array(text.utf8)
        func number(_ start: Int, _ length: Int) -> Int? {
            guard start + length <= b.count else { return nil }
            var value = 0
            for byte in b[start..<(start + length)] {
                guard isDigit(byte) else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        func at(_ i: Int, _ characters: String) -> Bool { i < b.count && characters.utf8.contains(b[i]) }
        guard let year = number(0, 4), at(4, "-"), let month = number(5, 2), at(7, "-"), let day = number(8, 2), at(10, "Tt"),
              let hour = number(11, 2), at(13, ":"), let minute = number(14, 2), at(16, ":"), let second = number(17, 2) else { return false }
        var i = 19
        if at(i, ".") {
            i += 1
            let digits = i
            while i < b.count, isDigit(b[i]) { i += 1 }
            guard i > digits else { return false }
        }
        if at(i, "Zz") {
            i += 1
        } else if at(i, "+-") {
            guard let offsetHours = number(i + 1, 2), at(i + 3, ":"), let offsetMinutes = number(i + 4, 2),
                  offsetHours <= 23, offsetMinutes <= 59 else { return false }
            i += 6
        } else {
            return false
        }
        guard i == b.count else { return false }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return (1...12).contains(month) && (1...days[month - 1]).contains(day) && hour <= 23 && minute <= 59 && second <= 60
    }

    /// An absolute URI: a scheme (a letter, then letters, digits, `+`, `-` or `.`), `:`, and no white space
    /// or control characters after it.
    static func isURI(_ text: String) -> Bool {
        let b = Array(text.utf8)
        guard let colon = b.firstIndex(of: UInt8(ascii: ":")), colon > 0, isLetter(b[0]) else { return false }
        for byte in b[1..<colon] where !(isLetter(byte) || isDigit(byte) || "+-.".utf8.contains(byte)) { return false }
        return !b[(colon + 1)...].contains { $0 <= 0x20 || $0 == 0x7F }
    }

    private static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
    private static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }
    private static func isHexDigit(_ byte: UInt8) -> Bool {
        isDigit(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
    }
}

/// One validation: the violations found so far and the path of the value being checked.
private struct Run {
    let limit: Int
    let references: [String: SchemaNode]
    var violations: [JSONSchemaViolation] = []
    /// Escaped pointer tokens from the root; rendered only when a violation is recorded.
    private var tokens: [String] = []
    /// Schemas entered and not yet left, `$ref`s included.
    private var depth = 0

    init(limit: Int, references: [String: SchemaNode]) {
        self.limit = limit
        self.references = references
    }

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
        guard depth < JSONSchemaValidator.maxCheckDepth else {
            report("the schema refers to itself more than \(JSONSchemaValidator.maxCheckDepth) times for one value")
            return
        }
        depth += 1
        defer { depth -= 1 }
        if let reference = node.reference, let target = references[reference] {
            check(value, against: target)
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
        if let branches = node.oneOf { checkOneOf(value, branches) }
        if let excluded = node.not, firstProblem(of: value, against: excluded) == nil {
            report("matches a form it must not match")
        }
    }

    private mutating func checkObject(_ object: JSONObject, against node: SchemaNode) {
        for name in node.required where object[name] == nil {
            report("is required but missing", member: name)
        }
        if let least = node.minProperties, object.count < least {
            report("\(Describe.count(object.count, "member")), at least \(least) required")
        }
        if let most = node.maxProperties, object.count > most {
            report("\(Describe.count(object.count, "member")), at most \(most) allowed")
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
        if node.minLength != nil || node.maxLength != nil {
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
        if let pattern = node.pattern, !pattern.isFound(in: text) {
            report("\(Describe.value(.string(text))) does not match the pattern \(Describe.quoted(pattern.source))")
        }
        if let format = node.format, !format.admits(text) {
            report("\(Describe.value(.string(text))) is not a \(format.rawValue)")
        }
    }

    private mutating func checkNumber(_ value: JSONValue, against node: SchemaNode) {
        if let low = node.minimum, Numbers.compare(value, low) == .less {
            report("\(Describe.literal(value)) is less than the minimum of \(Describe.literal(low))")
        }
        if let high = node.maximum, Numbers.compare(value, high) == .greater {
            report("\(Describe.literal(value)) is more than the maximum of \(Describe.literal(high))")
        }
        if let low = node.exclusiveMinimum, Numbers.compare(value, low) != .greater {
            report("\(Describe.literal(value)) is not more than \(Describe.literal(low))")
        }
        if let high = node.exclusiveMaximum, Numbers.compare(value, high) != .less {
            report("\(Describe.literal(value)) is not less than \(Describe.literal(high))")
        }
    }

    /// The first way `value` breaks `node`, checked apart from this run's violations; nil when it conforms.
    private func firstProblem(of value: JSONValue, against node: SchemaNode) -> JSONSchemaViolation? {
        var trial = Run(limit: 1, references: references)
        trial.depth = depth
        trial.check(value, against: node)
        return trial.violations.first
    }

    private mutating func checkAnyOf(_ value: JSONValue, _ branches: [SchemaNode]) {
        var firstProblems: [String] = []
        for branch in branches {
            guard let problem = firstProblem(of: value, against: branch) else { return }
            firstProblems.append(problem.description)
        }
        report("matches none of the \(branches.count) allowed forms (\(firstProblems.joined(separator: "; or ")))")
    }

    private mutating func checkOneOf(_ value: JSONValue, _ branches: [SchemaNode]) {
        var firstProblems: [String] = []
        for branch in branches {
            if let problem = firstProblem(of: value, against: branch) { firstProblems.append(problem.description) }
        }
        switch branches.count - firstProblems.count {
        case 1: return
        case 0: report("matches none of the \(branches.count) forms, one of which it must match (\(firstProblems.joined(separator: "; or ")))")
        case let fitting: report("matches \(fitting) of the \(branches.count) forms, and must match exactly one")
        }
    }
}

/// RFC 6901 tokens: `~` is written `~0` and `/` is written `~1`.
enum JSONPointer {
    static func escape(_ token: String) -> String {
        guard token.utf8.contains(where: { $0 == UInt8(ascii: "~") || $0 == UInt8(ascii: "/") }) else { return token }
        return token.replacing("~", with: "~0").replacing("/", with: "~1")
    }

    /// The member name a token stands for (`~1` first, so that `~01` is `~1`).
    static func unescape(_ token: String) -> String {
        guard token.utf8.contains(UInt8(ascii: "~")) else { return token }
        return token.replacing("~1", with: "/").replacing("~0", with: "~")
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
