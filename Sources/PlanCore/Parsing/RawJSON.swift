import JSON

/// A JSON document as the schema reader consumes it: like `JSONValue`, except that an object is only
/// its members in order, with no hash index.
///
/// Why a second tree: building `JSONObject`s, each with its own dictionary, was a third of the time
/// spent reading a 1,000-task plan, and the schema reader finds members by comparing a handful of
/// short keys anyway. Stored plans arrive as `JSONValue` and are converted (`init(_:)`); callers
/// that want the document itself get a `JSONValue` back (`jsonValue`).
enum RawJSON: Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([RawJSON])
    case object(RawObject)

    init(_ value: JSONValue) {
        switch value {
        case .null: self = .null
        case .bool(let flag): self = .bool(flag)
        case .int(let number): self = .int(number)
        case .double(let number): self = .double(number)
        case .string(let text): self = .string(text)
        case .array(let elements): self = .array(elements.map(RawJSON.init))
        case .object(let object): self = .object(RawObject(members: object.members.map { ($0.key, RawJSON($0.value)) }))
        }
    }

    var jsonValue: JSONValue {
        switch self {
        case .null: return .null
        case .bool(let flag): return .bool(flag)
        case .int(let number): return .int(number)
        case .double(let number): return .double(number)
        case .string(let text): return .string(text)
        case .array(let elements): return .array(elements.map(\.jsonValue))
        case .object(let object): return .object(JSONObject(object.members.map { ($0.key, $0.value.jsonValue) }))
        }
    }
}

/// The members of a JSON object in document order; keys are unique (the reader refuses duplicates).
struct RawObject: Sendable {
    var members: [(key: String, value: RawJSON)]

    var count: Int { members.count }

    /// The member's value, found by comparing keys in order: schema objects have at most nine members,
    /// and a few comparisons of short strings beat hashing.
    func member(_ key: String) -> RawJSON? {
        for member in members where member.key == key { return member.value }
        return nil
    }
}
