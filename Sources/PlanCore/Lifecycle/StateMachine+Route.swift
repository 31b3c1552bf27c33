extension StateMachine {
    /// The shortest sequence of legal events that leads from `state` to `target` (empty when they are the
    /// same), or nil when `target` cannot be reached. Ties go to the event declared first.
    ///
    /// For a change the caller knows only by its ends (a status loaded earlier, a status to restore), this
    /// is the legal way through the machine; every step of it is a transition the table lists.
    public func route(from state: State, to target: State) -> [Event]? {
        if state == target { return [] }
        var routes: [State: [Event]] = [state: []]
        var frontier = [state]
        while !frontier.isEmpty {
            var following: [State] = []
            for current in frontier {
                for event in allowedEvents(in: current) {
                    guard let reached = try? next(after: event, in: current), routes[reached] == nil else { continue }
                    let route = routes[current, default: []] + [event]
                    if reached == target { return route }
                    routes[reached] = route
                    following.append(reached)
                }
            }
            frontier = following
        }
        return nil
    }

    /// The state after `events` in order, or the `IllegalTransition` of the first one `state` does not accept.
    public func next(after events: [Event], in state: State) throws(IllegalTransition) -> State {
        var current = state
        for event in events { current = try next(after: event, in: current) }
        return current
    }
}
