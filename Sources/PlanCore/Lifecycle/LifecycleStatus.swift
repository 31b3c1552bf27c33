/// A status whose legal changes are a `StateMachine`: plan, task, atom, review, job and wave statuses.
public protocol LifecycleStatus: JSONEnumeration {
    associatedtype Event: JSONEnumeration
    static var lifecycle: StateMachine<Self, Event> { get }
}

extension LifecycleStatus {
    /// The status after `event`, or an `IllegalTransition` naming this status and the event.
    public func applying(_ event: Event) throws(IllegalTransition) -> Self {
        try Self.lifecycle.next(after: event, in: self)
    }

    public var allowedEvents: [Event] { Self.lifecycle.allowedEvents(in: self) }

    public var isTerminal: Bool { Self.lifecycle.isTerminal(self) }
}
