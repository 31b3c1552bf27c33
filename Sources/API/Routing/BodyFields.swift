import Foundation
import JSON

/// Reads the fields of a JSON request body, collecting every problem so one 422 lists them all.
///
/// The rules are the ones the OpenAPI document states for the body (`OpenAPIDocument+Schemas.swift`
/// writes them from the same constants): lengths count Unicode code points, as JSON Schema's
/// `maxLength` does; an optional field given as `null` counts as not given; a required one must be
/// there and not `null`; any other member is refused.
struct BodyFields {
    let object: JSONObject
    /// Prefix of the field names in errors, e.g. `subtasks[2].` for a nested object.
    let path: String
    private(set) var errors: [(field: String, message: String)] = []

    init(_ object: JSONObject, allowed: [String], path: String = "") {
        self.object = object
        self.path = path
        for key in object.keys where !allowed.contains(key) {
            let expected = allowed.isEmpty ? "this request takes no fields" : "expected: \(allowed.joined(separator: ", "))"
            errors.append((path + key, "is not a field of this request (\(expected))"))
        }
    }

    func has(_ key: String) -> Bool { object[key].map { !$0.isNull } ?? false }

    /// The value of `key`, or nil (with "is required" when `required`) when it is missing or null.
    private mutating func value(_ key: String, required: Bool) -> JSONValue? {
        guard let value = object[key], !value.isNull else {
            if required { errors.append((path + key, "is required")) }
            return nil
        }
        return value
    }

    /// A string of at most `maxLength` characters (Unicode code points); blank strings (nothing but
    /// `TextRules.blankScalars`) are refused unless `allowBlank`.
    mutating func string(_ key: String, required: Bool = false, maxLength: Int, allowBlank: Bool = false) -> String? {
        guard let value = value(key, required: required) else { return nil }
        guard let text = value.stringValue else {
            errors.append((path + key, "must be a string, not \(value.typeName)"))
            return nil
        }
        if let problem = TextRules.problem(text, maxLength: maxLength, allowBlank: allowBlank) {
            errors.append((path + key, problem))
            return nil
        }
        return text
    }

    /// A finite number in `range`; `unit` names what it counts in the message (e.g. "US dollars").
    mutating func number(_ key: String, in range: ClosedRange<Double>, unit: String) -> Double? {
        guard let value = value(key, required: false) else { return nil }
        guard let number = value.doubleValue, number.isFinite, range.contains(number) else {
            errors.append((path + key, "must be a number of \(unit) from \(TextRules.format(range.lowerBound)) to \(TextRules.format(range.upperBound))"))
            return nil
        }
        return number
    }

    /// A whole number in `range` (2 and 2.0 alike).
    mutating func integer(_ key: String, in range: ClosedRange<Int>, required: Bool = false) -> Int? {
        guard let value = value(key, required: required) else { return nil }
        guard let number = value.intValue, let whole = Int(exactly: number), range.contains(whole) else {
            errors.append((path + key, "must be a whole number from \(range.lowerBound) to \(range.upperBound)"))
            return nil
        }
        return whole
    }

    /// One of `words`.
    mutating func word(_ key: String, from words: [String], required: Bool = false) -> String? {
        guard let value = value(key, required: required) else { return nil }
        guard let text = value.stringValue, words.contains(text) else {
            errors.append((path + key, "must be one of: \(words.joined(separator: ", "))"))
            return nil
        }
        return text
    }

    /// A UUID in its text form; `what` names it in the message.
    mutating func uuid(_ key: String, what: String) -> UUID? {
        guard let value = value(key, required: false) else { return nil }
        guard let text = value.stringValue, let id = UUID(uuidString: text) else {
            errors.append((path + key, "must be \(what) (a UUID)"))
            return nil
        }
        return id
    }

    /// An array of at most `maxCount` strings, each non-blank and at most `maxLength` characters.
    mutating func strings(_ key: String, maxCount: Int, maxLength: Int) -> [String]? {
        guard let array = array(key, maxCount: maxCount, of: "strings") else { return nil }
        var texts: [String] = []
        for (index, element) in array.enumerated() {
            guard let text = element.stringValue else {
                errors.append(("\(path)\(key)[\(index)]", "must be a string, not \(element.typeName)"))
                return nil
            }
            if let problem = TextRules.problem(text, maxLength: maxLength, allowBlank: false) {
                errors.append(("\(path)\(key)[\(index)]", problem))
                return nil
            }
            texts.append(text)
        }
        return texts
    }

    /// True or false; nil when missing or null.
    mutating func bool(_ key: String) -> Bool? {
        guard let value = value(key, required: false) else { return nil }
        guard case .bool(let flag) = value else {
            errors.append((path + key, "must be true or false, not \(value.typeName)"))
            return nil
        }
        return flag
    }

    /// An array of at most `maxCount` entries, each a string of at most `maxLength` characters or
    /// null; a blank string reads as null (the caller's "no answer").
    mutating func optionalStrings(_ key: String, maxCount: Int, maxLength: Int) -> [String?]? {
        guard let array = array(key, maxCount: maxCount, of: "strings or nulls") else { return nil }
        var texts: [String?] = []
        for (index, element) in array.enumerated() {
            if element.isNull {
                texts.append(nil)
                continue
            }
            guard let text = element.stringValue else {
                errors.append(("\(path)\(key)[\(index)]", "must be a string or null, not \(element.typeName)"))
                return nil
            }
            if text.unicodeScalars.allSatisfy(TextRules.isBlank) {
                texts.append(nil)
            } else if let problem = TextRules.problem(text, maxLength: maxLength, allowBlank: false) {
                errors.append(("\(path)\(key)[\(index)]", problem))
                return nil
            } else {
                texts.append(text)
            }
        }
        return texts
    }

    /// An array of at most `maxCount` whole numbers, each in `range`.
    mutating func integers(_ key: String, maxCount: Int, in range: ClosedRange<Int>) -> [Int]? {
        guard let array = array(key, maxCount: maxCount, of: "whole numbers") else { return nil }
        var numbers: [Int] = []
        for (index, element) in array.enumerated() {
            guard let number = element.intValue, let whole = Int(exactly: number), range.contains(whole) else {
                errors.append(("\(path)\(key)[\(index)]", "must be a whole number from \(range.lowerBound) to \(range.upperBound)"))
                return nil
            }
            numbers.append(whole)
        }
        return numbers
    }

    /// An array of at most `maxCount` objects, each read by `read` with its own `BodyFields`
    /// (whose errors join these, named `key[index].field`).
    mutating func objects<T>(_ key: String, maxCount: Int, allowed: [String], read: (inout BodyFields) -> T?) -> [T]? {
        guard let array = array(key, maxCount: maxCount, of: "objects") else { return nil }
        var items: [T] = []
        var failed = false
        for (index, element) in array.enumerated() {
            guard let object = element.objectValue else {
                errors.append(("\(path)\(key)[\(index)]", "must be an object, not \(element.typeName)"))
                failed = true
                continue
            }
            var fields = BodyFields(object, allowed: allowed, path: "\(path)\(key)[\(index)].")
            let item = read(&fields)
            errors += fields.errors
            if let item, fields.errors.isEmpty { items.append(item) } else { failed = true }
        }
        return failed ? nil : items
    }

    private mutating func array(_ key: String, maxCount: Int, of what: String) -> [JSONValue]? {
        guard let value = value(key, required: false) else { return nil }
        guard let array = value.arrayValue else {
            errors.append((path + key, "must be an array of \(what), not \(value.typeName)"))
            return nil
        }
        guard array.count <= maxCount else {
            errors.append((path + key, "has \(array.count) elements; at most \(maxCount) are allowed"))
            return nil
        }
        return array
    }

    mutating func fail(_ key: String, _ message: String) { errors.append((path + key, message)) }

    /// Throws a 422 listing every problem, if there was any.
    func check() throws(Problem) {
        if !errors.isEmpty { throw .validationFailed(errors) }
    }
}

/// What makes a text field acceptable: its length in Unicode code points (JSON Schema's measure)
/// and, for most fields, at least one character that is not white space. The OpenAPI document's
/// `pattern` for non-blank text is built from the same list, so both agree on every character.
enum TextRules {
    /// White space: ECMAScript's `\s` and Unicode's White_Space together.
    static let blankScalars: [ClosedRange<UInt32>] = [
        0x09...0x0D, 0x20...0x20, 0x85...0x85, 0xA0...0xA0, 0x1680...0x1680, 0x2000...0x200A, 0x2028...0x2029,
        0x202F...0x202F, 0x205F...0x205F, 0x3000...0x3000, 0xFEFF...0xFEFF,
    ]

    static func isBlank(_ scalar: Unicode.Scalar) -> Bool { blankScalars.contains { $0.contains(scalar.value) } }

    /// The blank characters as the inside of a regular expression's character class.
    static let blankClass: String = blankScalars.map { range in
        range.count == 1 ? escape(range.lowerBound) : escape(range.lowerBound) + "-" + escape(range.upperBound)
    }.joined()

    /// A regular expression (ECMA-262) that matches text holding a character that is not blank.
    static let nonBlankPattern = "[^" + blankClass + "]"

    /// An email address as an account holds it (`users_email_format_check` of Migrations/0001): one
    /// `@` with something on either side and nothing blank anywhere.
    static let emailPattern = "^[^@" + blankClass + "]+@[^@" + blankClass + "]+$"

    static func isEmailAddress(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty && !text.unicodeScalars.contains(where: isBlank)
    }

    private static func escape(_ value: UInt32) -> String {
        let hex = String(value, radix: 16, uppercase: true)
        return "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    /// Why `text` is not acceptable, or nil.
    static func problem(_ text: String, maxLength: Int, allowBlank: Bool) -> String? {
        if !allowBlank && text.unicodeScalars.allSatisfy(isBlank) { return "must not be empty" }
        let length = text.unicodeScalars.count
        if length > maxLength { return "is \(length) characters long; at most \(maxLength) are allowed" }
        return nil
    }

    /// 0.01, 1000000: a bound as people write it.
    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}
