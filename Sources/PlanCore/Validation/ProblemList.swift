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
        let bytes = text.utf8.count
        if required && (bytes == 0 || text.allSatisfy(\.isWhitespace)) {
            add(.invalidValue, path(), "must not be empty")
        } else if bytes > limits.maxTextBytes {
            add(.outOfBounds, path(), "is \(bytes) bytes long, more than the limit of \(limits.maxTextBytes)")
        }
    }

    /// A number that must be positive and unique among its siblings.
    mutating func number(_ number: Int, of noun: String, at path: @autoclosure () -> JSONPath, firstUse: inout [Int: Int],
                         index: Int, describeFirst: (Int) -> String) {
        if number < 1 {
            add(.invalidValue, path(), "\(noun) numbers are positive integers, found \(number)")
        } else if let first = firstUse[number] {
            add(.duplicate, path(), "\(noun) number \(number) is already used by \(describeFirst(first))")
        } else {
            firstUse[number] = index
        }
    }
}
