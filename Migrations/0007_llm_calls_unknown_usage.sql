-- 0007_llm_calls_unknown_usage.sql
--
-- Lets llm_calls record usage that is unknown as unknown (NULL) rather than as 0: llama.cpp's
-- OpenAI-compatible server sends no usage while streaming, and a model missing from the price
-- table has no cost. A 0 there would read as "free", which is false. Sums over these columns
-- (GET /usage, the cost trigger, which fires only for cost_usd > 0) skip NULLs.

ALTER TABLE llm_calls
    ALTER COLUMN input_tokens  DROP NOT NULL,
    ALTER COLUMN input_tokens  DROP DEFAULT,
    ALTER COLUMN output_tokens DROP NOT NULL,
    ALTER COLUMN output_tokens DROP DEFAULT,
    ALTER COLUMN cached_tokens DROP NOT NULL,
    ALTER COLUMN cached_tokens DROP DEFAULT,
    ALTER COLUMN cost_usd      DROP NOT NULL,
    ALTER COLUMN cost_usd      DROP DEFAULT;

COMMENT ON COLUMN llm_calls.input_tokens IS 'Prompt tokens as the provider reported them; NULL when it reported none.';
COMMENT ON COLUMN llm_calls.cost_usd IS 'Cost from the price table; NULL when the model has no price there (unknown, not free).';
