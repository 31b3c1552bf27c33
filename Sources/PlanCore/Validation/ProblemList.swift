/// Problems collected by `PlanValidator`, with the small checks it repeats everywhere.
struct ProblemList {
    var problems: [PlanProblem] = []

    mutating func add(_ kind: PlanProblem.Kind, _ path: JSONPath, _ message: String) {
        problems.append(PlanProblem(kind, at: path, message))
    }

    /// A name, description or criterion: present when required, and not too large.
    ///
    /// The path is built only when there is a problem: a large plan has tens of thousands of texts.
    mutating func text(_ text: String, at path: @autoclosure () -> JSONPath, required: Bool, limits: PlanLimits) {
        if required && (text.isEmpty || text.allSatisfy(\.isWhitespace)) {
            add(.invalidValue, path(), "must not be empty")
        } else if let length = Self.length(of: text, over: limits.maxTextLength) {
            add(.outOfBounds, path(), "is \(length) characters long, more than the limit of \(limits.maxTextLength)")
        }
    }

    /// The text's length in code points when it is over `limit`, else nil; counts only when the bytes
    /// say it may be (a text has at least as many UTF-8 bytes as code points).
    static func length(of text: String, over limit: Int) -> Int? {
        guard text.utf8.count > limit else { return nil }
        let length = text.unicodeScalars.count
        return length > limit ? length : nil
    }

    /// A list with no limit of its own (`PlanLimits.maxListItems`): its count, and the length of each text in it.
    mutating func list(_ texts: [String], at path: @autoclosure () -> JSONPath, limits: PlanLimits) {
        if texts.count > limits.maxListItems {
            add(.outOfBounds, path(), "the list has \(texts.count) entries, more than the limit of \(limits.maxListItems)")
        }
        for (i, entry) in texts.enumerated() {
            text(entry, at: path().appending(i), required: false, limits: limits)
        }
    }

    /// A number that must be positive and unique among its siblings.
    mutating func number(_ number: Int, of noun: String, at path: @autoclosure () -> JSONPath, firstUse: inout [Int: Int],
                         index: Int, limits: PlanLimits, describeFirst: (Int) -> String) {
        if number < 1 {
            add(.invalidValue, path(), "\(noun) numbers are positive integers, found \(number)")
        } else if number > limits.maxNumber {
            add(.outOfBounds, path(), "\(noun) number \(number) is more than the largest allowed, \(limits.maxNumber)")
        } else if let first = firstUse[number] {
            add(.duplicate, path(), "\(noun) number \(number) is already used by \(describeFirst(first))")
        } else {
            firstUse[number] = index
        }
    }
}
