/// Where a value sits inside a JSON document, written the way people and LLMs read it:
/// `phases[1].milestones[0].tasks[3].depends_on[0]`.
///
/// Stored as a chain from the last component back to the root, so `appending` costs one small
/// allocation however deep the path is: the parser makes one for every element it reads.
public struct JSONPath: Sendable, Hashable, CustomStringConvertible, ExpressibleByArrayLiteral {
    /// One step down from a container.
    public enum Component: Sendable, Hashable {
        case key(String)
        case index(Int)
    }

    private final class Node: Sendable {
        let parent: Node?
        let component: Component
        let depth: Int
        init(parent: Node?, component: Component) {
            self.parent = parent
            self.component = component
            self.depth = (parent?.depth ?? 0) + 1
        }
    }

    private let last: Node?

    /// The document itself.
    public static let root = JSONPath()

    public init() { last = nil }

    public init(_ components: [Component]) {
        var node: Node?
        for component in components { node = Node(parent: node, component: component) }
        last = node
    }

    public init(arrayLiteral elements: Component...) { self.init(elements) }

    private init(last: Node?) { self.last = last }

    public var isRoot: Bool { last == nil }

    public var count: Int { last?.depth ?? 0 }

    /// The components from the root down.
    public var components: [Component] {
        var result: [Component] = []
        result.reserveCapacity(count)
        var node = last
        while let current = node {
            result.append(current.component)
            node = current.parent
        }
        return result.reversed()
    }

    public func appending(_ key: String) -> JSONPath { JSONPath(last: Node(parent: last, component: .key(key))) }

    public func appending(_ index: Int) -> JSONPath { JSONPath(last: Node(parent: last, component: .index(index))) }

    /// True when `other` is this path or lies below it.
    public func isPrefix(of other: JSONPath) -> Bool {
        guard count <= other.count else { return false }
        var node = other.last
        for _ in 0..<(other.count - count) { node = node?.parent }
        return JSONPath(last: node) == self
    }

    public static func == (lhs: JSONPath, rhs: JSONPath) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var a = lhs.last, b = rhs.last
        while let left = a, let right = b {
            if left === right { return true }
            if left.component != right.component { return false }
            a = left.parent
            b = right.parent
        }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        var node = last
        while let current = node {
            hasher.combine(current.component)
            node = current.parent
        }
        hasher.combine(count)
    }

    /// The path as text; the root is written `(root)` so that a message about the whole document still names a place.
    public var description: String {
        if isRoot { return "(root)" }
        var text = ""
        for component in components {
            switch component {
            case .index(let i):
                text += "[\(i)]"
            case .key(let key) where Self.isIdentifier(key):
                if !text.isEmpty { text += "." }
                text += key
            case .key(let key):
                // Keys that are not plain identifiers are quoted, so the path stays unambiguous.
                text += "[\"" + key.replacingQuotes() + "\"]"
            }
        }
        return text
    }

    private static func isIdentifier(_ key: String) -> Bool {
        guard let first = key.utf8.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else { return false }
        return key.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
        }
    }
}

extension String {
    /// The string with `"` and `\` escaped and control characters shown as `\u{…}`, for quoting in messages.
    func replacingQuotes() -> String {
        var out = ""
        for scalar in unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F: out += "\\u{\(String(scalar.value, radix: 16))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// The string in double quotes, shortened to `limit` characters, for quoting a value in a message.
    func quotedForMessage(limit: Int = 60) -> String {
        let shortened = count > limit ? String(prefix(limit)) + "…" : self
        return "\"" + shortened.replacingQuotes() + "\""
    }
}
