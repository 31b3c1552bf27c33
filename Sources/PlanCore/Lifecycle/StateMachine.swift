/// A finite state machine given as data: the legal transitions, each (state, event) → next state.
///
/// The table is the single source of truth: the executor and the API ask it what happens, the API
/// lists what is allowed now from it, and the store's CHECK constraints mirror its states.
public struct StateMachine<State: JSONEnumeration, Event: JSONEnumeration>: Sendable {
    /// One legal step.
    public struct Transition: Sendable, Hashable {
        public var from: State
        public var event: Event
        public var to: State
        public init(_ from: State, _ event: Event, _ to: State) {
            self.from = from
            self.event = event
            self.to = to
        }
    }

    /// What the machine governs, as named in errors ("plan", "atom").
    public let subject: String
    public let transitions: [Transition]
    private let table: [State: [Event: State]]

    /// Builds the machine; two transitions for one (state, event) would make it ambiguous and are refused.
    public init(subject: String, transitions: [Transition]) {
        var table: [State: [Event: State]] = [:]
        for transition in transitions {
            precondition(table[transition.from]?[transition.event] == nil,
                         "\(subject): two transitions for (\(transition.from.rawValue), \(transition.event.rawValue))")
            table[transition.from, default: [:]][transition.event] = transition.to
        }
        self.subject = subject
        self.transitions = transitions
        self.table = table
    }

    /// The state after `event` in `state`, or an `IllegalTransition` naming both.
    public func next(after event: Event, in state: State) throws(IllegalTransition) -> State {
        guard let target = table[state]?[event] else {
            throw IllegalTransition(subject: subject, state: state.rawValue, event: event.rawValue,
                                    allowedEvents: allowedEvents(in: state).map(\.rawValue))
        }
        return target
    }

    public func allows(_ event: Event, in state: State) -> Bool {
        table[state]?[event] != nil
    }

    /// The events accepted in `state`, in the order the event type declares them.
    public func allowedEvents(in state: State) -> [Event] {
        guard let row = table[state] else { return [] }
        return Event.allCases.filter { row[$0] != nil }
    }

    /// True when no event leads out of `state`.
    public func isTerminal(_ state: State) -> Bool {
        table[state]?.isEmpty ?? true
    }
}
