import Foundation
import JSON
import PlanCore

/// Values from a JSON schema of the document: `valid` ones the schema accepts (checked against
/// `OpenAPISchemas` before they are returned) and `hostile` ones chosen to break it — wrong
/// types, numbers at and past the bounds, NaN-like and overlong strings.
struct SchemaSampler {
    let validator: OpenAPISchemas
    /// Values for properties with a meaning (ids of the world's things, known emails): nil to generate.
    var contextual: (String, inout SplitMix64) -> JSONValue? = { _, _ in nil }

    /// Characters for generated text: ASCII, accents, CJK, an emoji and a right-to-left override,
    /// so lengths in characters and bytes differ.
    static let alphabetScalars: [Unicode.Scalar] = alphabet.flatMap(\.unicodeScalars)
    static let alphabet: [Character] = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _-.,:;!?/'\"\\()[]{}<>@#$%&*+=~|`éüßЖ漢字😀\u{202E}\u{0301}\t\n")

    /// The schema behind a `$ref`, or the schema itself.
    func resolved(_ schema: JSONValue) -> JSONValue {
        if let reference = schema["$ref"]?.stringValue, let target = validator.resolve(reference) { return resolved(target) }
        return schema
    }

    /// A value `schema` accepts; nil when none was found in a few tries.
    func valid(_ schema: JSONValue, name: String = "", rng: inout SplitMix64, depth: Int = 0) -> JSONValue? {
        let schema = resolved(schema)
        if let value = contextual(name, &rng), validator.errors(value, against: schema).isEmpty { return value }
        for _ in 0..<12 {
            let candidate = generate(schema, name: name, rng: &rng, depth: depth)
            if validator.errors(candidate, against: schema).isEmpty { return candidate }
        }
        return nil
    }

    private func generate(_ schema: JSONValue, name: String, rng: inout SplitMix64, depth: Int) -> JSONValue {
        if let words = schema["enum"]?.arrayValue, !words.isEmpty { return words[Int.random(in: 0..<words.count, using: &rng)] }
        if let constant = schema["const"] { return constant }
        if let choices = (schema["oneOf"] ?? schema["anyOf"])?.arrayValue, !choices.isEmpty, schema["type"] == nil {
            let choice = choices[Int.random(in: 0..<choices.count, using: &rng)]
            return valid(choice, name: name, rng: &rng, depth: depth + 1) ?? .null
        }
        let types = schema["type"]?.arrayValue?.compactMap(\.stringValue) ?? schema["type"]?.stringValue.map { [$0] } ?? ["object"]
        // Null only now and then, where it is allowed.
        let nonNull = types.filter { $0 != "null" }
        let type = nonNull.isEmpty || (types.contains("null") && rng.chance(0.1))
            ? "null" : nonNull[Int.random(in: 0..<nonNull.count, using: &rng)]
        switch type {
        case "null": return .null
        case "boolean": return .bool(rng.chance(0.5))
        case "integer": return .int(integer(schema, rng: &rng))
        case "number":
            let low = schema["minimum"]?.doubleValue ?? schema["exclusiveMinimum"]?.doubleValue ?? -1_000
            let high = schema["maximum"]?.doubleValue ?? schema["exclusiveMaximum"]?.doubleValue ?? 1_000
            if rng.chance(0.15) { return .double(rng.chance(0.5) ? low : high) }
            if rng.chance(0.3) { return .int(Int64(Double.random(in: low...max(low, high), using: &rng).rounded())) }
            return .double((Double.random(in: low...max(low, high), using: &rng) * 100).rounded() / 100)
        case "string": return .string(string(schema, rng: &rng))
        case "array":
            let minimum = Int(schema["minItems"]?.intValue ?? 0)
            let maximum = min(Int(schema["maxItems"]?.intValue ?? 4), max(minimum, 4))
            let count = Int.random(in: minimum...max(minimum, maximum), using: &rng)
            guard depth < 6, let items = schema["items"] else { return .array([]) }
            return .array((0..<count).compactMap { _ in valid(items, name: name, rng: &rng, depth: depth + 1) })
        default:
            return .object(object(schema, rng: &rng, depth: depth))
        }
    }

    private func object(_ schema: JSONValue, rng: inout SplitMix64, depth: Int) -> JSONObject {
        var required = Set(schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        // "At least one of these" (anyOf of required lists): make one of them required.
        if let choices = schema["anyOf"]?.arrayValue, !choices.isEmpty {
            let choice = choices[Int.random(in: 0..<choices.count, using: &rng)]
            required.formUnion(choice["required"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        }
        var object = JSONObject()
        for (name, property) in schema["properties"]?.objectValue ?? JSONObject() {
            guard required.contains(name) || rng.chance(0.5) else { continue }
            if let value = valid(property, name: name, rng: &rng, depth: depth + 1) { object[name] = value }
        }
        return object
    }

    private func integer(_ schema: JSONValue, rng: inout SplitMix64) -> Int64 {
        let low = schema["minimum"]?.intValue ?? -1_000
        let high = schema["maximum"]?.intValue ?? max(low, 0) + 1_000
        if rng.chance(0.15) { return rng.chance(0.5) ? low : high }
        // Mostly small values near the bottom: ids and numbers of the world are small.
        let top = high - low > 50 ? low + 50 : high
        return Int64.random(in: low...max(low, top), using: &rng)
    }

    private func string(_ schema: JSONValue, rng: inout SplitMix64) -> String {
        switch schema["format"]?.stringValue {
        case "uuid": return rng.uuid().uuidString.lowercased()
        case "date-time": return Self.dateTime(rng: &rng)
        case "uri": return "https://example.org/\(Int.random(in: 0..<1000, using: &rng))"
        default: break
        }
        let minimum = Int(schema["minLength"]?.intValue ?? 0)
        let maximum = Int(schema["maxLength"]?.intValue ?? 60)
        var length: Int
        if rng.chance(0.05) {
            length = maximum  // at the bound, counted in characters
        } else {
            length = Int.random(in: minimum...max(minimum, min(maximum, minimum + 40)), using: &rng)
        }
        length = min(length, 300_000)
        var scalars = Array(Self.word(rng: &rng).unicodeScalars.prefix(max(length, 0)))
        if length - scalars.count > 1_000 {
            // Long text: a repeated run, not a scalar at a time.
            let run = (0..<64).map { _ in Self.alphabetScalars[Int.random(in: 0..<Self.alphabetScalars.count, using: &rng)] }
            while scalars.count < length { scalars += run.prefix(length - scalars.count) }
        }
        while scalars.count < length {
            scalars.append(Self.alphabetScalars[Int.random(in: 0..<Self.alphabetScalars.count, using: &rng)])
        }
        var text = ""
        text.unicodeScalars.append(contentsOf: scalars)
        return text
    }

    static func word(rng: inout SplitMix64) -> String {
        let words = ["plan", "FastAPI", "JWT", "données", "計画", "тест", "login", "retry", "😀 ok", "x"]
        return words[Int.random(in: 0..<words.count, using: &rng)]
    }

    /// An RFC 3339 time between 1990 and 2090, sometimes with a fraction or an offset.
    static func dateTime(rng: inout SplitMix64) -> String {
        let year = Int.random(in: 1990...2090, using: &rng)
        let month = Int.random(in: 1...12, using: &rng)
        let day = Int.random(in: 1...28, using: &rng)
        var text = String(format: "%04d-%02d-%02dT%02d:%02d:%02d", year, month, day,
                          Int.random(in: 0...23, using: &rng), Int.random(in: 0...59, using: &rng), Int.random(in: 0...59, using: &rng))
        if rng.chance(0.3) { text += "." + String(Int.random(in: 0...999_999, using: &rng)) }
        text += rng.chance(0.6) ? "Z" : String(format: "%@%02d:%02d", rng.chance(0.5) ? "+" : "-", Int.random(in: 0...14, using: &rng),
                                                 [0, 30, 45][Int.random(in: 0...2, using: &rng)])
        return text
    }

    /// A value meant to break `schema`: another type, a number past a bound, an overlong string.
    /// It may happen to be valid; the caller checks.
    func hostile(_ schema: JSONValue, rng: inout SplitMix64) -> JSONValue {
        let schema = resolved(schema)
        var candidates: [JSONValue] = Self.hostileValues
        if let maximum = schema["maximum"]?.doubleValue {
            candidates += [.double(maximum * 10), .double(maximum + 1), .double(maximum.nextUp)]
        }
        if let minimum = schema["minimum"]?.doubleValue {
            candidates += [.double(minimum - 1), .double(minimum.nextDown), .double(minimum / 10), .double(-minimum)]
        }
        if let maximum = schema["maxLength"]?.intValue, maximum < 2_000_000 {
            candidates.append(.string(String(repeating: "é", count: Int(maximum) + 1)))
            candidates.append(.string(String(repeating: "a", count: Int(maximum) + 1)))
        }
        if let maximum = schema["maxItems"]?.intValue, maximum < 1_000 {
            candidates.append(.array(Array(repeating: .string("a.py"), count: Int(maximum) + 1)))
        }
        if let words = schema["enum"]?.arrayValue?.compactMap(\.stringValue), let word = words.first {
            candidates += [.string(word.uppercased()), .string(" " + word), .string(word + "\u{0}x")]
        }
        return candidates[Int.random(in: 0..<candidates.count, using: &rng)]
    }

    static let hostileValues: [JSONValue] = [
        .null, .bool(true), .bool(false), .int(0), .int(-1), .int(1), .int(2_147_483_648), .int(-2_147_483_649),
        .int(Int64.max), .int(Int64.min), .double(1e308), .double(-1e308), .double(1e-300), .double(0.5), .double(-0.0),
        .double(4e-7), .double(123_456_789.123), .string("NaN"), .string("Infinity"), .string("-Infinity"), .string(""),
        .string(" \t\n"), .string("\u{00A0}\u{2003}"), .string("null"), .string("0"), .string("-1"),
        .string("99999999999999999999"), .string("1e400"), .string("' OR 1=1; DROP TABLE users; --"), .string("<script>x</script>"),
        .string("\u{202E}gnp.exe"), .string("%00"), .string(String(repeating: "😀", count: 3_000)),
        .string(String(repeating: "a", count: 120_000)), .array([]), .array([.int(1), .string("a")]), .object([:]),
        .object(["a": .object(["b": .array([.null])])]),
    ]
}

extension SplitMix64 {
    /// True with probability `p`.
    mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &self) < p }

    mutating func pick<T>(_ elements: [T]) -> T { elements[Int.random(in: 0..<elements.count, using: &self)] }

    /// A version-4 UUID from this generator (so a run can be replayed).
    mutating func uuid() -> UUID {
        let a = next(), b = next()
        var bytes = (0..<8).map { UInt8(truncatingIfNeeded: a >> ($0 * 8)) } + (0..<8).map { UInt8(truncatingIfNeeded: b >> ($0 * 8)) }
        bytes[6] = bytes[6] & 0x0F | 0x40
        bytes[8] = bytes[8] & 0x3F | 0x80
        return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                           bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
    }
}
