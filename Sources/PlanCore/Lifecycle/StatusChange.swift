/// A legal change of a status: where it was, the events applied in order, and where they lead.
///
/// It can only be made through the status's state machine, so a store method that takes one can only
/// write a change the machine allows: the executor changes plans, waves and atoms with these, never with
/// a pair of words.
public struct StatusChange<Status: LifecycleStatus>: Sendable, Hashable {
    public let from: Status
    public let events: [Status.Event]
    public let to: Status

    /// `events` applied to `from` in order; the `IllegalTransition` of the first one that is not legal.
    public init(from: Status, _ events: Status.Event...) throws(IllegalTransition) {
        try self.init(from: from, events: events)
    }

    public init(from: Status, events: [Status.Event]) throws(IllegalTransition) {
        self.from = from
        self.events = events
        to = try Status.lifecycle.next(after: events, in: from)
    }

    /// `event` when `from` accepts it and it leads to `target`; otherwise the shortest legal route to `target`
    /// (a status loaded earlier may have moved on: a reviewer's resolution applies to whatever it is now).
    public init(from: Status, _ event: Status.Event, orReaching target: Status) throws(IllegalTransition) {
        if let direct = try? StatusChange(from: from, event), direct.to == target {
            self = direct
        } else {
            try self.init(from: from, reaching: target)
        }
    }

    /// The shortest legal route from `from` to `target` (`StateMachine.route`), for a change whose caller
    /// knows where it must end (a status to restore, a resolution applied to a status loaded earlier).
    public init(from: Status, reaching target: Status) throws(IllegalTransition) {
        guard let events = Status.lifecycle.route(from: from, to: target) else {
            throw IllegalTransition(subject: Status.lifecycle.subject, state: from.rawValue, event: "become \(target.rawValue)",
                                    allowedEvents: Status.lifecycle.allowedEvents(in: from).map(\.rawValue))
        }
        self.from = from
        self.events = events
        to = target
    }
}
