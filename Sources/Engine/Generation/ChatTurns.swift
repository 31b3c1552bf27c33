import LLM
import Store

/// Turns a stored conversation into the turns a provider accepts: user and assistant only, starting
/// with the user, alternating (consecutive messages of one role are joined, as when someone sends two
/// messages before the reply).
enum ChatTurns {
    /// The earlier messages of a conversation as request turns: system notes and empty messages are
    /// left out, and turns before the first user message are dropped.
    static func history(_ messages: [ChatExchange.Message]) -> [LLMRequest.Message] {
        let turns = messages.compactMap { message -> LLMRequest.Message? in
            guard let role = LLMRequest.Message.Role(rawValue: message.role),
                  !message.content.allSatisfy(\.isWhitespace) else { return nil }
            return LLMRequest.Message(role: role, content: message.content)
        }
        return Array(turns.drop(while: { $0.role != .user }))
    }

    /// `turns` with each run of same-role turns joined into one, separated by a blank line.
    static func alternating(_ turns: [LLMRequest.Message]) -> [LLMRequest.Message] {
        var result: [LLMRequest.Message] = []
        for turn in turns {
            if let last = result.last, last.role == turn.role {
                result[result.count - 1].content = last.content + "\n\n" + turn.content
            } else {
                result.append(turn)
            }
        }
        return result
    }
}
