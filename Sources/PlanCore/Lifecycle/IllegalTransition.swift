/// An event that the current state does not accept: the API answers it with 409 and this message.
public struct IllegalTransition: Error, Sendable, Hashable, CustomStringConvertible {
    public var subject: String
    public var state: String
    public var event: String
    /// What the state does accept, so the message says what could be done instead.
    public var allowedEvents: [String]

    public init(subject: String, state: String, event: String, allowedEvents: [String]) {
        self.subject = subject
        self.state = state
        self.event = event
        self.allowedEvents = allowedEvents
    }

    /// `cannot approve a plan that is executing; allowed now: pause, cancel, …`
    public var description: String {
        let allowed = allowedEvents.isEmpty ? "nothing (it is final)" : allowedEvents.joined(separator: ", ")
        let article = subject.first.map { "aeiou".contains($0) } == true ? "an" : "a"
        return "cannot \(event) \(article) \(subject) that is \(state); allowed now: \(allowed)"
    }
}
