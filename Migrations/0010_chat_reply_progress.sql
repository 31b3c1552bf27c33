-- 0010_chat_reply_progress.sql
--
-- Adds the event type that streams a chat reply to the browser while the model writes it
-- (DESIGN.md §7). The `chat` job emits it on the conversation (plan_id NULL), at most every
-- 250 ms while the reply grows, always before the `chat_message` that stores the reply:
--   {"conversation_id", "message_id" (the user message answered), "text" (the whole reply so far,
--    not a delta, so a client that joins late or misses one is still right), "characters"}

INSERT INTO event_types (name, description) VALUES
    ('chat_reply_progress', 'The chat reply written so far, while the model streams it; chat_message follows with the stored reply.');
