-- 0020_live_generation_text.sql
--
-- The discovery and the plan stream into the page as they are written: the token-progress events of
-- a generation call now come at most every second and carry the end of the answer written so far
-- (`text`, its last 4,000 characters, and `text_offset`, where that text starts in the answer).

UPDATE event_types SET description = 'Progress of the discovery call, at most every second: characters so far, the end of the answer as written, real token counts when done.'
WHERE name = 'discovery_tokens_progress';
UPDATE event_types SET description = 'Progress of a plan, repair or acceptance-test call, at most every second: characters so far, the end of the answer as written, real token counts when done.'
WHERE name = 'masterplan_tokens_progress';
