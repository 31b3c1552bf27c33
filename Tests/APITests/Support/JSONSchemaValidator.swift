import Foundation
import JSON

/// A JSON Schema (2020-12) validator for the subset the OpenAPI document uses: `$ref` into the
/// document, `type` (one or a list), `enum`, `const`, `properties`, `required`,
/// `additionalProperties`, `minProperties`/`maxProperties`, `items`, `minItems`/`maxItems`,
/// `minLength`/`maxLength` (in Unicode code points), `pattern`, `minimum`/`maximum`,
/// `exclusiveMinimum`/`exclusiveMaximum`, `format` (`uuid`, `date-time`, `uri`), `oneOf`, `anyOf`, `not`.
///
/// A keyword outside the subset is reported as an error of the schema itself, so a document cannot
/// use a rule this validator would silently skip.
struct JSONSchemaValidator {
    /// The whole document, for `$ref`s of the form `#/components/schemas/Name`.
    let document: JSONValue

    /// Keywords that only describe.
    static let annotations: Set<String> = ["description", "title", "contentMediaType", "default", "examples", "deprecated",
                                           "readOnly", "writeOnly", "$comment"]
    static let keywords: Set<String> = ["$ref", "type", "enum", "const", "properties", "required", "additionalProperties",
                                        "minProperties", "maxProperties", "items", "minItems", "maxItems", "minLength",
                                        "maxLength", "pattern", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
                                        "format", "oneOf", "anyOf", "not"]
    static let formats: Set<String> = ["uuid", "date-time", "uri"]

    /// Every way `instance` breaks `schema`, as "path: reason" lines; empty when it is valid.
    func errors(_ instance: JSONValue, against schema: JSONValue, at path: String = "$") -> [String] {
        guard case .object(let rules) = schema else {
            if schema == .bool(true) { return [] }
            if schema == .bool(false) { return ["\(path): no value is allowed here"] }
            return ["\(path): the schema is not an object"]
        }
        var found: [String] = []
        for key in rules.keys where !Self.keywords.contains(key) && !Self.annotations.contains(key) {
            found.append("\(path): the schema uses '\(key)', which this validator does not know")
        }
        if let reference = rules["$ref"]?.stringValue {
            guard let target = resolve(reference) else { return found + ["\(path): \(reference) does not resolve"] }
            found += errors(instance, against: target, at: path)
        }
        if let type = rules["type"] {
            let allowed = type.arrayValue?.compactMap(\.stringValue) ?? type.stringValue.map { [$0] } ?? []
            if !allowed.contains(where: { Self.matches(instance, type: $0) }) {
                return found + ["\(path): is \(instance.typeName), not \(allowed.joined(separator: " or "))"]
            }
        }
        if let words = rules["enum"]?.arrayValue, !words.contains(where: { Self.equal($0, instance) }) {
            found.append("\(path): \(instance.jsonText.prefix(60)) is not one of \(JSONValue.array(words).jsonText)")
        }
        if let constant = rules["const"], !Self.equal(constant, instance) {
            found.append("\(path): is not \(constant.jsonText)")
        }
        switch instance {
        case .object(let object):
            found += objectErrors(object, rules, path)
        case .array(let elements):
            if let minimum = rules["minItems"]?.intValue.map(Int.init), elements.count < minimum {
                found.append("\(path): has \(elements.count) items, fewer than \(minimum)")
            }
            if let maximum = rules["maxItems"]?.intValue.map(Int.init), elements.count > maximum {
                found.append("\(path): has \(elements.count) items, more than \(maximum)")
            }
            if let items = rules["items"] {
                for (index, element) in elements.enumerated() { found += errors(element, against: items, at: "\(path)[\(index)]") }
            }
        case .string(let text):
            let length = text.unicodeScalars.count
            if let minimum = rules["minLength"]?.intValue.map(Int.init), length < minimum {
                found.append("\(path): is \(length) characters long, fewer than \(minimum)")
            }
            if let maximum = rules["maxLength"]?.intValue.map(Int.init), length > maximum {
                found.append("\(path): is \(length) characters long, more than \(maximum)")
            }
            if let pattern = rules["pattern"]?.stringValue {
                switch Self.search(pattern, in: text) {
                case nil: found.append("\(path): the pattern \(pattern) is not a regular expression")
                case false?: found.append("\(path): \(text.debugDescription.prefix(60)) does not match \(pattern)")
                default: break
                }
            }
            if let format = rules["format"]?.stringValue {
                if !Self.formats.contains(format) {
                    found.append("\(path): the schema uses format '\(format)', which this validator does not know")
                } else if !Self.matches(text, format: format) {
                    found.append("\(path): \(text.debugDescription.prefix(60)) is not a \(format)")
                }
            }
        case .int, .double:
            let number = instance.doubleValue ?? .nan
            if let minimum = rules["minimum"]?.doubleValue, !(number >= minimum) { found.append("\(path): \(number) is below \(minimum)") }
            if let maximum = rules["maximum"]?.doubleValue, !(number <= maximum) { found.append("\(path): \(number) is above \(maximum)") }
            if let minimum = rules["exclusiveMinimum"]?.doubleValue, !(number > minimum) {
                found.append("\(path): \(number) is not above \(minimum)")
            }
            if let maximum = rules["exclusiveMaximum"]?.doubleValue, !(number < maximum) {
                found.append("\(path): \(number) is not below \(maximum)")
            }
        default:
            break
        }
        if let choices = rules["oneOf"]?.arrayValue {
            let fitting = choices.filter { errors(instance, against: $0, at: path).isEmpty }.count
            if fitting != 1 { found.append("\(path): fits \(fitting) of the oneOf schemas, not exactly one") }
        }
        if let choices = rules["anyOf"]?.arrayValue, !choices.contains(where: { errors(instance, against: $0, at: path).isEmpty }) {
            found.append("\(path): fits none of the anyOf schemas")
        }
        if let excluded = rules["not"], errors(instance, against: excluded, at: path).isEmpty {
            found.append("\(path): fits the schema it must not fit")
        }
        return found
    }

    private func objectErrors(_ object: JSONObject, _ rules: JSONObject, _ path: String) -> [String] {
        var found: [String] = []
        let properties = rules["properties"]?.objectValue ?? JSONObject()
        for name in rules["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where object[name] == nil {
            found.append("\(path): '\(name)' is required")
        }
        if let minimum = rules["minProperties"]?.intValue.map(Int.init), object.count < minimum {
            found.append("\(path): has \(object.count) members, fewer than \(minimum)")
        }
        if let maximum = rules["maxProperties"]?.intValue.map(Int.init), object.count > maximum {
            found.append("\(path): has \(object.count) members, more than \(maximum)")
        }
        for (name, value) in object {
            if let property = properties[name] {
                found += errors(value, against: property, at: "\(path).\(name)")
            } else if let additional = rules["additionalProperties"] {
                if additional == .bool(false) {
                    found.append("\(path): '\(name)' is not allowed here")
                } else {
                    found += errors(value, against: additional, at: "\(path).\(name)")
                }
            }
        }
        return found
    }

    /// `#/components/schemas/Name` (any JSON pointer into the document).
    func resolve(_ reference: String) -> JSONValue? {
        guard reference.hasPrefix("#/") else { return nil }
        var node: JSONValue? = document
        for token in reference.dropFirst(2).split(separator: "/") {
            let key = token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            node = node?[key]
        }
        return node
    }

    static func matches(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object): true
        case ("number", .int), ("number", .double): true
        case ("integer", .int): true
        case ("integer", .double(let number)): number.rounded() == number && number.isFinite
        default: false
        }
    }

    /// JSON equality (1 and 1.0 are the same number).
    static func equal(_ a: JSONValue, _ b: JSONValue) -> Bool {
        if let x = a.doubleValue, let y = b.doubleValue { return x == y }
        return a == b
    }

    static func matches(_ text: String, format: String) -> Bool {
        switch format {
        case "uuid": search("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", in: text) == true
        case "date-time": isDateTime(text)
        case "uri": search("^[A-Za-z][A-Za-z0-9+.-]*:[^\\s]*$", in: text) == true
        default: false
        }
    }

    /// RFC 3339 `date-time`: full date, `T`, full time with an optional fraction, `Z` or `±HH:MM`.
    static func isDateTime(_ text: String) -> Bool {
        let pattern = "^(\\d{4})-(\\d{2})-(\\d{2})[Tt](\\d{2}):(\\d{2}):(\\d{2})(\\.\\d+)?([Zz]|[+-](\\d{2}):(\\d{2}))$"
        guard let expression = RegexCache.shared.expression(pattern),
              let match = expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) else { return false }
        func number(_ group: Int) -> Int? {
            guard let range = Range(match.range(at: group), in: text) else { return nil }
            return Int(text[range])
        }
        guard let year = number(1), let month = number(2), let day = number(3), let hour = number(4), let minute = number(5),
              let second = number(6) else { return false }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard (1...12).contains(month), (1...days[month - 1]).contains(day), hour <= 23, minute <= 59, second <= 60 else { return false }
        if let offsetHours = number(9), let offsetMinutes = number(10) { return offsetHours <= 23 && offsetMinutes <= 59 }
        return true
    }

    /// Whether `pattern` (ECMA-262 style, unanchored) finds a match in `text`; nil when it does not compile.
    static func search(_ pattern: String, in text: String) -> Bool? {
        guard let expression = RegexCache.shared.expression(pattern) else { return nil }
        return expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }
}

/// Compiled patterns, shared by every validator (the document has a handful; compiling one is slow).
final class RegexCache: @unchecked Sendable {
    // Every access to `compiled` holds `lock`.
    static let shared = RegexCache()
    private let lock = NSLock()
    private var compiled: [String: NSRegularExpression] = [:]

    func expression(_ pattern: String) -> NSRegularExpression? {
        lock.lock()
        defer { lock.unlock() }
        if let expression = compiled[pattern] { return expression }
        guard let expression = try? NSRegularExpression(pattern: pattern) else { return nil }
        compiled[pattern] = expression
        return expression
    }
}
