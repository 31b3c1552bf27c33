-- 0017_llm_calls_estimated_usage.sql
--
-- Usage that is never silently zero. A server that streams no usage (llama.cpp's OpenAI-compatible
-- server) left a call's tokens and cost NULL (0007), and sums that skip NULLs read as "free". The
-- LLM client now estimates the tokens from the text of such a call and says so:
--   llm_calls.usage_estimated         the row's tokens (and the cost computed from them) are an
--                                     estimate from the text, because the provider reported none
--   masterplans.actual_cost_estimated the plan's actual_cost_usd includes at least one such row; kept
--                                     by masterplan_add_llm_cost() in the UPDATE that already adds the
--                                     call's cost, so reading it costs a plan nothing (GET /masterplans
--                                     lists plans from their rows alone)
--
-- Rows written before this migration keep false: their NULLs were never estimated and stay unknown.

ALTER TABLE llm_calls ADD COLUMN usage_estimated boolean NOT NULL DEFAULT false;

COMMENT ON COLUMN llm_calls.usage_estimated IS
    'Tokens and cost estimated from the text because the provider reported none; false when reported (or unknown, NULL).';

ALTER TABLE masterplans ADD COLUMN actual_cost_estimated boolean NOT NULL DEFAULT false;

COMMENT ON COLUMN masterplans.actual_cost_estimated IS
    'True once any llm_calls row of this plan has usage_estimated, so actual_cost_usd is partly an estimate. '
    'Maintained by the llm_calls_add_cost trigger (0017). Do not write it.';

CREATE OR REPLACE FUNCTION masterplan_add_llm_cost() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE masterplans
    SET actual_cost_usd = actual_cost_usd + coalesce(NEW.cost_usd, 0),
        actual_cost_estimated = actual_cost_estimated OR NEW.usage_estimated
    WHERE id = NEW.plan_id;
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION masterplan_add_llm_cost() IS
    'AFTER INSERT trigger on llm_calls: adds the call''s cost to masterplans.actual_cost_usd and its usage_estimated '
    'to masterplans.actual_cost_estimated in the same transaction.';

-- Also for an estimated call whose cost is 0 or unknown: the flag must reach the plan all the same.
DROP TRIGGER llm_calls_add_cost ON llm_calls;
CREATE TRIGGER llm_calls_add_cost AFTER INSERT ON llm_calls
    FOR EACH ROW WHEN (NEW.plan_id IS NOT NULL AND (NEW.cost_usd > 0 OR NEW.usage_estimated))
    EXECUTE FUNCTION masterplan_add_llm_cost();
