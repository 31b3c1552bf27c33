-- 0006_events.sql
--
-- Creates the progress feed that browsers receive over SSE (DESIGN.md §2, §7):
--   event_types             the allowed event names (SSE `event:` names); a later migration adds
--                           a name with a plain INSERT, no constraint rewrite
--   events                  one row per event, id = SSE id (Last-Event-ID replay reads from here)
--   masterplan_emit_event() the only way to write an event: insert + NOTIFY masterplan_events <id>
--                           in the caller's transaction, in commit order
--
-- NOTIFY only wakes the relay; its payload is the id (NOTIFY payloads are limited to 8000 bytes),
-- the relay reads the row. A rolled-back transaction leaves neither row nor notification.

CREATE TABLE event_types (
    name        text PRIMARY KEY,
    description text NOT NULL,
    CONSTRAINT event_types_name_check CHECK (name ~ '^[a-z][a-z0-9_]{0,62}$')
);

COMMENT ON TABLE event_types IS
    'Allowed values of events.type. Extend with INSERT INTO event_types (name, description) VALUES (...).';

INSERT INTO event_types (name, description) VALUES
    ('discovery_generation_start',     'Discovery for a request started.'),
    ('discovery_tokens_progress',      'Tokens received so far while generating the discovery.'),
    ('discovery_generation_complete',  'Discovery stored.'),
    ('masterplan_generation_start',    'Plan generation (or regeneration) started.'),
    ('masterplan_tokens_progress',     'Real token counts while generating the plan, at most every 5 s.'),
    ('masterplan_generation_complete', 'Plan and acceptance tests stored as a draft.'),
    ('masterplan_generation_failed',   'Generation gave up; plan is generation_failed.'),
    ('plan_status_changed',            'Plan status moved from one value to another.'),
    ('masterplan_execution_start',     'Execution of an approved plan started.'),
    ('wave_execution_start',           'A wave started.'),
    ('atom_execution_progress',        'An atom changed state (running, attempt n, validating).'),
    ('atom_execution_complete',        'An atom finished: succeeded, failed or needs review.'),
    ('wave_execution_complete',        'A wave finished and was committed.'),
    ('acceptance_test_result',         'One acceptance test run finished.'),
    ('gate_validation_result',         'Gate S evaluated for a wave (or repair round).'),
    ('review_created',                 'A review was queued.'),
    ('review_resolved',                'A review was approved, edited, regenerated, rejected or waived.'),
    ('cost_warning',                   'Plan spending crossed 80 % of its budget.'),
    ('masterplan_execution_complete',  'Execution ended: completed, failed, blocked or cancelled.'),
    ('chat_message',                   'A chat message was added to a conversation.');

CREATE TABLE events (
    id              bigserial   PRIMARY KEY,
    owner_id        uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    plan_id         uuid        REFERENCES masterplans (id) ON DELETE CASCADE,
    conversation_id uuid        REFERENCES conversations (id) ON DELETE CASCADE,
    type            text        NOT NULL REFERENCES event_types (name) ON DELETE RESTRICT ON UPDATE CASCADE,
    payload         jsonb       NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT events_payload_check CHECK (jsonb_typeof(payload) = 'object')
);

-- Replay for a plan stream and for a user's stream: WHERE plan_id = $1 AND id > $last ORDER BY id.
CREATE INDEX events_plan_idx         ON events (plan_id, id) WHERE plan_id IS NOT NULL;
CREATE INDEX events_owner_idx        ON events (owner_id, id);
CREATE INDEX events_conversation_idx ON events (conversation_id, id) WHERE conversation_id IS NOT NULL;
-- Retention (delete old events by age); BRIN is tiny for an append-only, time-ordered table.
CREATE INDEX events_created_brin     ON events USING brin (created_at);

COMMENT ON TABLE events IS
    'SSE feed. Write only through masterplan_emit_event(), which makes ids visible in commit order '
    '(a reader that has seen id N never later sees a smaller id appear).';
COMMENT ON COLUMN events.owner_id IS 'User allowed to see the event; equals the plan''s / conversation''s owner.';
COMMENT ON COLUMN events.payload IS 'The SSE data object; the relay adds id, plan_id, type and created_at.';

CREATE FUNCTION masterplan_emit_event(p_owner uuid, p_plan uuid, p_conversation uuid,
                                      p_type text, p_payload jsonb) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_owner uuid := p_owner;
    v_other uuid;
    v_id    bigint;
BEGIN
    -- The owner decides who may see the event, so it must agree with the plan's and the
    -- conversation's owner; when p_owner is NULL it is taken from them.
    IF p_plan IS NOT NULL THEN
        SELECT owner_id INTO v_other FROM masterplans WHERE id = p_plan;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'masterplan_emit_event: plan % does not exist', p_plan
                USING ERRCODE = 'foreign_key_violation';
        END IF;
        IF v_owner IS NULL THEN
            v_owner := v_other;
        ELSIF v_owner <> v_other THEN
            RAISE EXCEPTION 'masterplan_emit_event: owner % does not own plan %', v_owner, p_plan
                USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    IF p_conversation IS NOT NULL THEN
        SELECT owner_id INTO v_other FROM conversations WHERE id = p_conversation;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'masterplan_emit_event: conversation % does not exist', p_conversation
                USING ERRCODE = 'foreign_key_violation';
        END IF;
        IF v_owner IS NULL THEN
            v_owner := v_other;
        ELSIF v_owner <> v_other THEN
            RAISE EXCEPTION 'masterplan_emit_event: owner % does not own conversation %', v_owner, p_conversation
                USING ERRCODE = 'check_violation';
        END IF;
    END IF;

    -- Commit order = id order. Sequence values are handed out at insert, not at commit, so two
    -- concurrent transactions could otherwise commit ids 11 then 10, and a client resuming from
    -- Last-Event-ID 11 would never see 10. This transaction-scoped lock (two-key space 19792 = 'MP',
    -- 1 = events; the single-bigint key space of other advisory locks cannot collide) is held until
    -- commit or rollback, so take it last: call this function as the final statement of a
    -- transaction, after any row locks it needs, to keep the serialised section to the commit itself.
    PERFORM pg_advisory_xact_lock(19792, 1);

    INSERT INTO events (owner_id, plan_id, conversation_id, type, payload)
    VALUES (v_owner, p_plan, p_conversation, p_type, coalesce(p_payload, '{}'::jsonb))
    RETURNING id INTO v_id;

    -- Delivered at commit, never for a rolled-back transaction. Payload: the id only.
    PERFORM pg_notify('masterplan_events', v_id::text);
    RETURN v_id;
END;
$$;

COMMENT ON FUNCTION masterplan_emit_event(uuid, uuid, uuid, text, jsonb) IS
    'Inserts an event and NOTIFYs masterplan_events with its id in the caller''s transaction; returns the id. '
    'p_owner may be NULL when p_plan or p_conversation is given. Call it last in the transaction.';
